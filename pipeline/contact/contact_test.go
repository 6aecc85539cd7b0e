package contact_test

import (
	"image"
	"image/color"
	"image/draw"
	"testing"

	"github.com/blindpack/blindpack/pipeline/contact"
)

// TestSheetDrawsHits: an OCR hit's box is drawn in red where it lies on
// the page, and nothing red is drawn on a page without one.
func TestSheetDrawsHits(t *testing.T) {
	page := image.NewRGBA(image.Rect(0, 0, 180, 254))
	draw.Draw(page, page.Bounds(), image.White, image.Point{}, draw.Src)
	isRed := func(c color.Color) bool {
		r := color.RGBAModel.Convert(c).(color.RGBA)
		return r.R > 180 && r.G < 60 && r.B < 60
	}
	reds := func(img image.Image) (n int) {
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if isRed(img.At(x, y)) {
					n++
				}
			}
		}
		return n
	}
	clean := contact.Sheet("t", []contact.Thumb{{Type: "x", Page: 1, Image: page}})
	if n := reds(clean); n != 0 {
		t.Fatalf("%d red pixels on a sheet without hits", n)
	}
	hit := [4]float64{0.1, 0.2, 0.5, 0.3}
	sheet := contact.Sheet("t", []contact.Thumb{{Type: "x", Page: 1, Image: page, Hits: [][4]float64{hit}}})
	// The page is centred in its cell at (12, 42), 180×255: the box's
	// corners, 2-pixel frame just outside.
	x0, y0 := 12+int(hit[0]*180), 42+int(hit[1]*254)
	x1, y1 := 12+int(hit[2]*180), 42+int(hit[3]*254)
	for _, p := range []image.Point{{x0, y0}, {x1, y1}, {x0 - 1, y0 - 1}, {(x0 + x1) / 2, y0}} {
		if !isRed(sheet.At(p.X, p.Y)) {
			t.Errorf("(%d,%d) is %v, want the hit's red frame", p.X, p.Y, sheet.At(p.X, p.Y))
		}
	}
	if c := sheet.At((x0+x1)/2, (y0+y1)/2); isRed(c) {
		t.Error("the box is filled, not outlined: what it hides cannot be judged")
	}
	if n := reds(sheet); n < 2*(x1-x0+y1-y0) {
		t.Errorf("%d red pixels, too few for the frame", n)
	}
}
