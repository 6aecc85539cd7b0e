package pipeline_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

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
