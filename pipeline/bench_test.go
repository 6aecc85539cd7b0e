package pipeline_test

import (
	"context"
	"image"
	"io"
	"testing"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/mask"
	"github.com/blindpack/blindpack/pipeline/packet"
	"github.com/blindpack/blindpack/pipeline/scan"
	"github.com/blindpack/blindpack/storage/localdir"
	"github.com/blindpack/blindpack/workers"
)

// BenchmarkPage measures what one uploaded A4 page costs on its way into a
// packet at 300 ppi — read, check, decode, mask, write — with and without
// masks: an unmasked JPEG is decoded once (to prove it is whole) and
// embedded as it is; a masked one is also burned and re-encoded.
func BenchmarkPage(b *testing.B) {
	jpg, masks := formPage(b)
	newPipeline(b) // loads the font
	for _, tc := range []struct {
		name  string
		masks []mask.Rect
	}{{"unmasked", nil}, {"masked", masks}} {
		b.Run(tc.name, func(b *testing.B) {
			pb, err := packet.New(io.Discard, packet.Header{AnonCode: "2024-XXXX-XXXX", Campaign: "2024"}, packet.Options{Font: font})
			if err != nil {
				b.Fatal(err)
			}
			pb.BeginMaterial(0, "application_form", "申报表", "application form", 1)
			b.SetBytes(int64(len(jpg)))
			b.ReportAllocs()
			for b.Loop() {
				f, err := scan.Open(jpg, scan.Limits{})
				if err != nil {
					b.Fatal(err)
				}
				page, _ := f.Page(1)
				img, err := page.Decode()
				if err != nil {
					b.Fatal(err)
				}
				if err := pb.AddPage(page, img, tc.masks); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkProcessSample runs the whole pipeline on a committed sample
// (150 ppi, 10 files, 6 packet pages including the cover).
func BenchmarkProcessSample(b *testing.B) {
	p := newPipeline(b)
	dir, sub := sample(b, "eng-intermediate")
	src, err := localdir.New(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	for b.Loop() {
		var out buffer
		rep, err := p.Process(context.Background(), sub, workers.Source(src), &out)
		if err != nil || rep.Status != pipeline.Accepted {
			b.Fatal(err, rep.Findings)
		}
	}
}

// BenchmarkMaskedPage measures, masks and adds to a packet one A4 300-ppi
// application-form page with its name and employer masked, as Process
// does: with the masks burned into the coefficients of the blocks they
// touch (scan.MeasureMaskPage), and in the decoded pixels, the page
// encoded again (scan.MeasureDecodePage, the path of the pages that cannot
// take them so).
func BenchmarkMaskedPage(b *testing.B) {
	jpg, masks := formPage(b)
	newPipeline(b) // loads the font
	for _, way := range []string{"coefficients", "pixels"} {
		b.Run(way, func(b *testing.B) {
			pb, err := packet.New(io.Discard, packet.Header{AnonCode: "2024-XXXX-XXXX", Campaign: "2024"}, packet.Options{Font: font})
			if err != nil {
				b.Fatal(err)
			}
			pb.BeginMaterial(0, "application_form", "申报表", "application form", 1)
			b.SetBytes(int64(len(jpg)))
			for b.Loop() {
				f, err := scan.Open(jpg, scan.Limits{})
				if err != nil {
					b.Fatal(err)
				}
				page, _ := f.Page(1)
				var img image.Image
				burned := false
				if way == "coefficients" {
					if _, burned, err = scan.MeasureMaskPage(page, mask.StoredAll(page, masks)); err != nil || !burned {
						b.Fatalf("not burned in the coefficients: %v", err)
					}
				} else if _, img, err = scan.MeasureDecodePage(page); err != nil {
					b.Fatal(err)
				}
				if err := pb.AddPage(page, img, masks); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// formPage is an A4 300-ppi application-form page as a quality-85 JPEG,
// and the masks of its name and employer.
func formPage(b *testing.B) ([]byte, []mask.Rect) {
	id := synth.Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"}
	pg, err := synth.ApplicationForm(id, 1, synth.Options{PPI: 300})
	if err != nil {
		b.Fatal(err)
	}
	jpg, err := synth.EncodeJPEG(pg.Image, 85)
	if err != nil {
		b.Fatal(err)
	}
	var masks []mask.Rect
	for _, r := range append(pg.Name, pg.Employer...) {
		masks = append(masks, mask.Rect(r))
	}
	return jpg, masks
}
