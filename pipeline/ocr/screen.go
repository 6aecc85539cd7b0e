package ocr

import (
	"image"
	"slices"
	"strings"
	"unicode"

	"github.com/blindpack/blindpack/pipeline/identity"
)

// The screen is the cheap first pass: it finds the text lines of a
// prepared page by projection profiles, compares every character-sized
// window of every line with the identity's characters drawn in the common
// typefaces (normalised correlation of 32×32 shapes), and picks the
// places where two characters of one form of the identity stand side by
// side, in order. Only those strips, and whatever the screen could not
// make sense of, are read by the engine. Recall is what matters — a
// missed line is a leak that reaches a reviewer — so the threshold is
// low and a page the screen is unsure of is read in full.

// ScreenThreshold is the mean correlation with their characters that two
// windows standing as a pair of the identity's characters must reach for
// their line to be read; each must reach screenFloor. Set from the
// measurement set with a margin (TestMeasureScreen, README).
var ScreenThreshold float32 = 0.55

// screenFloor is the least correlation a window must have with a
// character to count as one half of a pair.
const screenFloor = 0.4

// inkLevel separates ink from paper on a prepared page (paper 255, ink
// 0) for finding lines. The packet's watermark, drawn at 22% opacity,
// must stay lighter, and Prepare's stretch darkens it on a soft scan
// (whose ink it takes for lighter): on 0.25-mm blurred scans it came out
// at 125–150, joined text lines across rows and hid long employer lines
// from the screen (150 before; TestMeasureScreenScans, README). Stroke
// cores stay far darker.
const inkLevel = 80

// screen holds an identity's character templates and the pairs to look
// for.
type screen struct {
	runes []rune    // the identity's distinct characters that have templates
	ts    templates // each in every typeface, of the index in runes
	pairs []screenPair
}

// screenPair is two characters of a form, d apart in it (1 or 2: the
// second allows the character between them to be misread), and how far
// the strip to read must reach on each side of them, in characters.
type screenPair struct {
	a, b          int // indexes in screen.runes
	d             int
	before, after int
	// near is the characters that stand beside the pair in the forms
	// that hold it (before its first, after its second), when each of
	// those forms has four characters or more; empty when one of them
	// is shorter (see probePair).
	near string
}

// newScreen prepares the screen for id. ok is false when the identity
// cannot be screened — no typeface, or a form without two characters the
// screen can compare (Latin letters and digits are too narrow for its
// square windows): the caller then reads every page in full.
func newScreen(id Identity) (*screen, bool) {
	fonts, err := screenFonts()
	if err != nil {
		return nil, false
	}
	s := &screen{}
	index := map[rune]int{}
	idx := func(r rune) int {
		if i, ok := index[r]; ok {
			return i
		}
		var ts []vec
		if unicode.Is(unicode.Han, r) {
			for _, f := range fonts {
				if vs, ok := f.templates(r); ok {
					ts = append(ts, vs...)
				}
			}
		}
		if len(ts) == 0 {
			index[r] = -1
			return -1
		}
		s.runes = append(s.runes, r)
		for _, t := range ts {
			s.ts.add(&t, len(s.runes)-1)
		}
		index[r] = len(s.runes) - 1
		return index[r]
	}
	// The employer's region and legal form ("新疆", "有限公司") stand in
	// many employers' names: a pair of two of their characters says
	// little, and each would cost a long strip. A form cannot match
	// without a pair that holds a character of the rest, which is what
	// the screen looks for.
	forms := identity.Forms(id)
	empLen, region, legal := 0, 0, 0
	for _, f := range forms {
		switch f.Name {
		case identity.FormEmployer:
			empLen = len([]rune(f.Text))
		case identity.FormEmployerCore:
			legal = f.After
		case identity.FormEmployerShort:
			region = f.Before
		}
	}
	common := func(f identity.Form, i int) bool {
		if f.Kind != identity.KindEmployer {
			return false
		}
		at := f.Before + i
		return at < region || at >= empLen-legal
	}
	type key struct{ a, b, d int }
	near := map[key][]rune{}
	bare := map[key]bool{}
	for _, f := range forms {
		rs := []rune(identity.Normalize(f.Text))
		n := 0
		for i := range rs {
			for d := 1; d <= 2 && i+d < len(rs); d++ {
				if d == 2 && len(rs) < 3 {
					continue
				}
				a, b := idx(rs[i]), idx(rs[i+d])
				if a < 0 || b < 0 || (common(f, i) && common(f, i+d)) {
					continue
				}
				s.pairs = append(s.pairs, screenPair{a: a, b: b, d: d, before: i, after: len(rs) - 1 - i - d})
				n++
				k := key{a, b, d}
				if len(rs) < 4 {
					bare[k] = true
				}
				if i > 0 {
					near[k] = append(near[k], rs[i-1])
				}
				if i+d+1 < len(rs) {
					near[k] = append(near[k], rs[i+d+1])
				}
			}
		}
		if n == 0 {
			return nil, false
		}
	}
	s.pairs = shortestReach(s.pairs)
	for i, p := range s.pairs {
		if k := (key{p.a, p.b, p.d}); !bare[k] {
			s.pairs[i].near = string(near[k])
		}
	}
	return s, true
}

// shortestReach keeps one of the pairs of the same two characters at the
// same distance: the one whose strip reaches over the least. A pair of
// the short employer stands in the whole employer too, and a strip over
// the short one is enough — it is read and matched as a form of its own —
// so the strip need not reach over the region and the legal form
// (README, "What it costs"). Order is kept.
func shortestReach(ps []screenPair) []screenPair {
	type key struct{ a, b, d int }
	best := map[key]int{}
	for i, p := range ps {
		k := key{p.a, p.b, p.d}
		if j, ok := best[k]; !ok || p.before+p.after < ps[j].before+ps[j].after {
			best[k] = i
		}
	}
	var out []screenPair
	for i, p := range ps {
		if best[key{p.a, p.b, p.d}] == i {
			out = append(out, p)
		}
	}
	return out
}

// textLine is a run of text of one height on a page: its ink's box.
type textLine struct {
	box  image.Rectangle
	band int // which horizontal band of the page it lies in
}

// layout finds the text lines of a prepared page. Rows with ink make
// bands; a band is cut at wide gaps into pieces, and each piece's own
// rows with ink into lines, so that text of different sizes side by side
// gets its own height. Lines much taller than the page's usual line
// (photographs, seals, large headings, handwriting, lines run together)
// and lines too small to compare come back as unsure, to be read as they
// are.
func layout(g *image.Gray) (lines []textLine, unsure []image.Rectangle, inkPx int) {
	b := g.Bounds()
	w, h := b.Dx(), b.Dy()
	ink := func(x, y int) bool { return g.Pix[y*g.Stride+x] < inkLevel }
	// A row (column) inked across most of a region at least ruleSpan
	// long is a rule Prepare left (a double frame): neither text nor a
	// bridge between lines. Set once the usual line height is known.
	ruleSpan := w + h
	rowRuns := func(x0, x1, y0, y1 int) [][2]int {
		var out [][2]int
		start := -1
		for y := y0; y < y1; y++ {
			n := 0
			for x := x0; x < x1; x++ {
				if ink(x, y) {
					n++
				}
			}
			// A row inked across most of the region is a rule left by
			// Prepare (a double frame): not text, and no bridge.
			has := n > 0 && (x1-x0 < ruleSpan || 5*n < 4*(x1-x0))
			switch {
			case has && start < 0:
				start = y
			case !has && start >= 0:
				out = append(out, [2]int{start, y})
				start = -1
			}
		}
		if start >= 0 {
			out = append(out, [2]int{start, y1})
		}
		return out
	}
	colRuns := func(x0, x1, y0, y1, gap int) [][2]int {
		var out [][2]int
		start, last := -1, -1
		for x := x0; x < x1; x++ {
			n := 0
			for y := y0; y < y1; y++ {
				if ink(x, y) {
					n++
				}
			}
			inkPx += n
			has := n > 0 && (y1-y0 < ruleSpan || 5*n < 4*(y1-y0))
			if !has {
				continue
			}
			if start >= 0 && x-last > gap {
				out = append(out, [2]int{start, last + 1})
				start = -1
			}
			if start < 0 {
				start = x
			}
			last = x
		}
		if start >= 0 {
			out = append(out, [2]int{start, last + 1})
		}
		return out
	}
	// The usual line height: the median of the row runs of a plausible
	// text height (a frame round a certificate makes one run of the whole
	// page, cut below).
	var hs []int
	for _, r := range rowRuns(0, w, 0, h) {
		if d := r[1] - r[0]; d >= h/200 && d <= h/25 {
			hs = append(hs, d)
		}
	}
	usual := max(h/80, 8)
	if len(hs) > 0 {
		usual = median(hs)
	}
	ruleSpan = 6 * usual
	minH := max(8, h/220)          // below about 6 pt: read as is
	tall := max(3*usual, usual+24) // above: read as is, unless it can be cut
	band := 0
	// cut finds the lines in x0..x1 × y0..y1: its row runs are lines, or,
	// when too tall, cut at columns without ink into pieces that are cut
	// again.
	var cut func(x0, x1, y0, y1, depth int)
	cut = func(x0, x1, y0, y1, depth int) {
		for _, r := range rowRuns(x0, x1, y0, y1) {
			lh := r[1] - r[0]
			if lh > tall && depth < 6 {
				pieces := colRuns(x0, x1, r[0], r[1], usual)
				if len(pieces) > 1 || (len(pieces) == 1 && (pieces[0][0] > x0 || pieces[0][1] < x1)) {
					for _, p := range pieces {
						cut(p[0], p[1], r[0], r[1], depth+1)
					}
					continue
				}
			}
			band++
			for _, piece := range colRuns(x0, x1, r[0], r[1], max(lh, usual)) {
				for _, rr := range rowRuns(piece[0], piece[1], r[0], r[1]) {
					// The ink's horizontal extent in these rows.
					lx0, lx1 := piece[1], piece[0]
					for y := rr[0]; y < rr[1]; y++ {
						for x := piece[0]; x < piece[1]; x++ {
							if ink(x, y) {
								lx0, lx1 = min(lx0, x), max(lx1, x+1)
							}
						}
					}
					box := image.Rect(lx0, rr[0], lx1, rr[1]).Add(b.Min)
					lh := rr[1] - rr[0]
					switch {
					case lh < 3 && lx1-lx0 < 3*minH:
						// A speck of dust or a dot.
					case lh > 8*(lx1-lx0) && lx1-lx0 < minH:
						// What is left of a vertical rule or a frame.
					case lh < minH || lh > tall:
						unsure = append(unsure, box)
					default:
						lines = append(lines, textLine{box: box, band: band})
					}
				}
			}
		}
	}
	cut(0, w, 0, h, 0)
	return lines, unsure, inkPx
}

// window is a character-sized square on a line and how well it matches
// each of the screen's characters.
type window struct {
	cx     int // centre, page pixels
	scores []float32
}

// cand is a strip the screen picked and how to decide to read it: a
// strip round pairs of the identity's characters is read only if
// Tesseract, reading its probes first — each pair with a character
// either side, a few characters instead of a whole form's reach — finds
// one of its pairs in one of them (probePair.in). Most pairs the screen
// sees in running text are shapes like the identity's characters (型 for
// 工), which Tesseract reads as what they are. A strip with no probes (a
// region the screen could not make sense of) is read as it is.
type cand struct {
	strip  image.Rectangle
	probes []image.Rectangle
	pairs  []probePair
}

// probePair is a pair the strip was picked for. A probe holds it when
// Tesseract read both its characters there and, for a pair of forms of
// four characters or more, one of the characters beside it in such a
// form (near) — or, for a form of two characters (a given name, a
// two-character name: the pair is the whole form and has no other pair
// to make up for a misread character), one of them.
//
// The neighbour is what tells a form from running text that holds two
// of its characters: 会计 of an accountancy firm in 会计报告, 设计 of a
// design institute in 设计与改进, each read in full before (README,
// "What it costs"). A form of four characters or more with one character
// misread, which the matcher still finds (one error), always keeps a
// pair with a neighbour read right: for ABCD with B misread, the pair
// A_C (the screen's pairs skip a character too) and D beside it. A form
// of three characters has no such pair left, so its pairs are held by
// their two characters alone.
type probePair struct {
	a, b  rune
	whole bool
	near  string
}

func (p probePair) in(text string) bool {
	a, b := strings.ContainsRune(text, p.a), strings.ContainsRune(text, p.b)
	if p.whole {
		return a || b
	}
	return a && b && (p.near == "" || strings.ContainsAny(text, p.near))
}

// plan returns the strips of page g to read — around every pair of the
// identity's characters the screen saw, and every unsure region — with
// their probes. full is true when the page should be read whole instead.
func (s *screen) plan(g *image.Gray) (cands []cand, full bool) {
	lines, unsure, inkPx := layout(g)
	if inkPx > 0 && len(lines) == 0 {
		return nil, true
	}
	var strips []image.Rectangle
	var occs []occurrence
	for _, o := range s.occurrences(g, lines, screenFloor) {
		if o.score >= ScreenThreshold {
			occs = append(occs, o)
		}
	}
	if rs := rivals(); rs != nil {
		occs = s.unrivalled(g, occs, rs)
	}
	for _, o := range occs {
		strips = append(strips, o.strip)
	}
	regions := specks(lines, unsure)
	strips = mergeStrips(append(strips, regions...))
	for _, st := range strips {
		c := cand{strip: st.Intersect(g.Bounds())}
		if !slices.ContainsFunc(regions, st.Overlaps) {
			var probes []image.Rectangle
			for _, o := range occs {
				if o.strip.In(st) {
					probes = append(probes, o.probe.Intersect(st))
					p := o.pair
					// A form of two characters: before, after 0 and d 1.
					pr := probePair{a: s.runes[p.a], b: s.runes[p.b], whole: p.before+p.d+p.after == 1, near: p.near}
					if !slices.Contains(c.pairs, pr) {
						c.pairs = append(c.pairs, pr)
					}
				}
			}
			c.probes = mergeStrips(probes)
		}
		cands = append(cands, c)
	}
	// Reading most of the page in strips costs more than reading it.
	area, pageArea := 0, g.Bounds().Dx()*g.Bounds().Dy()
	for _, c := range cands {
		area += c.strip.Dx() * c.strip.Dy()
	}
	if 2*area > pageArea {
		return nil, true
	}
	return cands, false
}

// specks returns the unsure regions to read, with the specks among them
// gathered. A seal printed over a line of text (the issuing line of a
// certificate: the employer) is lighter than the ink level in most
// places, and leaves only specks of its ring, each too small to read,
// while the ring joins the line's rows into one too high to compare:
// the employer was read by nobody (TestMeasureDetection, seed 1). So
// four or more specks within three lines' height of one another are one
// region, with a line's height around it and the lines it overlaps,
// read as it is — Tesseract reads the line through the seal from such a
// region as well as from the whole page.
func specks(lines []textLine, unsure []image.Rectangle) []image.Rectangle {
	if len(lines) == 0 {
		return unsure
	}
	hs := make([]int, len(lines))
	for i, l := range lines {
		hs[i] = l.box.Dy()
	}
	usual := median(hs)
	var small, out []image.Rectangle
	for _, u := range unsure {
		if u.Dx() < usual && u.Dy() < usual && len(small) < 4096 {
			small = append(small, u)
		} else {
			out = append(out, u)
		}
	}
	// Clusters by nearness: union-find over the pairs within reach.
	parent := make([]int, len(small))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i := range small {
		for j := i + 1; j < len(small); j++ {
			if small[i].Inset(-3 * usual).Overlaps(small[j]) {
				parent[find(i)] = find(j)
			}
		}
	}
	groups := map[int][]image.Rectangle{}
	for i, r := range small {
		groups[find(i)] = append(groups[find(i)], r)
	}
	for i := range small {
		grp, ok := groups[i]
		if !ok {
			continue
		}
		if len(grp) < 4 {
			out = append(out, grp...)
			continue
		}
		box := grp[0]
		for _, r := range grp[1:] {
			box = box.Union(r)
		}
		box = box.Inset(-usual)
		region := box
		for _, l := range lines {
			if l.box.Overlaps(box) {
				region = region.Union(l.box)
			}
		}
		out = append(out, region)
	}
	return out
}

// similarLines reports whether two lines of a band can hold one form:
// heights within a third of each other, overlapping vertically by half.
func similarLines(a, b image.Rectangle) bool {
	ha, hb := a.Dy(), b.Dy()
	if 3*max(ha, hb) > 4*min(ha, hb) {
		return false
	}
	ov := min(a.Max.Y, b.Max.Y) - max(a.Min.Y, b.Min.Y)
	return 2*ov >= min(ha, hb)
}

// windows samples line l of g in squares as high as the line, every
// eighth of its height, and scores each against the screen's characters
// (a score below thr is 0; see bound.go): in C where cgo is built in,
// else in Go (windowsGo; the same scores).
func (s *screen) windows(g *image.Gray, l image.Rectangle, thr float32) []window {
	if nativeScreen {
		return s.windowsNative(g, l, thr)
	}
	return s.windowsGo(g, l, thr)
}

// windowSpan is where the windows of line l stand: squares of side h,
// centred every step from first to last (page pixels).
func windowSpan(l image.Rectangle) (h, step, first, last int) {
	h = l.Dy()
	step = max(1, h/8)
	return h, step, l.Min.X + h/2 - step, l.Max.X - h/2 + step
}

func (s *screen) windowsGo(g *image.Gray, l image.Rectangle, thr float32) []window {
	h, step, first, last := windowSpan(l)
	var out []window
	for cx := first; cx <= last; cx += step {
		v, ok := sample(g, image.Rect(cx-h/2, l.Min.Y, cx-h/2+h, l.Max.Y))
		if !ok {
			continue
		}
		out = append(out, window{cx: cx, scores: s.ts.scores(&v, len(s.runes), thr)})
	}
	return out
}

// sample reads r of g (outside the page is paper) into a shape vector:
// each of the cell×cell samples is the mean ink of the pixels under it,
// or of the one nearest when a line is fewer pixels high than cell. ok
// is false for a window with almost no ink.
func sample(g *image.Gray, r image.Rectangle) (vec, bool) {
	if r.Dx() <= 0 || r.Dy() <= 0 {
		return vec{}, false
	}
	b := g.Bounds()
	span := func(c, n int) (int, int) {
		lo := c * n / cell
		return lo, max((c+1)*n/cell, lo+1)
	}
	at := func(x, y int) float32 {
		if x < b.Min.X || x >= b.Max.X || y < b.Min.Y || y >= b.Max.Y {
			return 0
		}
		return float32(255-g.Pix[(y-b.Min.Y)*g.Stride+x-b.Min.X]) / 255
	}
	var raw [cell * cell]float32
	for cy := range cell {
		y0, y1 := span(cy, r.Dy())
		for cx := range cell {
			x0, x1 := span(cx, r.Dx())
			var sum float32
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					sum += at(r.Min.X+x, r.Min.Y+y)
				}
			}
			raw[cy*cell+cx] = sum / float32((y1-y0)*(x1-x0))
		}
	}
	if sum8(&raw) < cell*cell/50 {
		return vec{}, false
	}
	return finish(&raw), true
}

// occurrence is a place where a pair of the identity's characters seems
// to stand: the strip to read around it and the lesser of its two
// characters' scores.
type occurrence struct {
	strip image.Rectangle
	score float32
	// probe is the pair itself with a character either side, read
	// first (see cand); pair is the screen's pair.
	probe image.Rectangle
	pair  screenPair
	ends  [2]end
}

// occurrences returns every place on the lines of g where the first
// character of one of the screen's pairs stands, and its second follows
// on the same line (or a line of the same band and height) one to two
// and a half characters per step later, both scoring at least thr.
func (s *screen) occurrences(g *image.Gray, lines []textLine, thr float32) []occurrence {
	type hit struct {
		cx    int
		score float32
	}
	// hits[line][rune]: the windows of the line that match the character.
	hits := make([][][]hit, len(lines))
	for li, l := range lines {
		hits[li] = make([][]hit, len(s.runes))
		for _, w := range s.windows(g, l.box, thr) {
			for ri, sc := range w.scores {
				if sc >= thr {
					hits[li][ri] = append(hits[li][ri], hit{w.cx, sc})
				}
			}
		}
	}
	var out []occurrence
	for li, la := range lines {
		for lj, lb := range lines {
			if lb.band != la.band || !similarLines(la.box, lb.box) {
				continue
			}
			h := min(la.box.Dy(), lb.box.Dy())
			pitch := 8 * h / 5 // reach over the rest of the form generously
			for _, p := range s.pairs {
				lo, hi := 7*h*p.d/10, (5*h*p.d)/4+8*h/5
				for _, a := range hits[li][p.a] {
					for _, b := range hits[lj][p.b] {
						if b.cx-a.cx < lo || b.cx-a.cx > hi {
							continue
						}
						top, bottom := min(la.box.Min.Y, lb.box.Min.Y)-h/4, max(la.box.Max.Y, lb.box.Max.Y)+h/4
						out = append(out, occurrence{
							strip: image.Rect(a.cx-h/2-pitch*(p.before+1), top, b.cx+h/2+pitch*(p.after+1), bottom),
							score: (a.score + b.score) / 2,
							probe: image.Rect(a.cx-3*h/2, top, b.cx+3*h/2, bottom),
							pair:  p,
							ends:  [2]end{{la.box, a.cx, p.a, a.score}, {lb.box, b.cx, p.b, b.score}},
						})
					}
				}
			}
		}
	}
	return out
}

// mergeStrips joins strips that overlap or nearly touch into their union,
// until none do.
func mergeStrips(rs []image.Rectangle) []image.Rectangle {
	out := slices.Clone(rs)
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(out); i++ {
			for j := i + 1; j < len(out); j++ {
				a, b := out[i], out[j]
				if a.Inset(-2).Overlaps(b) {
					out[i] = a.Union(b)
					out = slices.Delete(out, j, j+1)
					changed = true
					j--
				}
			}
		}
	}
	return out
}
