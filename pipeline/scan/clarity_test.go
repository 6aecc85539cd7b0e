package scan

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
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/policy"
)

// a4Page is the page of an A4 image file of w × h pixels.
func a4Page(w, h int) *Page {
	p := &Page{Number: 1, Width: w, Height: h, Orientation: 1, Placement: [4]float64{0, 0, 1, 1}}
	p.WidthPt, p.HeightPt = fitA4(w, h)
	return p
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
				_, info, err := StripJPEG(b.Bytes())
				if err != nil {
					t.Fatal(err)
				}
				if got := JPEGQuality(info); got != q {
					t.Errorf("JPEGQuality = %d, want %d", got, q)
				}
			})
		}
	}
	t.Run("no tables", func(t *testing.T) {
		if got := JPEGQuality(JPEGInfo{}); got != 0 {
			t.Errorf("JPEGQuality = %d, want 0", got)
		}
	})
}

func TestEffectiveResolution(t *testing.T) {
	for _, tc := range []struct {
		name string
		page *Page
		w, h int
		want float64
	}{
		{"A4 image at 150 ppi", a4Page(1240, 1754), 1240, 1754, 150},
		{"A4 image at 300 ppi", a4Page(2480, 3508), 2480, 3508, 300},
		{"landscape image", a4Page(1754, 1240), 1754, 1240, 150},
		// Stored sideways, shown upright: the stored width spans the page's height.
		{"turned by EXIF", &Page{Width: 1754, Height: 1240, Orientation: 6, Placement: [4]float64{0, 0, 1, 1}, WidthPt: a4Short, HeightPt: a4Long}, 1754, 1240, 150},
		// A PDF page whose image covers its left half only: twice the pixels per inch across, the same down.
		{"half-width placement", &Page{Width: 1240, Height: 1754, Orientation: 1, Placement: [4]float64{0, 0, 0.5, 1}, WidthPt: a4Short, HeightPt: a4Long}, 1240, 1754, 150},
		{"thinner along one axis", &Page{Width: 1240, Height: 1000, Orientation: 1, Placement: [4]float64{0, 0, 1, 1}, WidthPt: a4Short, HeightPt: a4Long}, 1240, 1000, 1000 / (a4Long / 72)},
		{"no page size: A4 assumed", &Page{Width: 620, Height: 877, Orientation: 1}, 620, 877, 75},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := image.NewGray(image.Rect(0, 0, tc.w, tc.h))
			m := Measure(img, tc.page)
			if math.Abs(m.PPI-tc.want) > 0.5 {
				t.Errorf("PPI = %.2f, want %.2f", m.PPI, tc.want)
			}
		})
	}
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
		m := Measure(img, a4Page(img.Rect.Dx(), img.Rect.Dy()))
		scores = append(scores, m.Sharpness)
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
				ms = append(ms, Measure(img, a4Page(img.Rect.Dx(), img.Rect.Dy())))
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
			l := luminance(img)
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
			m := Measure(img, a4Page(max(1, img.Rect.Dx()), max(1, img.Rect.Dy())))
			if m.InkPercent != 0 || m.Sharpness != 0 {
				t.Errorf("measures %+v of a page without ink", m)
			}
			if name == "white" {
				errs := Check(m, policy.Default().Clarity)
				if len(errs) != 1 || errs[0].Code != finding.BlankPage {
					t.Errorf("findings %v, want blank_page alone", errs)
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	th := policy.Clarity{MinPPI: 100, MinSharpness: 31, MinPaper: 100, MaxInkLevel: 200, MinContrast: 45, MinInkPercent: 0.05, MinJPEGQuality: 20}
	good := Measures{Page: 3, PPI: 150, Sharpness: 50, Paper: 245, InkLevel: 90, Contrast: 150, InkPercent: 8, JPEGQuality: 85}
	with := func(f func(*Measures)) Measures { m := good; f(&m); return m }
	for _, tc := range []struct {
		name string
		m    Measures
		t    policy.Clarity
		want []finding.Code
	}{
		{"clear", good, th, nil},
		{"PNG has no JPEG quality", with(func(m *Measures) { m.JPEGQuality = 0 }), th, nil},
		{"blank, and so everything else", with(func(m *Measures) { m.InkPercent, m.Sharpness, m.Contrast, m.PPI = 0.01, 0, 0, 50 }), th, []finding.Code{finding.BlankPage}},
		{"low resolution looks blurred too", with(func(m *Measures) { m.PPI, m.Sharpness = 72, 25 }), th, []finding.Code{finding.LowResolution}},
		{"compressed", with(func(m *Measures) { m.JPEGQuality = 8 }), th, []finding.Code{finding.HeavyCompression}},
		{"blurry, with the faded strokes blur makes", with(func(m *Measures) { m.Sharpness, m.InkLevel, m.Contrast = 20, 210, 40 }), th, []finding.Code{finding.Blurry}},
		{"dark, with the contrast darkness takes", with(func(m *Measures) { m.Paper, m.Contrast = 60, 40 }), th, []finding.Code{finding.TooDark}},
		{"washed out", with(func(m *Measures) { m.InkLevel, m.Contrast = 220, 30 }), th, []finding.Code{finding.Overexposed}},
		{"foggy", with(func(m *Measures) { m.Contrast = 30 }), th, []finding.Code{finding.LowContrast}},
		{"independent causes each reported", with(func(m *Measures) { m.JPEGQuality, m.Sharpness, m.Paper = 8, 20, 60 }), th,
			[]finding.Code{finding.HeavyCompression, finding.Blurry, finding.TooDark}},
		{"zero thresholds turn checks off", with(func(m *Measures) { m.Sharpness, m.InkPercent = 1, 0 }), policy.Clarity{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []finding.Code
			for _, e := range Check(tc.m, tc.t) {
				got = append(got, e.Code)
				if e.Page != tc.m.Page || e.Measured == nil || e.Threshold == nil {
					t.Errorf("%s: page %d, measured %v, threshold %v", e.Code, e.Page, e.Measured, e.Threshold)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("codes %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("numbers", func(t *testing.T) {
		errs := Check(with(func(m *Measures) { m.Sharpness = 27.3456 }), th)
		if len(errs) != 1 || errs[0].Measured.String() != "27.3" || errs[0].Threshold.String() != "31" {
			t.Fatalf("errs %v", errs)
		}
		f := finding.New(errs[0].Code, finding.Args{MaterialZH: "工作总结", MaterialEN: "summary of professional work", Page: 3,
			Measured: errs[0].Measured, Threshold: errs[0].Threshold})
		if f.MessageZH != "工作总结第3页图像模糊（清晰度 27.3，需 ≥ 31），请放平材料、对准焦点、保持稳定后重新扫描或拍摄。" {
			t.Errorf("message %q", f.MessageZH)
		}
	})
}

// BenchmarkMeasure measures one page as the pipeline does, from the
// decoded JPEG of a synthetic scan: *image.Gray for a grey scan,
// *image.YCbCr for a colour one.
func BenchmarkMeasure(b *testing.B) {
	for _, ppi := range []int{150, 300} {
		page := summaryPage(b, ppi)
		rgb := image.NewRGBA(page.Bounds())
		for i, v := range page.Pix {
			rgb.Pix[4*i], rgb.Pix[4*i+1], rgb.Pix[4*i+2], rgb.Pix[4*i+3] = v, v, v/2+120, 255
		}
		for name, img := range map[string]image.Image{"grey": page, "colour": rgb} {
			data, err := synth.EncodeJPEG(img, 85)
			if err != nil {
				b.Fatal(err)
			}
			f, err := Open(data, Limits{})
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
					Measure(dec, p)
				}
			})
		}
	}
}
