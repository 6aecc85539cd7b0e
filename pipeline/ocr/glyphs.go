package ocr

import (
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"sync"

	"golang.org/x/image/vector"

	"github.com/blindpack/blindpack/internal/pdfkit"
)

// FontFile is one typeface the screen draws an identity's characters in:
// a TrueType file, and the member of a collection.
type FontFile struct {
	Path  string
	Index int
}

// ScreenFonts are the typefaces of the screen's character templates: Hei
// (WenQuanYi Zen Hei, the packets' own font), Ming/Song (AR PL UMing) and
// Kai (AR PL UKai) — Debian packages fonts-wqy-zenhei, fonts-arphic-uming
// and fonts-arphic-ukai. No free FangSong is packaged; FangSong is a
// slender Song and the Ming templates stand in for it. A missing file is
// skipped; with none at all the screen cannot run and every page is read
// in full.
var ScreenFonts = []FontFile{
	{"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0},
	{"/usr/share/fonts/truetype/arphic/uming.ttc", 0},
	{"/usr/share/fonts/truetype/arphic/ukai.ttc", 0},
}

// cell is the side, in samples, of the square a character is compared in:
// 32×32, blurred, keeps a character's strokes and loses most of what
// distinguishes one typeface from another (16×16 alone did not separate
// the identity's characters from the rest of a page, README).
const cell = 32

// vec is a character's shape: cell×cell ink levels, blurred, mean
// removed and scaled to unit length, so that the dot product of two is
// their normalised correlation.
type vec [cell * cell]float32

// screenFont is one loaded typeface and its reference line: the top and
// bottom, in ems above the baseline, of the ink of a line of ordinary
// characters, which is what the screen measures on the page as a line's
// height.
type screenFont struct {
	f           *pdfkit.Font
	top, bottom float64
}

var (
	fontsOnce   sync.Once
	fontsLoaded []screenFont
	fontsErr    error
)

// refLine are ordinary characters whose ink together spans a line's
// height in any typeface.
const refLine = "国中的工有限公司单位姓名"

func screenFonts() ([]screenFont, error) {
	fontsOnce.Do(func() {
		for _, ff := range ScreenFonts {
			f, err := pdfkit.LoadFont(ff.Path, ff.Index)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				fontsErr = fmt.Errorf("ocr: screen font: %w", err)
				return
			}
			sf := screenFont{f: f, top: math.Inf(-1), bottom: math.Inf(1)}
			for _, r := range refLine {
				o, err := f.Outline(r)
				if err != nil {
					continue
				}
				x0, y0, x1, y1 := outlineBounds(o)
				if x1 > x0 {
					sf.top, sf.bottom = max(sf.top, y1), min(sf.bottom, y0)
				}
			}
			if sf.top > sf.bottom {
				fontsLoaded = append(fontsLoaded, sf)
			}
		}
		if len(fontsLoaded) == 0 && fontsErr == nil {
			fontsErr = fmt.Errorf("%w: no screen font (apt-get install fonts-wqy-zenhei fonts-arphic-uming)", ErrToolMissing)
		}
	})
	return fontsLoaded, fontsErr
}

func outlineBounds(o pdfkit.GlyphOutline) (x0, y0, x1, y1 float64) {
	x0, y0, x1, y1 = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, c := range o.Contours {
		for _, p := range c {
			x0, x1 = min(x0, p.X), max(x1, p.X)
			y0, y1 = min(y0, p.Y), max(y1, p.Y)
		}
	}
	return
}

// templates draws r in sf the way the screen samples a page: a square
// as high as the font's reference line, centred on the character's ink;
// and the same moved a sample up and a sample down, since a line's ink
// may reach a little higher or lower than the reference. ok is false when
// the font has no such character or it has no ink.
func (sf screenFont) templates(r rune) (vs []vec, ok bool) {
	o, err := sf.f.Outline(r)
	if err != nil {
		return nil, false
	}
	x0, _, x1, _ := outlineBounds(o)
	if !(x1 > x0) {
		return nil, false
	}
	const super = 4
	side := float64(cell * super)
	h := sf.top - sf.bottom
	cx := (x0 + x1) / 2
	sc := side / h
	tx := func(x float64) float32 { return float32((x-cx)*sc + side/2) }
	ty := func(y float64) float32 { return float32((sf.top - y) * sc) }
	ras := vector.NewRasterizer(cell*super, cell*super)
	drawOutline(ras, o, tx, ty)
	a := image.NewAlpha(image.Rect(0, 0, cell*super, cell*super))
	ras.Draw(a, a.Bounds(), image.Opaque, image.Point{})
	var raw [cell * cell]float32
	for y := range cell * super {
		for x := range cell * super {
			raw[(y/super)*cell+x/super] += float32(a.Pix[y*a.Stride+x]) / (255 * super * super)
		}
	}
	vs = append(vs, finish(&raw))
	return vs, true
}

// drawOutline adds a glyph's contours to ras, through tx and ty from ems
// to pixels.
func drawOutline(ras *vector.Rasterizer, o pdfkit.GlyphOutline, tx, ty func(float64) float32) {
	o.Walk(
		func(x, y float64) { ras.MoveTo(tx(x), ty(y)) },
		func(x, y float64) { ras.LineTo(tx(x), ty(y)) },
		func(cx, cy, x, y float64) { ras.QuadTo(tx(cx), ty(cy), tx(x), ty(y)) })
	ras.ClosePath()
}

// finish blurs raw ink levels with a [1 2 1] kernel each way — a stroke a
// sample off still correlates — then removes the mean and scales to unit
// length.
func finish(raw *[cell * cell]float32) vec {
	var tmp, out [cell * cell]float32
	k := func(a []float32, i, stride, n int) float32 {
		s := 2 * a[i]
		w := float32(2)
		if n > 0 {
			s += a[i-stride]
			w++
		}
		if n < cell-1 {
			s += a[i+stride]
			w++
		}
		return s / w
	}
	for y := range cell {
		for x := range cell {
			tmp[y*cell+x] = k(raw[:], y*cell+x, 1, x)
		}
	}
	for y := range cell {
		for x := range cell {
			out[y*cell+x] = k(tmp[:], y*cell+x, cell, y)
		}
	}
	mean := sum8(&out) / (cell * cell)
	for i := range out {
		out[i] -= mean
	}
	norm := sumSquares8(&out)
	var v vec
	if norm == 0 {
		return v
	}
	inv := float32(1 / math.Sqrt(norm))
	for i := range out {
		v[i] = out[i] * inv
	}
	return v
}

// sum8 is the sum of a's values in eight running sums, as dot keeps
// them: a chain of additions one after another is what made finish slow.
func sum8(a *[cell * cell]float32) float32 {
	var s [8]float32
	for i := 0; i < len(a); i += 8 {
		for j := range s {
			s[j] += a[i+j]
		}
	}
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
}

// sumSquares8 is the sum of the squares of a's values, in float64, in
// eight running sums.
func sumSquares8(a *[cell * cell]float32) float64 {
	var s [8]float64
	for i := 0; i < len(a); i += 8 {
		for j := range s {
			s[j] += float64(a[i+j]) * float64(a[i+j])
		}
	}
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
}

// dot keeps eight running sums, as the C kernel does (screen_cgo.go):
// it is the screen's inner loop.
func dot(a, b *vec) float32 { return dot8(a[:], b[:]) }

// dot8 is the dot product of a and b, of the same length, a multiple of
// eight, in eight running sums.
func dot8(a, b []float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	for len(a) >= 8 && len(b) >= 8 {
		s0 += a[0] * b[0]
		s1 += a[1] * b[1]
		s2 += a[2] * b[2]
		s3 += a[3] * b[3]
		s4 += a[4] * b[4]
		s5 += a[5] * b[5]
		s6 += a[6] * b[6]
		s7 += a[7] * b[7]
		a, b = a[8:], b[8:]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}
