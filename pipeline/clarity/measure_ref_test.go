package clarity

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// TestMeasureMatchesReference: the measure code, rewritten for speed —
// in Go, and in C where cgo is built in — gives exactly the numbers of the
// code the thresholds were calibrated with (refMeasure), on pages of the
// labelled set and on images made to reach the edge cases.
func TestMeasureMatchesReference(t *testing.T) {
	type tc struct {
		name string
		img  []uint8
		w, h int
	}
	var cases []tc
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func(w, h int) []uint8 {
		b := make([]uint8, w*h)
		for i := range b {
			b[i] = uint8(rng.IntN(256))
		}
		return b
	}
	for _, sz := range [][2]int{{1, 1}, {1, 9}, {2, 2}, {4, 7}, {5, 5}, {17, 33}, {64, 3}, {101, 99}} {
		cases = append(cases, tc{fmt.Sprintf("noise-%dx%d", sz[0], sz[1]), noise(sz[0], sz[1]), sz[0], sz[1]})
	}
	set := synth.ClaritySet()
	step := 13
	if testing.Short() {
		step = 53
	}
	for i := 0; i < len(set); i += step {
		c := set[i]
		data, err := c.Draw()
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		lum := grayPlane(Luminance(img))
		g := make([]uint8, lum.w*lum.h)
		for y := range lum.h {
			copy(g[y*lum.w:(y+1)*lum.w], lum.pix[y*lum.stride:])
		}
		cases = append(cases, tc{c.Name, g, lum.w, lum.h})
	}
	defer jpegcodec.SetPureGo(false)
	for _, pure := range []bool{false, true} {
		jpegcodec.SetPureGo(pure)
		for _, c := range cases {
			t.Run(fmt.Sprintf("pure-go=%v/%s", pure, c.name), func(t *testing.T) {
				var got, want Measures
				new(workBuf).measure(c.img, c.w, c.h, &got)
				new(workBuf).refMeasure(c.img, c.w, c.h, &want)
				if got != want {
					t.Errorf("got  %+v\nwant %+v", got, want)
				}
			})
		}
	}
}

// The measure code as it was before it was made faster, kept to prove the
// faster code gives the same numbers, bit for bit.

func (b *workBuf) refMeasure(img []uint8, w, h int, m *Measures) {
	// Histogram for the global exposure measures.
	var hist [256]int
	for _, v := range img {
		hist[v]++
	}
	n := float64(len(img))
	var sum, dark, white int
	for v, c := range hist {
		sum += v * c
		if v <= 8 {
			dark += c
		}
		if v >= 250 {
			white += c
		}
	}
	m.Mean = float64(sum) / n
	m.DarkPercent = 100 * float64(dark) / n
	m.WhitePercent = 100 * float64(white) / n

	// Everything local is measured on the image smoothed by a 3×3 binomial
	// kernel, which takes the grain of paper and sensor to about a third
	// while thinning no stroke of text at this resolution.
	b.refSmoothen(img, w, h)
	sm := b.smooth8

	// Tiles: darkest and brightest level of each.
	tw, th := (w+tileSize-1)/tileSize, (h+tileSize-1)/tileSize
	b.tiles = grow(b.tiles, tw*th)
	tiles := b.tiles
	for i := range tiles {
		tiles[i] = tile{lo: 255}
	}
	for y := range h {
		row := sm[y*w : (y+1)*w]
		trow := tiles[(y/tileSize)*tw : (y/tileSize+1)*tw]
		for tx := range trow {
			t := &trow[tx]
			lo, hi := t.lo, t.hi
			for _, v := range row[tx*tileSize : min(w, (tx+1)*tileSize)] {
				lo, hi = min(lo, v), max(hi, v)
			}
			t.lo, t.hi = lo, hi
		}
	}
	// The background of a tile is the brightest level within a tile of it:
	// paper shows between the strokes within about 4 mm anywhere on a page
	// of text, even under the uneven light of a phone photo.
	around := func(tx, ty int, f func(*tile)) {
		for dy := max(0, ty-1); dy <= min(th-1, ty+1); dy++ {
			for dx := max(0, tx-1); dx <= min(tw-1, tx+1); dx++ {
				f(&tiles[dy*tw+dx])
			}
		}
	}
	b.bgs = b.bgs[:0]
	for ty := range th {
		for tx := range tw {
			var bg uint8
			around(tx, ty, func(t *tile) { bg = max(bg, t.hi) })
			tiles[ty*tw+tx].bg = bg
			b.bgs = append(b.bgs, bg)
		}
	}
	// The sheet finder works on tiles, the same in both versions.
	sheet := b.findSheet(tiles, tw, th, w, h, m)
	paper := b.sheetPaper(tiles, sheet)
	m.Paper = float64(paper)
	for ty := range th {
		for tx := range tw {
			t := &tiles[ty*tw+tx]
			// Darker than 60% of the paper: the light of one photo does not
			// fall off that much across a sheet, a desk is darker still.
			if 5*int(t.hi) < 3*int(paper) || sheet != nil && !sheet[ty*tw+tx] {
				around(tx, ty, func(t *tile) { t.class = offPage })
			} else if t.class != offPage && int(t.bg)-int(t.lo) >= inkDelta {
				t.class = inkTile
			}
		}
	}

	// Ink coverage, and the level and contrast of the ink tiles.
	var ink int
	for y := range h {
		row := sm[y*w : (y+1)*w]
		trow := tiles[(y/tileSize)*tw : (y/tileSize+1)*tw]
		for tx := range trow {
			t := &trow[tx]
			if t.class != inkTile {
				continue
			}
			cut := t.bg - inkDelta
			for _, v := range row[tx*tileSize : min(w, (tx+1)*tileSize)] {
				if v < cut {
					ink++
				}
			}
		}
	}
	if sheet != nil {
		n = float64(b.sheetArea)
		m.CutOff = cutOff(tiles, sheet, tw, th)
	}
	m.InkPercent = 100 * float64(ink) / n
	b.levels, b.contrasts = b.levels[:0], b.contrasts[:0]
	for _, t := range tiles {
		if t.class == inkTile {
			b.levels = append(b.levels, t.lo)
			b.contrasts = append(b.contrasts, t.bg-t.lo)
		}
	}
	if len(b.levels) == 0 {
		return // blank: there is no text to measure
	}
	m.InkLevel = float64(median(b.levels))
	m.Contrast = float64(median(b.contrasts))
	m.Sharpness = b.refSharpness(w, h, tiles, tw)
}

func (b *workBuf) refSmoothen(img []uint8, w, h int) {
	b.smooth = grow(b.smooth, w*h)
	b.smooth8 = grow(b.smooth8, w*h)
	b.tmp = grow(b.tmp, w)
	s, s8 := b.smooth, b.smooth8
	if w < 2 {
		for i, v := range img {
			s[i], s8[i] = 16*uint16(v), v
		}
		return
	}
	for y := range h {
		up, dn := img[max(0, y-1)*w:], img[min(h-1, y+1)*w:]
		row := img[y*w : (y+1)*w]
		t := b.tmp
		for x := range w {
			t[x] = uint32(up[x]) + 2*uint32(row[x]) + uint32(dn[x])
		}
		out := s[y*w : (y+1)*w]
		out[0] = uint16(3*t[0] + t[1])
		for x := 1; x < w-1; x++ {
			out[x] = uint16(t[x-1] + 2*t[x] + t[x+1])
		}
		out[w-1] = uint16(t[w-2] + 3*t[w-1])
		o8 := s8[y*w : (y+1)*w]
		for x, v := range out {
			o8[x] = uint8((v + 8) >> 4)
		}
	}
}

func (b *workBuf) refSharpness(w, h int, tiles []tile, tw int) float64 {
	if w < 5 || h < 5 {
		return 0
	}
	s := b.smooth
	// Energies per tile class.
	var lap2, grad2, count [3]int64
	for y := 2; y < h-2; y++ {
		trow := tiles[(y/tileSize)*tw:]
		c := s[y*w : (y+1)*w]
		u := s[(y-1)*w : y*w]
		d := s[(y+1)*w : (y+2)*w]
		for tx := 0; tx*tileSize < w; tx++ {
			class := trow[tx].class
			if class == offPage {
				continue
			}
			var l2, g2 int64
			x0, x1 := max(2, tx*tileSize), min(w-2, (tx+1)*tileSize)
			for x := x0; x < x1; x++ {
				l := int64(u[x]) + int64(d[x]) + int64(c[x-1]) + int64(c[x+1]) - 4*int64(c[x])
				gx := int64(c[x+1]) - int64(c[x-1])
				gy := int64(d[x]) - int64(u[x])
				l2 += l * l
				g2 += gx*gx + gy*gy
			}
			lap2[class] += l2
			grad2[class] += g2
			count[class] += int64(max(0, x1-x0))
		}
	}
	l, g := float64(lap2[inkTile]), float64(grad2[inkTile])
	if p := count[paperTile]; p > 0 {
		k := float64(count[inkTile]) / float64(p)
		l -= k * float64(lap2[paperTile])
		g -= k * float64(grad2[paperTile])
	}
	if l <= 0 || g <= 0 {
		return 0
	}
	return 100 * math.Sqrt(l/g)
}
