package clarity

import (
	"image"
	"image/color"
	"math"
	"sync"
)

// Measures are what the clarity check knows of one page. Every measure is
// taken on luminance resampled to WorkingPPI, so that one threshold means
// the same thing for a 150-ppi scan and a 600-ppi phone photo.
type Measures struct {
	// Page is the page number the measures are of.
	Page int
	// PPI is the effective resolution: image pixels per inch of the page's
	// physical size, along whichever axis has fewer (see Source).
	PPI float64
	// Sharpness is 100 × sqrt(Σ lap² / Σ |∇|²) over the tiles that hold
	// ink, where lap is the Laplacian and ∇ the gradient of the lightly
	// smoothed luminance. For an edge blurred by a Gaussian of σ pixels the
	// ratio is 1/(8σ²), so the score falls as 1/σ: it measures how wide
	// edges are, whatever their contrast and however much text there is.
	Sharpness float64
	// Mean is the mean luminance, 0 (black) to 255 (white).
	Mean float64
	// Paper is the brightness of the paper: the median over tiles of the
	// local background (the brightest level near the tile).
	Paper float64
	// InkLevel is how dark the text is: the median over ink tiles of the
	// darkest level in the tile. Faded, washed-out text has a high level.
	InkLevel float64
	// Contrast is the median over ink tiles of local background minus the
	// darkest level in the tile: how far text stands out of its paper.
	Contrast float64
	// InkPercent is the share of the page, in percent, that is darker than
	// its local background by at least inkDelta levels.
	InkPercent float64
	// DarkPercent and WhitePercent are the shares of pixels, in percent,
	// clipped to black (≤ 8) and to white (≥ 250). They are reported, not
	// judged: a scanner's automatic levels clip the paper of every good scan
	// to white, and black borders around a small document do not make it
	// harder to read.
	DarkPercent, WhitePercent float64
	// JPEGQuality is the IJG quality factor (1–100) that best explains the
	// JPEG's luminance quantisation table, 0 when the page is not a JPEG.
	JPEGQuality int
	// Photo is true when the page is a photographed sheet with the desk
	// around it (see sheet.go): every measure but PPI, Mean, DarkPercent and
	// WhitePercent is then taken on the sheet alone. SheetPercent is the
	// sheet's share of the frame.
	Photo        bool
	SheetPercent float64
	// Skew is how far, in degrees, the edges of a photographed sheet turn
	// from the frame's axes: perspective and a tilted phone. 0 for scans.
	Skew float64
	// CutOff is the share, in percent, of a photographed sheet's outline
	// along which writing runs off the edge of the photo. 0 for scans.
	CutOff float64
	// Hash tells a page that repeats another (see PageHash). It is taken
	// on the whole image, as displayed.
	Hash PageHash
}

// WorkingPPI is the resolution every page is resampled to before it is
// measured: enough to keep the strokes of 10.5-pt Chinese text apart, and
// cheap — a quarter of the pixels of a 300-ppi scan.
const WorkingPPI = 150

const (
	// maxWorkPixels bounds the working image: A2 at WorkingPPI.
	maxWorkPixels = 9e6
	// tileSize is the side of a tile in working pixels, 2.7 mm: about
	// two-thirds of a character of body text, so that a tile on a line of
	// text nearly always holds some strokes.
	tileSize = 16
	// inkDelta is how much darker than its background a pixel must be to
	// count as ink: well above the grain of paper and sensor noise and
	// above the show-through of the other side of a thin sheet (about 10–15
	// levels), well below faded text.
	inkDelta = 24
)

// Source describes the stored image a luminance plane was decoded from:
// what the measures need to know of it besides its pixels.
type Source struct {
	// Page is the page number, copied into Measures.Page.
	Page int
	// Width and Height are the stored image's size in pixels. The plane
	// measured may be smaller: a JPEG's luminance decoded at a reduced
	// scale.
	Width, Height int
	// PPIX and PPIY are the stored image's resolution, in pixels per inch
	// of the page, along its x and y axes. An image file has no reliable
	// physical size: the reader takes it to be A4.
	PPIX, PPIY float64
	// LumaTable is a JPEG's luminance quantisation table, in the zigzag
	// order of its DQT segment (see JPEGQuality); nil when the page is not
	// a JPEG.
	LumaTable *[64]uint16
	// ToDisplayed maps a point (s, t) of the stored image, as fractions
	// with the origin at the top left, to the displayed page: the page hash
	// is taken as the page is displayed.
	ToDisplayed func(s, t float64) (u, v float64)
}

// Measure computes the clarity measures of lum, the luminance of the
// stored image src describes, decoded at its size or smaller (see
// Luminance).
func Measure(lum *image.Gray, src Source) Measures {
	buf := workPool.Get().(*workBuf)
	defer workPool.Put(buf)
	return buf.measurePlane(grayPlane(lum), src)
}

// measurePlane measures lum, the luminance of the stored image src
// describes.
func (buf *workBuf) measurePlane(lum plane, src Source) Measures {
	m := Measures{Page: src.Page, JPEGQuality: JPEGQuality(src.LumaTable)}
	w, h := src.Width, src.Height
	if lum.w == 0 || lum.h == 0 || w == 0 || h == 0 {
		return m
	}
	ppiX, ppiY := src.PPIX, src.PPIY
	m.PPI = math.Min(ppiX, ppiY)
	fw, fh := float64(w)*WorkingPPI/ppiX, float64(h)*WorkingPPI/ppiY
	if a := fw * fh; a > maxWorkPixels {
		// A poster-sized page box: measure it coarser rather than allocate
		// for it. No document of the notice is larger than A3.
		fw, fh = fw*math.Sqrt(maxWorkPixels/a), fh*math.Sqrt(maxWorkPixels/a)
	}
	ww, wh := max(1, int(math.Round(fw))), max(1, int(math.Round(fh)))
	work := buf.resample(lum, ww, wh)
	m.Hash = pageHash(work, ww, wh, src.ToDisplayed)
	buf.measure(work, ww, wh, &m)
	return m
}

// plane is an 8-bit luminance plane.
type plane struct {
	pix    []uint8
	stride int
	w, h   int
}

// grayPlane is the plane of g's pixels.
func grayPlane(g *image.Gray) plane {
	b := g.Rect
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return plane{}
	}
	return plane{g.Pix[g.PixOffset(b.Min.X, b.Min.Y):], g.Stride, b.Dx(), b.Dy()}
}

// Luminance returns img's luminance, without copying where the image
// already stores it (*image.Gray, and the Y plane of *image.YCbCr).
// Transparent pixels are seen against white paper, as a PDF viewer shows
// them.
func Luminance(img image.Image) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return &image.Gray{}
	}
	switch im := img.(type) {
	case *image.Gray:
		return im
	case *image.YCbCr:
		return &image.Gray{Pix: im.Y[im.YOffset(b.Min.X, b.Min.Y):], Stride: im.YStride, Rect: image.Rect(0, 0, w, h)}
	}
	out := make([]uint8, w*h)
	switch im := img.(type) {
	case *image.RGBA:
		for y := range h {
			row := im.Pix[im.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			for x := range w {
				p := row[4*x : 4*x+4 : 4*x+4]
				// Premultiplied: the paper shows through by 255 - alpha.
				out[y*w+x] = uint8(min(255, uint32(luma(uint32(p[0]), uint32(p[1]), uint32(p[2])))+255-uint32(p[3])))
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := im.Pix[im.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			for x := range w {
				p := row[4*x : 4*x+4 : 4*x+4]
				l, a := uint32(luma(uint32(p[0]), uint32(p[1]), uint32(p[2]))), uint32(p[3])
				out[y*w+x] = uint8((l*a + 255*(255-a) + 127) / 255)
			}
		}
	case *image.Gray16:
		for y := range h {
			row := im.Pix[im.PixOffset(b.Min.X, b.Min.Y+y):][:2*w]
			for x := range w {
				out[y*w+x] = row[2*x] // the high byte
			}
		}
	case *image.Paletted:
		var lut [256]uint8
		for i, c := range im.Palette {
			lut[i] = onWhite(c)
		}
		for y := range h {
			for x, v := range im.Pix[im.PixOffset(b.Min.X, b.Min.Y+y):][:w] {
				out[y*w+x] = lut[v]
			}
		}
	case *image.CMYK:
		for y := range h {
			row := im.Pix[im.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			for x := range w {
				c := row[4*x : 4*x+4 : 4*x+4]
				r, g, bl := color.CMYKToRGB(c[0], c[1], c[2], c[3])
				out[y*w+x] = luma(uint32(r), uint32(g), uint32(bl))
			}
		}
	default:
		for y := range h {
			for x := range w {
				out[y*w+x] = onWhite(img.At(b.Min.X+x, b.Min.Y+y))
			}
		}
	}
	return &image.Gray{Pix: out, Stride: w, Rect: image.Rect(0, 0, w, h)}
}

// luma is the JFIF luminance of 8-bit RGB, as image/color computes it.
func luma(r, g, b uint32) uint8 {
	return uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 16)
}

// onWhite is the luminance of a colour laid on white paper.
func onWhite(c color.Color) uint8 {
	r, g, b, a := c.RGBA() // premultiplied, 16 bits
	paper := 0xffff - a
	return luma((r+paper)>>8, (g+paper)>>8, (b+paper)>>8)
}

// workBuf holds the scratch memory of one Measure call; pooled because a
// worker measures page after page of the same size.
type workBuf struct {
	work      []uint8
	smooth    []uint16 // the smoothed image, ×16
	smooth8   []uint8  // one row of it, rounded to 8 bits
	acc       []int32
	tmp       []uint32
	xTaps     taps
	yTaps     taps
	tiles     []tile
	bgs       []uint8
	levels    []uint8
	contrasts []uint8
	// the sheet finder's (sheet.go)
	label     []int32
	queue     []int32
	sheet     []bool
	sheetArea int
}

var workPool = sync.Pool{New: func() any { return new(workBuf) }}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// taps are the weights of a separable resampling filter: output sample i
// is Σ_k weight[off[i]+k] × input[start[i]+k] for k < off[i+1]-off[i],
// with weights summing to 1 << tapBits.
type taps struct {
	start  []int
	off    []int
	weight []int32
}

const tapBits = 12

// make builds area-averaging taps when shrinking, so that every input
// pixel counts once and nothing aliases, and Catmull-Rom cubic taps when
// enlarging, which keep edges nearly as sharp as they were: linear
// interpolation would soften a 120-ppi page enough to look blurred.
func (t *taps) make(in, out int) {
	t.start = grow(t.start, out)
	t.off = append(t.off[:0], 0)
	t.weight = t.weight[:0]
	scale := float64(in) / float64(out)
	var ws [64]float64 // by input index - first; a box is at most scale+2 wide
	for i := range out {
		var first, n int
		if scale >= 1 {
			lo, hi := float64(i)*scale, float64(i+1)*scale
			first = int(lo)
			for j := first; float64(j) < hi && j < in && n < len(ws); j++ {
				ws[n] = math.Min(hi, float64(j+1)) - math.Max(lo, float64(j))
				n++
			}
		} else {
			c := (float64(i)+0.5)*scale - 0.5
			f0 := int(math.Floor(c))
			// Indices beyond the edge repeat the edge pixel, so their
			// weight goes to it.
			first = max(0, f0-1)
			last := min(in-1, f0+2)
			n = last - first + 1
			clear(ws[:n])
			for j := f0 - 1; j <= f0+2; j++ {
				ws[min(last, max(first, j))-first] += catmullRom(c - float64(j))
			}
		}
		var sum float64
		for _, w := range ws[:n] {
			sum += w
		}
		// Integer weights summing exactly to 1<<tapBits: the largest takes
		// the rounding error.
		left, big := int32(1<<tapBits), 0
		for k, w := range ws[:n] {
			q := int32(math.Round(w / sum * (1 << tapBits)))
			left -= q
			t.weight = append(t.weight, q)
			if w > ws[big] {
				big = k
			}
		}
		t.weight[len(t.weight)-n+big] += left
		t.start[i] = first
		t.off = append(t.off, len(t.weight))
	}
}

// catmullRom is the Catmull-Rom cubic kernel.
func catmullRom(x float64) float64 {
	x = math.Abs(x)
	switch {
	case x < 1:
		return 1.5*x*x*x - 2.5*x*x + 1
	case x < 2:
		return -0.5*x*x*x + 2.5*x*x - 4*x + 2
	}
	return 0
}

// resample scales the plane to ww × wh: along y first, accumulating whole
// input rows (a loop the compiler keeps tight), then along x one output
// row at a time.
func (b *workBuf) resample(src plane, ww, wh int) []uint8 {
	if src.w == ww && src.h == wh && src.stride == ww {
		return src.pix[:ww*wh] // read only: measure writes elsewhere
	}
	b.work = grow(b.work, ww*wh)
	if src.w == ww && src.h == wh {
		for y := range wh {
			copy(b.work[y*ww:(y+1)*ww], src.pix[y*src.stride:y*src.stride+ww])
		}
		return b.work
	}
	if kx, ky := src.w/ww, src.h/wh; kx*ww == src.w && ky*wh == src.h && kx*ky <= 256 {
		return b.shrink(src, ww, wh, kx, ky)
	}
	b.xTaps.make(src.w, ww)
	b.yTaps.make(src.h, wh)
	b.acc = grow(b.acc, src.w)
	xt, yt := &b.xTaps, &b.yTaps
	for y := range wh {
		acc := b.acc
		clear(acc)
		y0 := yt.start[y]
		for k, wgt := range yt.weight[yt.off[y]:yt.off[y+1]] {
			row := src.pix[(y0+k)*src.stride : (y0+k)*src.stride+src.w]
			for x, v := range row {
				acc[x] += wgt * int32(v)
			}
		}
		// acc holds 8.12 fixed point; drop to 8.4 so that the x pass cannot
		// overflow 32 bits.
		for x := range acc {
			acc[x] = (acc[x] + 1<<7) >> 8
		}
		out := b.work[y*ww : (y+1)*ww]
		for x := range out {
			x0 := xt.start[x]
			var s int32
			for k, wgt := range xt.weight[xt.off[x]:xt.off[x+1]] {
				s += wgt * acc[x0+k]
			}
			out[x] = uint8(min(255, max(0, (s+1<<15)>>16)))
		}
	}
	return b.work
}

// shrink averages kx × ky blocks: the same as resample's box filter for
// whole factors — 300 and 600 ppi scans, the commonest — at half the cost.
func (b *workBuf) shrink(src plane, ww, wh, kx, ky int) []uint8 {
	if kx == 2 && ky == 2 {
		for y := range wh {
			r0 := src.pix[2*y*src.stride:][:2*ww]
			r1 := src.pix[(2*y+1)*src.stride:][:2*ww]
			out := b.work[y*ww : (y+1)*ww]
			for x := range out {
				out[x] = uint8((uint32(r0[2*x]) + uint32(r0[2*x+1]) + uint32(r1[2*x]) + uint32(r1[2*x+1]) + 2) >> 2)
			}
		}
		return b.work
	}
	b.acc = grow(b.acc, src.w)
	n := int32(kx * ky)
	for y := range wh {
		acc := b.acc
		clear(acc)
		for k := range ky {
			row := src.pix[(y*ky+k)*src.stride:][:len(acc)]
			for x, v := range row {
				acc[x] += int32(v)
			}
		}
		out := b.work[y*ww : (y+1)*ww]
		for x := range out {
			var s int32
			for _, v := range acc[x*kx : (x+1)*kx] {
				s += v
			}
			out[x] = uint8((s + n/2) / n)
		}
	}
	return b.work
}

// tile is what one tileSize × tileSize block of the working image holds.
type tile struct {
	lo, hi uint8 // darkest and brightest level
	bg     uint8 // local background: brightest level of the 3×3 tiles around
	class  uint8
}

// Tile classes.
const (
	// paperTile is plain paper: where the noise of the page is measured.
	paperTile uint8 = iota
	// inkTile holds something darker than its background: text, lines.
	inkTile
	// offPage is far darker than the paper (the desk around a photographed
	// sheet, a black border, a dark photo) or next to such a tile. The edge
	// between sheet and desk is neither text nor paper, and would pass for a
	// page full of ink.
	offPage
)

// inkCount is the second pass of measure: the samples of ink tiles
// darker than their background less inkDelta (bp_inkcount in C).
func inkCount(sm []uint16, w, h int, tiles []tile, tw int) int {
	var ink int
	for y := range h {
		row := sm[y*w : (y+1)*w]
		trow := tiles[(y/tileSize)*tw : (y/tileSize+1)*tw]
		for tx := range trow {
			t := &trow[tx]
			if t.class != inkTile {
				continue
			}
			// v8 < cut, on the 16-bit values: (v+8)>>4 < cut ⇔ v+8 < 16·cut.
			cut := 16 * uint16(t.bg-inkDelta)
			for _, v := range row[tx*tileSize : min(w, (tx+1)*tileSize)] {
				if v+8 < cut {
					ink++
				}
			}
		}
	}
	return ink
}

// measure fills in every measure but PPI and JPEG quality from the
// working image. The first pass goes a row at a time, so that what a row
// needs is still in the cache: it sums the levels, smooths the row and
// finds each tile's darkest and brightest level; the second, once the tiles
// are classified, counts the ink and sums the sharpness energies.
func (b *workBuf) measure(img []uint8, w, h int, m *Measures) {
	tw, th := (w+tileSize-1)/tileSize, (h+tileSize-1)/tileSize
	b.tiles = grow(b.tiles, tw*th)
	tiles := b.tiles
	for i := range tiles {
		tiles[i] = tile{lo: 255}
	}
	b.smooth = grow(b.smooth, w*h)
	sm := b.smooth
	b.tmp = grow(b.tmp, w)

	var lv levels
	if nativeKernels() {
		lv = nativePass1(img, w, h, sm, tiles, tw)
	} else {
		lv = b.pass1(img, w, h, tiles, tw)
	}
	n := float64(len(img))
	m.Mean = float64(lv.sum) / n
	m.DarkPercent = 100 * float64(lv.dark) / n
	m.WhitePercent = 100 * float64(lv.white) / n

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
	// A photographed sheet is measured alone: the desk is not paper.
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

	// Pass 2: ink coverage, and the level and contrast of the ink tiles.
	var ink int
	if nativeKernels() {
		ink = nativeInkCount(sm, w, h, tiles, tw)
	} else {
		ink = inkCount(sm, w, h, tiles, tw)
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
	m.Sharpness = b.sharpness(w, h, tiles, tw)
}

// levels is what the mean level and the clipped shares are made of: the
// sum of a plane's levels, and how many are at most 8 and at least 250.
type levels struct{ sum, dark, white int }

// pass1 sums img's levels, smooths img into b.smooth and sets the darkest
// and brightest smoothed level of each tile, a row at a time so that what
// a row needs is still in the cache.
func (b *workBuf) pass1(img []uint8, w, h int, tiles []tile, tw int) (lv levels) {
	sm := b.smooth
	b.smooth8 = grow(b.smooth8, w)
	o8 := b.smooth8[:w]
	for y := range h {
		for _, v := range img[y*w:][:w] {
			lv.sum += int(v)
			if v <= 8 {
				lv.dark++
			}
			if v >= 250 {
				lv.white++
			}
		}
		// Everything local is measured on the image smoothed by a 3×3
		// binomial kernel, which takes the grain of paper and sensor to
		// about a third while thinning no stroke of text at this
		// resolution.
		row16 := sm[y*w:][:w]
		smoothRow(img, w, h, y, b.tmp, row16)
		for x, v := range row16 {
			o8[x] = uint8((v + 8) >> 4)
		}
		// Tiles: darkest and brightest level of each.
		trow := tiles[(y/tileSize)*tw : (y/tileSize+1)*tw]
		for tx := range trow {
			t := &trow[tx]
			seg := o8[tx*tileSize : min(w, (tx+1)*tileSize)]
			// Two chains of min/max, odd and even pixels, run in parallel.
			lo0, hi0, lo1, hi1 := t.lo, t.hi, t.lo, t.hi
			k := 0
			for ; k+2 <= len(seg); k += 2 {
				a, c := seg[k], seg[k+1]
				lo0, hi0 = min(lo0, a), max(hi0, a)
				lo1, hi1 = min(lo1, c), max(hi1, c)
			}
			if k < len(seg) {
				lo0, hi0 = min(lo0, seg[k]), max(hi0, seg[k])
			}
			t.lo, t.hi = min(lo0, lo1), max(hi0, hi1)
		}
	}
	return lv
}

// median returns the lower median of s.
func median(s []uint8) uint8 {
	var hist [256]int
	for _, v := range s {
		hist[v]++
	}
	half, acc := (len(s)+1)/2, 0
	for v, c := range hist {
		acc += c
		if acc >= half {
			return uint8(v)
		}
	}
	return 255
}

// smoothRow sets out to row y of img convolved by the 3×3 binomial kernel,
// ×16 for the Laplacian's precision, edge pixels repeated; t is scratch
// of w column sums.
func smoothRow(img []uint8, w, h, y int, t []uint32, out []uint16) {
	up, dn := img[max(0, y-1)*w:][:w], img[min(h-1, y+1)*w:][:w]
	row := img[y*w:][:w]
	t, out = t[:w], out[:w]
	if w < 2 { // a column of pixels is taken as it is
		out[0] = 16 * uint16(row[0])
		return
	}
	for x := range t {
		t[x] = uint32(up[x]) + 2*uint32(row[x]) + uint32(dn[x])
	}
	// A window of three columns slides along the row, so that each column
	// sum is loaded once and no index is checked twice.
	l, c := t[0], t[0]
	for x := range w - 1 {
		r := t[x+1]
		out[x] = uint16(l + 2*c + r)
		l, c = c, r
	}
	out[w-1] = uint16(l + 3*c)
}

// sharpness compares the energy of the Laplacian with the energy of the
// gradient over the ink tiles of the smoothed image. The ratio makes the
// measure independent of contrast and of how much of a tile the text
// fills. Grain and sensor noise have far more Laplacian than gradient
// energy and would make a blurred photo pass for sharp, so the energies
// measured on plain paper, which are noise alone, are taken off those of
// the ink tiles, pixel for pixel. Signed integers throughout: a clamped
// Laplacian would lose half of every edge.
func (b *workBuf) sharpness(w, h int, tiles []tile, tw int) float64 {
	if w < 5 || h < 5 {
		return 0
	}
	var lap2, grad2, count [3]int64
	if nativeKernels() {
		lap2, grad2, count = nativeEnergies(b.smooth, w, h, tiles, tw)
	} else {
		lap2, grad2, count = energies(b.smooth, w, h, tiles, tw)
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

// energies sums, per tile class, the squared Laplacian and squared
// gradient of the smoothed image s over rows and columns 2 to size-2, and
// counts the pixels summed.
func energies(s []uint16, w, h int, tiles []tile, tw int) (lap2, grad2, count [3]int64) {
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
			x0, x1 := max(2, tx*tileSize), min(w-2, (tx+1)*tileSize)
			if x1 <= x0 {
				continue
			}
			// Equal lengths let the compiler drop the bounds checks; the
			// smoothed values are at most 16×255, so a Laplacian and a
			// squared gradient fit 32 bits and only sums need 64.
			cc := c[x0:x1]
			cl, cr := c[x0-1 : x1-1][:len(cc)], c[x0+1 : x1+1][:len(cc)]
			uu, dd := u[x0:x1][:len(cc)], d[x0:x1][:len(cc)]
			var l2, g2 int64
			for k, v := range cc {
				l := int32(uu[k]) + int32(dd[k]) + int32(cl[k]) + int32(cr[k]) - 4*int32(v)
				gx := int32(cr[k]) - int32(cl[k])
				gy := int32(dd[k]) - int32(uu[k])
				l2 += int64(l * l)
				g2 += int64(gx*gx + gy*gy)
			}
			lap2[class] += l2
			grad2[class] += g2
			count[class] += int64(len(cc))
		}
	}
	return lap2, grad2, count
}

// ijgLuminance is the example luminance quantisation table of the JPEG
// standard (ITU T.81 Annex K), in zigzag order as a DQT segment stores it:
// the table the IJG library, Go's image/jpeg and most scanners and phones
// scale by their quality setting.
var ijgLuminance = [64]uint16{
	16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40,
	26, 24, 22, 22, 24, 49, 35, 37, 29, 40, 58, 51, 61, 60, 57, 51,
	56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56, 80, 109, 81, 87,
	95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99,
}

// ijgTable returns the luminance table IJG's quality q produces.
func ijgTable(q int) [64]uint16 {
	scale := 200 - 2*q
	if q < 50 {
		scale = 5000 / q
	}
	var t [64]uint16
	for i, v := range ijgLuminance {
		t[i] = uint16(min(255, max(1, (int(v)*scale+50)/100)))
	}
	return t
}

var ijgTables = sync.OnceValue(func() [][64]uint16 {
	t := make([][64]uint16, 101)
	for q := 1; q <= 100; q++ {
		t[q] = ijgTable(q)
	}
	return t
})

// JPEGQuality estimates the quality setting a JPEG was saved with: the IJG
// quality whose scaled standard table is closest to q, the file's
// luminance table in zigzag order, in the sum of log ratios so that the
// coarse high frequencies do not outweigh everything else. An encoder with
// its own tables gets the IJG quality that quantises about as coarsely. It
// returns 0 when q is nil.
func JPEGQuality(q *[64]uint16) int {
	if q == nil {
		return 0
	}
	tables := ijgTables()
	best, bestQ := math.Inf(1), 0
	for quality := 1; quality <= 100; quality++ {
		var d float64
		for i, v := range tables[quality] {
			d += math.Abs(math.Log(float64(max(1, q[i])) / float64(v)))
		}
		if d < best {
			best, bestQ = d, quality
		}
	}
	return bestQ
}
