package clarity_test

// Tests of pages read as uploads are read (package scan) and judged by the
// thresholds blindpack ships (package policy): both import this package.

import (
	"fmt"
	"image"
	"slices"
	"testing"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline/clarity"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/pipeline/scan"
)

// TestMeasureDegenerateImages: images too small to hold text, and a white
// page, measure as pages without ink; the white page is blank and nothing
// else.
func TestMeasureDegenerateImages(t *testing.T) {
	white := image.NewGray(image.Rect(0, 0, 1240, 1754))
	for i := range white.Pix {
		white.Pix[i] = 250
	}
	for name, img := range map[string]*image.Gray{
		"1×1":   image.NewGray(image.Rect(0, 0, 1, 1)),
		"3×2":   image.NewGray(image.Rect(0, 0, 3, 2)),
		"empty": image.NewGray(image.Rectangle{}),
		"white": white,
	} {
		t.Run(name, func(t *testing.T) {
			m := clarity.Measure(img, clarity.Source{Page: 1, Width: img.Rect.Dx(), Height: img.Rect.Dy(), PPIX: 150, PPIY: 150,
				ToDisplayed: scan.Orientation(1).ToDisplayed})
			if m.InkPercent != 0 || m.Sharpness != 0 {
				t.Errorf("measures %+v of a page without ink", m)
			}
			if name == "white" {
				errs := clarity.Check(m, policy.Default().Clarity)
				if len(errs) != 1 || errs[0].Code != finding.BlankPage {
					t.Errorf("findings %v, want blank_page alone", errs)
				}
			}
		})
	}
}

// TestDimDeskPhotoIsMeasuredOnTheSheet is the defect of issue 12: a
// readable photo of a page on a desk in dim light was refused as too dark,
// because over the whole frame the desk is most of the "paper". With the
// sheet finder off the photos are too dark again; with it they pass, and
// their paper is the sheet's.
func TestDimDeskPhotoIsMeasuredOnTheSheet(t *testing.T) {
	if testing.Short() {
		t.Skip("draws photos with ImageMagick")
	}
	testenv.Tool(t, "convert")
	var cases []synth.ClarityCase
	for _, c := range synth.PhotoSet() {
		if c.Variant == "desk-dim" {
			cases = append(cases, c)
		}
	}
	if len(cases) == 0 {
		t.Fatal("the photo set has no desk-dim shot")
	}
	defer clarity.SetSheetFinder(true)
	for _, c := range cases {
		data, err := c.Draw()
		if err != nil {
			t.Fatal(err)
		}
		f, err := scan.Open(data, scan.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := f.Page(1)
		img, err := p.Decode()
		if err != nil {
			t.Fatal(err)
		}
		codes := func(on bool) ([]finding.Code, clarity.Measures) {
			clarity.SetSheetFinder(on)
			m := scan.Measure(img, p)
			var out []finding.Code
			for _, fe := range clarity.Check(m, policy.Default().Clarity) {
				out = append(out, fe.Code)
			}
			return out, m
		}
		before, mb := codes(false)
		after, ma := codes(true)
		t.Logf("%s: whole frame paper %.0f %v; sheet (%.0f%% of the frame) paper %.0f %v", c.Name, mb.Paper, before, ma.SheetPercent, ma.Paper, after)
		if !slices.Contains(before, finding.TooDark) {
			t.Errorf("%s: measured over the whole frame it should be too dark (the desk), got %v", c.Name, before)
		}
		if len(after) != 0 || !ma.Photo || ma.Paper <= mb.Paper {
			t.Errorf("%s: measured on the sheet it should pass with brighter paper, got %v (%+v)", c.Name, after, ma)
		}
	}
}

// BenchmarkMeasure measures one page as the pipeline does, from the
// decoded JPEG of a synthetic scan: *image.Gray for a grey scan,
// *image.YCbCr for a colour one.
func BenchmarkMeasure(b *testing.B) {
	for _, ppi := range []int{150, 300} {
		summary, err := synth.PerformanceSummary(synth.Identity{Name: "赵新民", Employer: "新疆天润建设工程有限公司"}, 1, 1, synth.Options{PPI: ppi})
		if err != nil {
			b.Fatal(err)
		}
		page := summary.Image
		rgb := image.NewRGBA(page.Bounds())
		for i, v := range page.Pix {
			rgb.Pix[4*i], rgb.Pix[4*i+1], rgb.Pix[4*i+2], rgb.Pix[4*i+3] = v, v, v/2+120, 255
		}
		for name, img := range map[string]image.Image{"grey": page, "colour": rgb} {
			data, err := synth.EncodeJPEG(img, 85)
			if err != nil {
				b.Fatal(err)
			}
			f, err := scan.Open(data, scan.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			p, _ := f.Page(1)
			dec, err := p.Decode()
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%dppi/%s", ppi, name), func(b *testing.B) {
				for b.Loop() {
					scan.Measure(dec, p)
				}
			})
		}
	}
}
