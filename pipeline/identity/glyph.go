package identity

import (
	"cmp"
	"slices"
)

// Box is a rectangle [x0, y0, x1, y1] in fractions of the displayed page,
// origin top left: the frame of a submission's masks.
type Box [4]float64

// Empty reports whether b has no area.
func (b Box) Empty() bool { return b[2] <= b[0] || b[3] <= b[1] }

// Union is the smallest box holding b and o; an empty box adds nothing.
func (b Box) Union(o Box) Box {
	switch {
	case o.Empty():
		return b
	case b.Empty():
		return o
	}
	return Box{min(b[0], o[0]), min(b[1], o[1]), max(b[2], o[2]), max(b[3], o[3])}
}

// Glyph is one character of a text layer and its box on the displayed
// page; a space or line break may be a glyph with an empty box. It has the
// shape of scan.Glyph, so one converts to the other.
type Glyph struct {
	Char rune
	Box  [4]float64
}

// Match is one occurrence of a form in a glyph sequence.
type Match struct {
	Kind Kind
	Form FormName
	// Box is the union of the matched glyphs' boxes.
	Box Box
	// Lines are the boxes of the matched glyphs line by line: an
	// occurrence broken across a line has two, and a mask for it is two
	// rectangles, not one that covers both lines' width.
	Lines []Box
	// Glyphs are the matched glyphs' boxes, for a coverage test.
	Glyphs []Box
}

// Find returns every exact occurrence of the identity's forms in gs, in
// reading order. A match may cross spaces, punctuation and line breaks:
// they are not letters or digits, so they are skipped, as in Normalize.
func (m *Matcher) Find(gs []Glyph) []Match {
	chars := make([]rune, len(gs))
	for i, g := range gs {
		chars[i] = g.Char
	}
	text, owner := normalized(chars)
	var out []Match
	for _, s := range m.Spans(text, Exact) {
		mt := Match{Kind: s.Kind, Form: s.Form}
		last := -1
		for j := s.Start; j < s.End; j++ {
			gi := owner[j]
			if gi == last {
				continue
			}
			last = gi
			b := Box(gs[gi].Box)
			if b.Empty() {
				continue
			}
			mt.Glyphs = append(mt.Glyphs, b)
			mt.Box = mt.Box.Union(b)
			if n := len(mt.Lines); n > 0 && sameLine(mt.Lines[n-1], b) {
				mt.Lines[n-1] = mt.Lines[n-1].Union(b)
			} else {
				mt.Lines = append(mt.Lines, b)
			}
		}
		if !mt.Box.Empty() {
			out = append(out, mt)
		}
	}
	return out
}

// Ranges returns where Find would find the identity in a text layer of
// these characters, before their boxes are known: the ranges [start, end)
// of chars that hold an occurrence, for a reader that fetches boxes only
// where they are needed. Find on the glyphs, with those boxes, gives the
// matches.
func (m *Matcher) Ranges(chars []rune) [][2]int {
	text, owner := normalized(chars)
	var out [][2]int
	for _, s := range m.Spans(text, Exact) {
		out = append(out, [2]int{owner[s.Start], owner[s.End-1] + 1})
	}
	return out
}

// normalized is chars normalised as Find matches them (see Normalize),
// and for each rune of it the index of the character it comes from.
func normalized(chars []rune) (text []rune, owner []int) {
	var buf []rune
	for i, c := range chars {
		buf = normRune(c, buf[:0])
		for _, r := range buf {
			text = append(text, r)
			owner = append(owner, i)
		}
	}
	return text, owner
}

// sameLine reports whether b continues the line whose box so far is l:
// it overlaps l vertically by half the smaller height and does not start
// left of it.
func sameLine(l, b Box) bool {
	overlap := min(l[3], b[3]) - max(l[1], b[1])
	return 2*overlap >= min(l[3]-l[1], b[3]-b[1]) && b[0] >= l[0]
}

// Covered returns the fraction of b's area that lies under the union of
// rects, exactly: the strips between the rectangles' x edges, each
// covered by the union of its rectangles' y intervals.
func Covered(b Box, rects [][4]float64) float64 {
	area := (b[2] - b[0]) * (b[3] - b[1])
	if area <= 0 {
		return 1
	}
	var clip []Box
	xs := []float64{b[0], b[2]}
	for _, r := range rects {
		c := Box{max(r[0], b[0]), max(r[1], b[1]), min(r[2], b[2]), min(r[3], b[3])}
		if c.Empty() {
			continue
		}
		clip = append(clip, c)
		xs = append(xs, c[0], c[2])
	}
	if len(clip) == 0 {
		return 0
	}
	slices.Sort(xs)
	var covered float64
	for i := 0; i+1 < len(xs); i++ {
		x0, x1 := xs[i], xs[i+1]
		if x1 <= x0 {
			continue
		}
		var ys [][2]float64
		for _, c := range clip {
			if c[0] <= x0 && c[2] >= x1 {
				ys = append(ys, [2]float64{c[1], c[3]})
			}
		}
		covered += (x1 - x0) * unionLength(ys)
	}
	return min(covered/area, 1)
}

// unionLength is the total length of the union of intervals.
func unionLength(iv [][2]float64) float64 {
	if len(iv) == 0 {
		return 0
	}
	slices.SortFunc(iv, func(a, b [2]float64) int { return cmp.Compare(a[0], b[0]) })
	total, cur := 0.0, iv[0]
	for _, v := range iv[1:] {
		if v[0] > cur[1] {
			total += cur[1] - cur[0]
			cur = v
			continue
		}
		cur[1] = max(cur[1], v[1])
	}
	return total + cur[1] - cur[0]
}

// MinGlyphCover is how much of each glyph of an occurrence must lie under
// the masks for the occurrence to count as masked. It is judged glyph by
// glyph, not over the whole occurrence, because one character left in
// view of a three-character name is a third of it; 80% rather than all of
// it because a text layer's glyph box is the font's, a little taller than
// the ink a careful mask is drawn around.
const MinGlyphCover = 0.8

// Masked reports whether every glyph of the occurrence is at least
// MinGlyphCover under the union of masks.
func (m Match) Masked(masks [][4]float64) bool {
	for _, g := range m.Glyphs {
		if Covered(g, masks) < MinGlyphCover {
			return false
		}
	}
	return true
}
