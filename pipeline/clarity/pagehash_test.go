package clarity

import (
	"math/rand/v2"
	"testing"
)

// textPage draws a page of w × h grey pixels with lines of "words" (dark
// runs of random length) laid out from seed, as a typed page is.
func textPage(seed uint64, w, h int) []uint8 {
	pix := make([]uint8, w*h)
	for i := range pix {
		pix[i] = 245
	}
	r := rand.New(rand.NewPCG(seed, 1))
	line := h / 40
	for y0 := 3 * line; y0+line < h-3*line; y0 += 2 * line {
		for x := w / 10; x < w*9/10; {
			word := w / 60 * (1 + r.IntN(6))
			for y := y0; y < y0+line; y++ {
				for xx := x; xx < min(x+word, w*9/10); xx++ {
					pix[y*w+xx] = 30
				}
			}
			x += word + w/60
		}
	}
	return pix
}

// half shrinks a page by 2 in each direction.
func half(pix []uint8, w, h int) []uint8 {
	out := make([]uint8, (w/2)*(h/2))
	for y := range h / 2 {
		for x := range w / 2 {
			s := int(pix[2*y*w+2*x]) + int(pix[2*y*w+2*x+1]) + int(pix[(2*y+1)*w+2*x]) + int(pix[(2*y+1)*w+2*x+1])
			out[y*(w/2)+x] = uint8(s / 4)
		}
	}
	return out
}

// turn stores a page a quarter-turn anticlockwise: orientation 6 shows it
// upright again.
func turn(pix []uint8, w, h int) []uint8 {
	out := make([]uint8, w*h) // h wide, w high
	for y := range h {
		for x := range w {
			out[(w-1-x)*h+y] = pix[y*w+x]
		}
	}
	return out
}

// turnedRight is EXIF orientation 6: the stored image is shown turned 90°
// clockwise.
func turnedRight(s, t float64) (u, v float64) { return 1 - t, s }

func TestPageHash(t *testing.T) {
	const w, h = 620, 877
	a, b := textPage(1, w, h), textPage(2, w, h)
	blank := make([]uint8, w*h)
	for i := range blank {
		blank[i] = 240
	}
	ha := pageHash(a, w, h, asStored)
	for _, c := range []struct {
		name string
		h    PageHash
		want bool
	}{
		{"the same page", pageHash(a, w, h, asStored), true},
		{"the same page at half the size", pageHash(half(a, w, h), w/2, h/2, asStored), true},
		{"the same page stored turned, with its orientation", pageHash(turn(a, w, h), h, w, turnedRight), true},
		{"the same page stored turned, orientation ignored", pageHash(turn(a, w, h), h, w, asStored), false},
		{"another page of the same layout", pageHash(b, w, h, asStored), false},
		{"a blank page", pageHash(blank, w, h, asStored), false},
	} {
		if got := ha.Repeats(c.h); got != c.want {
			t.Errorf("%s: repeats %v, want %v", c.name, got, c.want)
		}
	}
	if hb := pageHash(blank, w, h, asStored); hb.Repeats(hb) {
		t.Error("a blank page repeats itself: it has nothing to tell it by")
	}
}

// TestCellSumsNative: the C cell sums are the Go ones, on pages of sizes
// that do and do not divide into the grid, noise included.
func TestCellSumsNative(t *testing.T) {
	if !nativeKernels() {
		t.Skip("no C kernels in this build")
	}
	r := rand.New(rand.NewPCG(7, 7))
	for _, sz := range [][2]int{{97, 83}, {620, 877}, {1240, 1754}, {1753, 1240}} { // textPage needs w ≥ 60, h ≥ 40
		w, h := sz[0], sz[1]
		pix := textPage(uint64(w), w, h)
		for i := range pix {
			pix[i] ^= uint8(r.IntN(8))
		}
		var start [hashGrid + 1]int
		for x := range w {
			start[x*hashGrid/w+1]++
		}
		for cx := range hashGrid {
			start[cx+1] += start[cx]
		}
		var got, want [hashGrid][hashGrid]int
		nativeCellSums(pix, w, h, &start, &got)
		cellSums(pix, w, h, &start, &want)
		if got != want {
			t.Errorf("%d×%d: C cell sums differ from Go's", w, h)
		}
	}
}

// BenchmarkPageHash hashes an A4 page at the working resolution.
func BenchmarkPageHash(b *testing.B) {
	const w, h = 1240, 1754
	pix := textPage(1, w, h)
	for b.Loop() {
		pageHash(pix, w, h, func(s, t float64) (float64, float64) { return s, t })
	}
}
