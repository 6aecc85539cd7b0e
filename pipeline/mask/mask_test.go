package mask

import (
	"image"
	"image/color"
	"testing"

	"github.com/blindpack/blindpack/pipeline/scan"
)

func TestStoredFollowsOrientationAndPlacement(t *testing.T) {
	// A 100×200 stored image; a mask over the displayed top-left corner.
	r := Rect{0, 0, 0.1, 0.05}
	for _, tc := range []struct {
		o         scan.Orientation
		placement [4]float64
		want      image.Rectangle
	}{
		{1, [4]float64{0, 0, 1, 1}, image.Rect(0, 0, 10, 10)},
		// Turned 90° clockwise for display: the displayed top-left is the
		// stored bottom-left. Displayed 200 wide × 100 high.
		{6, [4]float64{0, 0, 1, 1}, image.Rect(0, 180, 5, 200)},
		{3, [4]float64{0, 0, 1, 1}, image.Rect(90, 190, 100, 200)},
		{8, [4]float64{0, 0, 1, 1}, image.Rect(95, 0, 100, 20)},
		{2, [4]float64{0, 0, 1, 1}, image.Rect(90, 0, 100, 10)},
		// The image fills the right half of the page: a mask on the left
		// half misses it.
		{1, [4]float64{0.5, 0, 1, 1}, image.Rectangle{}},
	} {
		p := &scan.Page{Width: 100, Height: 200, Orientation: tc.o, Placement: tc.placement}
		if got := Stored(p, r); got != tc.want {
			t.Errorf("orientation %d placement %v: %v, want %v", tc.o, tc.placement, got, tc.want)
		}
	}
}

func TestStoredRoundsOutward(t *testing.T) {
	p := &scan.Page{Width: 1000, Height: 1000, Orientation: 1, Placement: [4]float64{0, 0, 1, 1}}
	// 0.1234 × 1000 = 123.4 → pixel 123 is partly covered, so it is masked.
	if got, want := Stored(p, Rect{0.1234, 0.5, 0.2001, 0.6}), image.Rect(123, 500, 201, 600); got != want {
		t.Errorf("%v, want %v", got, want)
	}
}

func TestBurnEveryPixelType(t *testing.T) {
	b := image.Rect(0, 0, 16, 16)
	r := image.Rect(4, 4, 12, 12)
	white := func(img image.Image) image.Image {
		for y := 0; y < 16; y++ {
			for x := 0; x < 16; x++ {
				if s, ok := img.(interface{ Set(int, int, color.Color) }); ok {
					s.Set(x, y, color.White)
				}
			}
		}
		return img
	}
	for name, img := range map[string]image.Image{
		"gray":     white(image.NewGray(b)),
		"gray16":   white(image.NewGray16(b)),
		"rgba":     white(image.NewRGBA(b)),
		"nrgba":    white(image.NewNRGBA(b)),
		"cmyk":     white(image.NewCMYK(b)),
		"ycbcr420": image.NewYCbCr(b, image.YCbCrSubsampleRatio420),
		"paletted": white(image.NewPaletted(b, color.Palette{color.Black, color.White})),
	} {
		t.Run(name, func(t *testing.T) {
			if y, ok := img.(*image.YCbCr); ok {
				for i := range y.Y {
					y.Y[i] = 255
				}
				for i := range y.Cb {
					y.Cb[i], y.Cr[i] = 128, 128
				}
			}
			out := Burn(img, []image.Rectangle{r})
			for y := 0; y < 16; y++ {
				for x := 0; x < 16; x++ {
					rr, g, bb, _ := out.At(x, y).RGBA()
					black := rr < 0x0800 && g < 0x0800 && bb < 0x0800
					if in := image.Pt(x, y).In(r); in != black {
						t.Fatalf("pixel (%d,%d) black=%v, inside mask=%v", x, y, black, in)
					}
				}
			}
		})
	}
}

func TestRectValid(t *testing.T) {
	for _, tc := range []struct {
		r  Rect
		ok bool
	}{
		{Rect{0, 0, 1, 1}, true},
		{Rect{0.2, 0.2, 0.2, 0.3}, false},
		{Rect{0.5, 0.5, 0.4, 0.6}, false},
		{Rect{-0.1, 0, 0.5, 0.5}, false},
		{Rect{0, 0, 1.01, 0.5}, false},
	} {
		if tc.r.Valid() != tc.ok {
			t.Errorf("%v: valid = %v", tc.r, !tc.ok)
		}
	}
}
