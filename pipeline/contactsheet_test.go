package pipeline_test

import (
	"context"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/storage/localdir"
	"github.com/blindpack/blindpack/workers"
)

func TestContactSheetOutlinesFailingPages(t *testing.T) {
	p := newPipeline(t)
	dir, sub := sample(t, "acct-senior")
	// Truncate the degree certificate: that page fails, others pass.
	m := material(sub, "degree_certificate")
	data := read(t, dir, m)
	rewrite(t, dir, m, data[:len(data)/2])
	rep, _ := process(t, p, dir, sub)
	if rep.Status != pipeline.Rejected {
		t.Fatalf("status %s", rep.Status)
	}
	src, _ := localdir.New(dir)
	defer src.Close()
	img, err := p.ContactSheet(context.Background(), sub, workers.Source(src), rep)
	if err != nil {
		t.Fatal(err)
	}
	// One cell per page: 2 + 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 = 12 pages in 6 columns.
	if b := img.Bounds(); b.Dx() < 6*180 || b.Dy() < 2*255 {
		t.Errorf("sheet is %v", b)
	}
	var reds int
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			if c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA); c.R > 180 && c.G < 60 && c.B < 60 {
				reds++
			}
		}
	}
	// A 3-pixel red frame round one ~180×127 thumbnail and its label.
	if reds < 2*3*(180+120) {
		t.Errorf("only %d red pixels: the failing page is not outlined", reds)
	}
	if os.Getenv("BLINDPACK_WRITE_SHEET") != "" {
		f, _ := os.Create(filepath.Join(os.Getenv("BLINDPACK_WRITE_SHEET"), "contact-sheet.png"))
		png.Encode(f, img)
		f.Close()
	}
}

func TestFindingBox(t *testing.T) {
	for _, c := range []struct {
		detail string
		want   [4]float64
		ok     bool
	}{
		{"box [0.1000 0.2000 0.3000 0.2500]", [4]float64{0.1, 0.2, 0.3, 0.25}, true},
		{"", [4]float64{}, false},
		{"box [0.3 0.2 0.1 0.25]", [4]float64{}, false},
		{"box [0.1 0.2 1.3 0.25]", [4]float64{}, false},
		{"measured 3", [4]float64{}, false},
	} {
		got, ok := pipeline.FindingBox(finding.Finding{Detail: c.detail})
		if ok != c.ok || ok && got != c.want {
			t.Errorf("FindingBox(%q) = %v %v", c.detail, got, ok)
		}
	}
}
