package pipeline_test

import (
	"context"
	"errors"
	"image"
	"image/color"
	"testing"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/scan"
)

// TestDisplayPages draws the pages of a sample for the console: one image
// per page, fitted, with the masks outlined in blue and not burned; a file
// that cannot be read gives one page with its problem.
func TestDisplayPages(t *testing.T) {
	dir, sub := sample(t, "eng-intermediate")
	// The degree certificate is truncated: it cannot be read.
	m := material(sub, "degree_certificate")
	rewrite(t, dir, m, read(t, dir, m)[:200])
	src := dirSource(t, dir)
	ctx := context.Background()
	size := image.Pt(220, 311)

	pages, err := pipeline.DisplayPages(ctx, sub, src, scan.Limits{}, size)
	if err != nil {
		t.Fatal(err)
	}
	// The application form has two pages, every other file one.
	if want := len(sub.Materials) + 1; len(pages) != want {
		t.Fatalf("%d pages, want %d", len(pages), len(sub.Materials)+1)
	}
	for _, p := range pages {
		t.Run(p.Type, func(t *testing.T) {
			if p.Type == "degree_certificate" {
				if p.Image != nil || p.Problem == "" {
					t.Fatalf("unreadable file drawn: %v %s", p.Image != nil, p.Problem)
				}
				return
			}
			if p.Image == nil {
				t.Fatalf("page %d: %s", p.Page, p.Problem)
			}
			if b := p.Image.Bounds(); b.Dx() > size.X || b.Dy() > size.Y || (b.Dx() != size.X && b.Dy() != size.Y) {
				t.Errorf("page %d is %v, want to fit %v", p.Page, b, size)
			}
		})
	}

	for _, tc := range []struct {
		name           string
		material, page int
		err            error
		masked         bool
	}{
		{"form p1, masked", 0, 1, nil, true},
		{"summary p1, masked", 1, 1, nil, true},
		{"form p3: no such page", 0, 3, pipeline.ErrNoPage, false},
		{"no such material", 99, 1, pipeline.ErrNoPage, false},
		{"page 0", 0, 0, pipeline.ErrNoPage, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dp, err := pipeline.DisplayPage(ctx, sub, src, scan.Limits{}, image.Pt(1240, 1754), tc.material, tc.page)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			b := dp.Image.Bounds()
			if b.Dx() != 1240 && b.Dy() != 1754 {
				t.Errorf("large page is %v", b)
			}
			// The first mask's top edge is drawn blue; inside it, the
			// original is still there (not burned black).
			mk := sub.Materials[tc.material].Masks[0].Rect
			x, y := int((mk[0]+mk[2])/2*float64(b.Dx())), int(mk[1]*float64(b.Dy()))
			blue := false
			for dy := -4; dy <= 4; dy++ {
				c := color.RGBAModel.Convert(dp.Image.At(x, y+dy)).(color.RGBA)
				blue = blue || c.B > 150 && c.R < 80
			}
			if blue != tc.masked {
				t.Errorf("mask outline at (%d,%d): %v", x, y, blue)
			}
			var dark, n int
			for yy := int(mk[1]*float64(b.Dy())) + 6; yy < int(mk[3]*float64(b.Dy()))-6; yy++ {
				for xx := int(mk[0]*float64(b.Dx())) + 6; xx < int(mk[2]*float64(b.Dx()))-6; xx++ {
					if c := color.GrayModel.Convert(dp.Image.At(xx, yy)).(color.Gray); c.Y < 64 {
						dark++
					}
					n++
				}
			}
			if n == 0 || dark*10 > n*9 {
				t.Errorf("under the mask %d of %d pixels are dark: burned, not outlined", dark, n)
			}
		})
	}
	if _, err := pipeline.DisplayPages(canceled(), sub, src, scan.Limits{}, size); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
