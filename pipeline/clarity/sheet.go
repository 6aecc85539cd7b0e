package clarity

import "math"

// A phone photo of a page shows the desk around it, often in dim light: the
// paper is the bright part of the frame, the desk a darker one. Judged over
// the whole frame, the desk passes for dark paper and a readable photo is
// refused as too dark. So before the paper's brightness is taken, the sheet
// is looked for on the tile grid of the working image (each tile's
// brightest level, which is paper wherever there is paper, text or not):
//
//   - the tiles' brightest levels must fall in two clear groups (Otsu's
//     threshold; the darker group at least 5% of the frame, the paper group
//     at least 1.5× as bright and 40 levels above it) — a scan, the page
//     filling the frame, has one group, and is measured as before;
//   - the sheet is the largest 4-connected group of bright tiles, with what
//     it encloses (photos, seals, dark tables) filled in;
//   - its corners are the extremes of x+y and x−y, the quadrilateral they
//     make tells how far the sheet's edges turn from the frame's axes
//     (perspective or a tilted phone: Measures.Skew);
//   - where the sheet runs off the frame, tiles of writing on the frame's
//     edge say text was cut (Measures.CutOff).
//
// Everything then is measured on the sheet alone: paper brightness, ink,
// contrast, sharpness, blank. It works on a few thousand tiles, not on
// pixels, and costs a few tens of microseconds a page.

const (
	// minDeskShare is the least share of tiles the darker group must have
	// for the frame to be a photo of a sheet rather than a scan.
	minDeskShare = 0.05
	// minSheetShare and maxSheetShare bound the sheet's share of the frame:
	// smaller, it is a dark photo with a bright spot; larger, the sheet fills
	// the frame and there is no desk to leave out.
	minSheetShare = 0.15
	maxSheetShare = 0.97
)

// sheetFinder turns the sheet finder off for a test that shows what it
// changes.
var sheetFinder = true

// otsu returns the threshold that best splits the histogram in two
// (levels ≤ t and > t), the darker group's share and both groups' means.
func otsu(hist *[256]int, n int) (t int, w0, mu0, mu1 float64) {
	var total float64
	for v, c := range hist {
		total += float64(v * c)
	}
	var sum0 float64
	var n0 int
	best := -1.0
	for v := range 255 {
		n0 += hist[v]
		sum0 += float64(v * hist[v])
		n1 := n - n0
		if n0 == 0 || n1 == 0 {
			continue
		}
		m0, m1 := sum0/float64(n0), (total-sum0)/float64(n1)
		if between := float64(n0) * float64(n1) * (m1 - m0) * (m1 - m0); between > best {
			best, t, w0, mu0, mu1 = between, v, float64(n0)/float64(n), m0, m1
		}
	}
	return t, w0, mu0, mu1
}

// findSheet looks for a photographed sheet among the tiles of a w × h
// working image. It returns which tiles are the sheet, with the sheet's
// share of the frame and its skew filled into m, or nil when the frame is
// all page (a scan) or no sheet stands out.
func (b *workBuf) findSheet(tiles []tile, tw, th, w, h int, m *Measures) []bool {
	n := tw * th
	if tw < 8 || th < 8 || !sheetFinder {
		return nil
	}
	var hist [256]int
	for _, t := range tiles {
		hist[t.hi]++
	}
	cut, w0, mu0, mu1 := otsu(&hist, n)
	if w0 < minDeskShare || mu1 < 1.5*mu0 || mu1-mu0 < 40 {
		return nil
	}
	// The largest 4-connected group of bright tiles.
	b.label = grow(b.label, n)
	label := b.label
	clear(label)
	var best, bestSize int32
	next := int32(0)
	for i := range n {
		if label[i] != 0 || int(tiles[i].hi) <= cut {
			continue
		}
		next++
		size := b.flood(label, i, tw, th, next, func(j int) bool { return int(tiles[j].hi) > cut })
		if size > bestSize {
			best, bestSize = next, size
		}
	}
	if bestSize == 0 {
		return nil
	}
	// What the sheet encloses is the sheet: mark everything reachable from
	// the frame's edge without crossing it, the rest is in.
	const outside = -1
	for i := range n {
		tx, ty := i%tw, i/tw
		if (tx == 0 || ty == 0 || tx == tw-1 || ty == th-1) && label[i] != best && label[i] != outside {
			b.flood(label, i, tw, th, outside, func(j int) bool { return label[j] != best })
		}
	}
	b.sheet = grow(b.sheet, n)
	in := b.sheet
	count := 0
	var area int
	for i := range n {
		in[i] = label[i] != outside
		if in[i] {
			count++
			tx, ty := i%tw, i/tw
			area += min(tileSize, w-tx*tileSize) * min(tileSize, h-ty*tileSize)
		}
	}
	share := float64(count) / float64(n)
	if share < minSheetShare || share > maxSheetShare {
		return nil
	}
	m.Photo = true
	m.SheetPercent = 100 * share
	b.sheetArea = area
	m.Skew = skew(in, tw, th)
	return in
}

// flood labels with id the 4-connected tiles from i on that pass ok and
// are not yet labelled id, and returns how many it labelled.
func (b *workBuf) flood(label []int32, i, tw, th int, id int32, ok func(int) bool) int32 {
	q := append(b.queue[:0], int32(i))
	label[i] = id
	var size int32
	for len(q) > 0 {
		j := int(q[len(q)-1])
		q = q[:len(q)-1]
		size++
		tx := j % tw
		for _, k := range [4]int{j - 1, j + 1, j - tw, j + tw} {
			switch {
			case k == j-1 && tx == 0, k == j+1 && tx == tw-1, k < 0, k >= tw*th:
				continue
			}
			if label[k] != id && ok(k) {
				label[k] = id
				q = append(q, int32(k))
			}
		}
	}
	b.queue = q
	return size
}

// skew is how far, in degrees, the edges of the quadrilateral the sheet's
// corners make turn from the nearest axis of the frame: 0 for a sheet
// photographed square on, a few degrees for a hand-held phone, tens for a
// steep angle or a tilted phone.
func skew(in []bool, tw, th int) float64 {
	// Corners: the extremes of x+y and x−y over the sheet's tiles.
	first := true
	var c [4][2]float64 // top left, top right, bottom right, bottom left
	var s [4]float64
	for i, ok := range in {
		if !ok {
			continue
		}
		x, y := float64(i%tw)+0.5, float64(i/tw)+0.5
		keys := [4]float64{-(x + y), x - y, x + y, y - x}
		for k, v := range keys {
			if first || v > s[k] {
				s[k], c[k] = v, [2]float64{x, y}
			}
		}
		first = false
	}
	worst := 0.0
	for k := range 4 {
		a, b := c[k], c[(k+1)%4]
		dx, dy := math.Abs(b[0]-a[0]), math.Abs(b[1]-a[1])
		if dx+dy < 3 {
			return 45 // a degenerate quadrilateral: the sheet is turned about 45°
		}
		angle := math.Atan2(dy, dx) * 180 / math.Pi
		worst = max(worst, min(angle, 90-angle))
	}
	return worst
}

// sheetPaper is the median local background over the sheet's tiles, or over
// all tiles when there is no sheet (bgs holds every tile's).
func (b *workBuf) sheetPaper(tiles []tile, in []bool) uint8 {
	if in == nil {
		return median(b.bgs)
	}
	sheet := b.levels[:0]
	for i, ok := range in {
		if ok {
			sheet = append(sheet, tiles[i].bg)
		}
	}
	b.levels = sheet
	return median(sheet)
}

// cutOff is the share, in percent, of the sheet's outline along which
// writing runs off the frame: ink tiles of the sheet on the frame's edge,
// over the tiles of the sheet's edge.
func cutOff(tiles []tile, in []bool, tw, th int) float64 {
	var edge, cut int
	for i, ok := range in {
		if !ok {
			continue
		}
		tx, ty := i%tw, i/tw
		onFrame := tx == 0 || ty == 0 || tx == tw-1 || ty == th-1
		if onFrame || !in[i-1] || !in[i+1] || !in[i-tw] || !in[i+tw] {
			edge++
		}
		if onFrame && tiles[i].class == inkTile {
			cut++
		}
	}
	if edge == 0 {
		return 0
	}
	return 100 * float64(cut) / float64(edge)
}
