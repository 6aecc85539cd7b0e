package clarity

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"slices"
	"testing"

	"github.com/blindpack/blindpack/internal/synth"
)

// asStored is the orientation of an image displayed as it is stored.
func asStored(s, t float64) (u, v float64) { return s, t }

// measureAt measures img as page 1, scanned at ppi.
func measureAt(img *image.Gray, ppi float64) Measures {
	return Measure(img, Source{Page: 1, Width: img.Rect.Dx(), Height: img.Rect.Dy(), PPIX: ppi, PPIY: ppi, ToDisplayed: asStored})
}

// gradient is a grey test image whose every row differs.
func gradient(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Pix[y*img.Stride+x] = byte((x*7 + y*3) % 256)
		}
	}
	return img
}

// summaryPage draws the synthetic work summary at ppi.
func summaryPage(t testing.TB, ppi int) *image.Gray {
	t.Helper()
	p, err := synth.PerformanceSummary(synth.Identity{Name: "赵新民", Employer: "新疆天润建设工程有限公司"}, 1, 1, synth.Options{PPI: ppi})
	if err != nil {
		t.Fatal(err)
	}
	return p.Image
}

// lumaTable returns the first quantisation table of a JPEG that image/jpeg
// wrote: its luminance table, 8-bit, in a DQT segment of its own or first
// in one holding both.
func lumaTable(t *testing.T, jpg []byte) *[64]uint16 {
	t.Helper()
	i := bytes.Index(jpg, []byte{0xff, 0xdb})
	if i < 0 || len(jpg) < i+5+64 || jpg[i+4] != 0 {
		t.Fatal("no 8-bit table 0 in the JPEG")
	}
	var q [64]uint16
	for k, v := range jpg[i+5 : i+5+64] {
		q[k] = uint16(v)
	}
	return &q
}

func TestJPEGQuality(t *testing.T) {
	src := gradient(64, 64)
	colour := image.NewRGBA(src.Bounds())
	for i, v := range src.Pix {
		colour.Pix[4*i], colour.Pix[4*i+1], colour.Pix[4*i+2], colour.Pix[4*i+3] = v, 255-v, v/2, 255
	}
	for _, q := range []int{1, 5, 10, 20, 35, 50, 60, 75, 90, 95, 100} {
		for name, img := range map[string]image.Image{"grey": src, "colour": colour} {
			t.Run(fmt.Sprintf("%s/q%d", name, q), func(t *testing.T) {
				var b bytes.Buffer
				if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
					t.Fatal(err)
				}
				if got := JPEGQuality(lumaTable(t, b.Bytes())); got != q {
					t.Errorf("JPEGQuality = %d, want %d", got, q)
				}
			})
		}
	}
	t.Run("no tables", func(t *testing.T) {
		if got := JPEGQuality(nil); got != 0 {
			t.Errorf("JPEGQuality = %d, want 0", got)
		}
	})
}

// TestLaplacianIsSigned: with a clamped Laplacian a light line on dark
// paper and a dark line on light paper would score differently.
func TestLaplacianIsSigned(t *testing.T) {
	const w, h = 64, 64
	stripes := make([]uint8, w*h)
	for y := range h {
		for x := range w {
			if x%9 < 2 {
				stripes[y*w+x] = 30
			} else {
				stripes[y*w+x] = 220
			}
		}
	}
	negative := make([]uint8, len(stripes))
	for i, v := range stripes {
		negative[i] = 250 - v
	}
	score := func(img []uint8) float64 {
		var b workBuf
		b.tmp, b.smooth = make([]uint32, w), make([]uint16, w*h)
		for y := range h {
			smoothRow(img, w, h, y, b.tmp, b.smooth[y*w:])
		}
		tw := (w + tileSize - 1) / tileSize
		tiles := make([]tile, tw*((h+tileSize-1)/tileSize))
		for i := range tiles {
			tiles[i].class = inkTile
		}
		return b.sharpness(w, h, tiles, tw)
	}
	a, b := score(stripes), score(negative)
	if a <= 0 || math.Abs(a-b) > 1e-9 {
		t.Errorf("sharpness %v for dark lines, %v for light lines; want equal and positive", a, b)
	}
}

func TestSharpnessFallsWithBlur(t *testing.T) {
	page := summaryPage(t, 150)
	var scores []float64
	for _, mm := range []float64{0, 0.1, 0.2, 0.3, 0.45} {
		img := synth.GaussianBlur(page, mm*150/25.4)
		scores = append(scores, measureAt(img, 150).Sharpness)
	}
	if !slices.IsSortedFunc(scores, func(a, b float64) int { return -cmpFloat(a, b) }) || scores[0] == scores[len(scores)-1] {
		t.Errorf("sharpness by blur 0, 0.1, 0.2, 0.3, 0.45 mm: %.1f; want it falling", scores)
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestMeasuresDoNotDependOnResolution: the same paper blurred by the same
// amount, scanned at 150 and at 300 ppi, measures alike.
func TestMeasuresDoNotDependOnResolution(t *testing.T) {
	for _, mm := range []float64{0.15, 0.35} {
		t.Run(fmt.Sprintf("blur %.2f mm", mm), func(t *testing.T) {
			var ms []Measures
			for _, ppi := range []int{150, 300} {
				img := synth.GaussianBlur(summaryPage(t, ppi), mm*float64(ppi)/25.4)
				ms = append(ms, measureAt(img, float64(ppi)))
			}
			lo, hi := ms[0], ms[1]
			if r := hi.Sharpness / lo.Sharpness; r < 0.9 || r > 1.15 {
				t.Errorf("sharpness %.1f at 150 ppi, %.1f at 300", lo.Sharpness, hi.Sharpness)
			}
			if d := math.Abs(hi.Contrast - lo.Contrast); d > 15 {
				t.Errorf("contrast %.0f at 150 ppi, %.0f at 300", lo.Contrast, hi.Contrast)
			}
			if r := hi.InkPercent / lo.InkPercent; r < 0.8 || r > 1.25 {
				t.Errorf("ink %.2f%% at 150 ppi, %.2f%% at 300", lo.InkPercent, hi.InkPercent)
			}
		})
	}
}

// TestLuminanceOfEveryImageType: every type Decode returns reads as the
// same grey page; transparent pixels read as white paper.
func TestLuminanceOfEveryImageType(t *testing.T) {
	g := gradient(40, 30)
	b := g.Bounds()
	rgba, nrgba, alpha := image.NewRGBA(b), image.NewNRGBA(b), image.NewNRGBA(b)
	g16, cmyk := image.NewGray16(b), image.NewCMYK(b)
	ycc := image.NewYCbCr(b, image.YCbCrSubsampleRatio420)
	var pal color.Palette
	for v := range 256 {
		pal = append(pal, color.Gray{uint8(v)})
	}
	paletted := image.NewPaletted(b, pal)
	for i, v := range g.Pix {
		copy(rgba.Pix[4*i:], []uint8{v, v, v, 255})
		copy(nrgba.Pix[4*i:], []uint8{v, v, v, 255})
		copy(alpha.Pix[4*i:], []uint8{0, 0, 0, 255 - v}) // black ink, paper transparent
		g16.Pix[2*i], g16.Pix[2*i+1] = v, v
		copy(cmyk.Pix[4*i:], []uint8{0, 0, 0, 255 - v})
		ycc.Y[i] = v
		paletted.Pix[i] = v
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = 128, 128
	}
	sub := image.NewGray(image.Rect(0, 0, 50, 40))
	for y := range 30 {
		copy(sub.Pix[(y+10)*50+10:], g.Pix[y*40:(y+1)*40])
	}
	for name, img := range map[string]image.Image{
		"Gray": g, "RGBA": rgba, "NRGBA": nrgba, "NRGBA with alpha": alpha, "Gray16": g16, "CMYK": cmyk,
		"YCbCr": ycc, "Paletted": paletted, "sub-image": sub.SubImage(image.Rect(10, 10, 50, 40)),
		"generic": image.NewUniform(color.Gray{0}),
	} {
		t.Run(name, func(t *testing.T) {
			if name == "generic" {
				img = &bounded{img, b}
			}
			l := grayPlane(Luminance(img))
			if l.w != 40 || l.h != 30 {
				t.Fatalf("plane %d×%d", l.w, l.h)
			}
			for y := range l.h {
				for x := range l.w {
					want := g.Pix[y*40+x]
					if name == "generic" {
						want = 0
					}
					if got := l.pix[y*l.stride+x]; absDiff(got, want) > 1 {
						t.Fatalf("(%d,%d) = %d, want %d", x, y, got, want)
					}
				}
			}
		})
	}
}

// bounded gives an image of an unusual type finite bounds.
type bounded struct {
	image.Image
	b image.Rectangle
}

func (b *bounded) Bounds() image.Rectangle { return b.b }

func absDiff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}
