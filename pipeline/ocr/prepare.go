package ocr

import (
	"image"
	"image/draw"
	"math"
)

// ruleLength is the shortest dark run, as a fraction of the page's long
// side, taken for a table rule rather than a stroke: 3.5% is about 10 mm on
// A4, longer than any stroke of text up to 28 pt, shorter than any cell.
const ruleLength = 0.035

// Prepare returns a grey copy of img made easier to read: contrast
// stretched so that paper is white and ink black, the masks painted
// white, and long, thin, straight dark lines (table rules, frames) erased.
//
// All of it serves the one thing the stage looks for. Tesseract's page
// layout analysis takes a ruled table for a picture and reads nothing
// inside it — on the synthetic application form it found the name in no
// mode until the rules were gone — and a solid black mask is a blob it
// tries to interpret too. Painting white on a grey page would be worse
// than nothing (white bars on grey paper made Tesseract read no text at
// all), hence the stretch first. Erasing only removes pixels, so it cannot
// create a name where there was none.
func Prepare(img image.Image, masks []Rect) *image.Gray {
	g := toGray(img)
	b := g.Bounds()
	w, h := b.Dx(), b.Dy()
	if w == 0 || h == 0 {
		return g
	}
	thr := stretch(g)
	long := max(w, h)
	pad := 1 + long/1200 // rule and mask edge halo: 2 px at 150 ppi, 3 at 300
	for _, m := range masks {
		r := image.Rect(
			int(math.Floor(m[0]*float64(w)))-pad, int(math.Floor(m[1]*float64(h)))-pad,
			int(math.Ceil(m[2]*float64(w)))+pad, int(math.Ceil(m[3]*float64(h)))+pad,
		).Add(b.Min).Intersect(b)
		draw.Draw(g, r, image.White, image.Point{}, draw.Src)
	}
	removeRules(g, int(ruleLength*float64(long)), pad, max(3, long/400), thr)
	return g
}

func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch src := img.(type) {
	case *image.Gray:
		for y := range b.Dy() {
			copy(out.Pix[y*out.Stride:y*out.Stride+b.Dx()], src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.YCbCr:
		// Luma is the grey image; no colour conversion needed.
		for y := range b.Dy() {
			copy(out.Pix[y*out.Stride:y*out.Stride+b.Dx()], src.Y[src.YOffset(b.Min.X, b.Min.Y+y):])
		}
	default:
		draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	}
	return out
}

// stretch maps the page's paper level to white and its ink level to
// black, in place, and returns the grey level that now separates them.
// The levels are the medians of the two classes Otsu's threshold splits
// the page into, so that a dim photograph and a bright scan come out
// alike.
func stretch(g *image.Gray) uint8 {
	var hist [256]int
	b := g.Bounds()
	for y := range b.Dy() {
		for _, v := range g.Pix[y*g.Stride : y*g.Stride+b.Dx()] {
			hist[v]++
		}
	}
	t := otsu(&hist)
	ink, paper := medianIn(&hist, 0, t), medianIn(&hist, t+1, 255)
	if paper-ink < 16 {
		return uint8(t) // a blank or uniform page: nothing to stretch
	}
	var lut [256]uint8
	for v := range lut {
		lut[v] = uint8(min(max((v-ink)*255/(paper-ink), 0), 255))
	}
	for y := range b.Dy() {
		row := g.Pix[y*g.Stride : y*g.Stride+b.Dx()]
		for i, v := range row {
			row[i] = lut[v]
		}
	}
	return uint8(min(max((t-ink)*255/(paper-ink), 0), 255))
}

// medianIn is the median grey level of the histogram between lo and hi.
func medianIn(hist *[256]int, lo, hi int) int {
	n := 0
	for v := lo; v <= hi; v++ {
		n += hist[v]
	}
	seen := 0
	for v := lo; v <= hi; v++ {
		seen += hist[v]
		if 2*seen >= n && n > 0 {
			return v
		}
	}
	return (lo + hi) / 2
}

// otsu returns the grey level that best separates ink from paper.
func otsu(hist *[256]int) int {
	total := 0
	var sum float64
	for i, n := range hist {
		total += n
		sum += float64(i * n)
	}
	var sumB, best float64
	wB, level := 0, 128
	for t, n := range hist {
		wB += n
		if wB == 0 {
			continue
		}
		wF := total - wB
		if wF == 0 {
			break
		}
		sumB += float64(t * n)
		mB, mF := sumB/float64(wB), (sum-sumB)/float64(wF)
		if v := float64(wB) * float64(wF) * (mB - mF) * (mB - mF); v > best {
			best, level = v, t
		}
	}
	return level
}

// removeRules whitens every horizontal or vertical run of pixels darker
// than thr that is at least minLen long and thin — the pixels gap away on
// both sides of it mostly light — widened by pad pixels on each side to
// take the line's soft edges with it. The thinness test is what keeps a
// line of blurred text, whose characters run together into long dark runs,
// from being taken for a rule.
func removeRules(g *image.Gray, minLen, pad, gap int, thr uint8) {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	if minLen < 8 {
		return
	}
	at := func(x, y int) uint8 { return g.Pix[y*g.Stride+x] }
	// light reports whether most of the run s..e (exclusive) along a line
	// offset by d is lighter than thr; off the page counts as light.
	lightRow := func(y, s, e int) bool {
		if y < 0 || y >= h {
			return true
		}
		dark := 0
		for x := s; x < e; x++ {
			if at(x, y) <= thr {
				dark++
			}
		}
		return 10*dark <= 3*(e-s)
	}
	lightCol := func(x, s, e int) bool {
		if x < 0 || x >= w {
			return true
		}
		dark := 0
		for y := s; y < e; y++ {
			if at(x, y) <= thr {
				dark++
			}
		}
		return 10*dark <= 3*(e-s)
	}
	erase := make([]bool, w*h)
	for y := range h {
		for x := 0; x < w; {
			if at(x, y) > thr {
				x++
				continue
			}
			s := x
			for x < w && at(x, y) <= thr {
				x++
			}
			if x-s >= minLen && lightRow(y-gap, s, x) && lightRow(y+gap, s, x) {
				for yy := max(y-pad, 0); yy <= min(y+pad, h-1); yy++ {
					for i := s; i < x; i++ {
						erase[yy*w+i] = true
					}
				}
			}
		}
	}
	for x := range w {
		for y := 0; y < h; {
			if at(x, y) > thr {
				y++
				continue
			}
			s := y
			for y < h && at(x, y) <= thr {
				y++
			}
			if y-s >= minLen && lightCol(x-gap, s, y) && lightCol(x+gap, s, y) {
				for i := s; i < y; i++ {
					for xx := max(x-pad, 0); xx <= min(x+pad, w-1); xx++ {
						erase[i*w+xx] = true
					}
				}
			}
		}
	}
	for i, e := range erase {
		if e {
			g.Pix[(i/w)*g.Stride+i%w] = 255
		}
	}
}
