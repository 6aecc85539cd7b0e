package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"slices"
	"testing"
	"time"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
)

// TestUnclearPagesAreReturned: a page that fails a clarity check rejects
// the submission with a finding that names the material and page, quotes
// the measured value and the threshold, and builds no packet.
func TestUnclearPagesAreReturned(t *testing.T) {
	p := newPipeline(t)
	for _, tc := range []struct {
		name    string
		typ     string
		degrade func(*image.Gray) *image.Gray
		want    finding.Code
	}{
		{"blurred summary", "performance_summary", func(g *image.Gray) *image.Gray {
			return synth.GaussianBlur(g, 0.4*150/25.4)
		}, finding.Blurry},
		{"blank recommendation, for administrators only", "recommendation_opinion", func(g *image.Gray) *image.Gray {
			for i := range g.Pix {
				g.Pix[i] = 246
			}
			return g
		}, finding.BlankPage},
		{"dark title certificate", "current_title_certificate", func(g *image.Gray) *image.Gray {
			for i, v := range g.Pix {
				g.Pix[i] = v / 4
			}
			return g
		}, finding.TooDark},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, sub := sample(t, "eng-intermediate")
			m := material(sub, tc.typ)
			img, err := jpeg.Decode(bytes.NewReader(read(t, dir, m)))
			if err != nil {
				t.Fatal(err)
			}
			grey, ok := img.(*image.Gray)
			if !ok {
				t.Fatalf("sample %s decodes to %T", m.File, img)
			}
			data, err := synth.EncodeJPEG(tc.degrade(grey), 85)
			if err != nil {
				t.Fatal(err)
			}
			rewrite(t, dir, m, data)
			rep, _ := process(t, p, dir, sub)
			if rep.Status != pipeline.Rejected || rep.Packet != nil {
				t.Fatalf("status %s, packet %v", rep.Status, rep.Packet)
			}
			if len(rep.Findings) != 1 {
				t.Fatalf("findings %+v, want one", rep.Findings)
			}
			f := rep.Findings[0]
			if f.Code != tc.want || f.Type != tc.typ || f.Page != 1 || f.Measured == nil || f.Threshold == nil {
				t.Fatalf("finding %+v", f)
			}
			for _, msg := range []string{f.MessageZH, f.MessageEN} {
				if !bytes.Contains([]byte(msg), []byte(f.Measured.String())) || !bytes.Contains([]byte(msg), []byte(f.Threshold.String())) {
					t.Errorf("message %q does not quote %s and %s", msg, f.Measured, f.Threshold)
				}
			}
		})
	}
}

// TestOverrideAcceptsAFlaggedPage: an administrator's override lets a page
// the clarity check rejects into the packet, and the report says who, why
// and what was set aside; an override does not excuse a file that cannot
// be read.
func TestOverrideAcceptsAFlaggedPage(t *testing.T) {
	p := newPipeline(t)
	dir, sub := sample(t, "eng-intermediate")
	m := material(sub, "performance_summary")
	img, _ := jpeg.Decode(bytes.NewReader(read(t, dir, m)))
	data, _ := synth.EncodeJPEG(synth.GaussianBlur(img.(*image.Gray), 0.4*150/25.4), 85)
	rewrite(t, dir, m, data)
	if rep, _ := process(t, p, dir, sub); rep.Status != pipeline.Rejected {
		t.Fatalf("blurred page accepted without an override: %s", rep.Status)
	}
	idx := slices.IndexFunc(sub.Materials, func(x pipeline.Material) bool { return x.Type == "performance_summary" })
	ov := pipeline.Override{Material: idx, Page: 1, Reason: "读得清，签字处模糊不影响评审", By: "admin:wang.li", At: time.Date(2024, 10, 2, 9, 0, 0, 0, time.UTC)}
	var out buffer
	rep, err := p.ProcessWith(context.Background(), sub, dirSource(t, dir), &out, pipeline.Options{Overrides: []pipeline.Override{ov}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != pipeline.Accepted {
		t.Fatalf("status %s, findings %+v", rep.Status, rep.Findings)
	}
	if len(rep.Overrides) != 1 || rep.Overrides[0].By != ov.By || !slices.Contains(rep.Overrides[0].Codes, finding.Blurry) {
		t.Errorf("report overrides %+v", rep.Overrides)
	}
	// Overrides must name a page, a person and a reason.
	for _, bad := range []pipeline.Override{{Material: idx, Page: 1, By: "x"}, {Material: idx, Page: 1, Reason: "r"}, {Material: 99, Page: 1, Reason: "r", By: "x"}} {
		if _, err := p.ProcessWith(context.Background(), sub, dirSource(t, dir), &buffer{}, pipeline.Options{Overrides: []pipeline.Override{bad}}); !errors.Is(err, pipeline.ErrBadOverride) {
			t.Errorf("override %+v: err %v", bad, err)
		}
	}
	// A truncated file stays rejected whatever an administrator says.
	rewrite(t, dir, m, data[:len(data)/3])
	rep, err = p.ProcessWith(context.Background(), sub, dirSource(t, dir), &buffer{}, pipeline.Options{Overrides: []pipeline.Override{ov}})
	if err != nil || rep.Status != pipeline.Rejected {
		t.Fatalf("corrupt page with override: %v %s", err, rep.Status)
	}
}
