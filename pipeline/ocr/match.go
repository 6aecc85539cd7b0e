package ocr

import (
	"image"
	"slices"

	"github.com/blindpack/blindpack/pipeline/identity"
)

// Matcher finds the forms of one identity in what an engine read: the
// forms and matching rules are pipeline/identity's, with one OCR error
// allowed. It is safe for concurrent use.
type Matcher struct {
	m *identity.Matcher
}

// Match is one place a form was found, in the pixels of the image read.
type Match struct {
	Kind     Kind
	Form     string
	Box      image.Rectangle
	Distance int
}

// NewMatcher prepares the forms of id.
func NewMatcher(id Identity) *Matcher {
	return &Matcher{identity.NewMatcher(id)}
}

// glyph is one character read, with its estimated box.
type glyph struct {
	r   rune
	box image.Rectangle
}

// Find returns where the identity's forms occur in words, allowing one OCR
// error in forms of three characters or more. Where two forms of the same
// kind overlap (the name and the given name in it), only the longer is
// kept.
//
// One error means edit distance 1, with one restriction: the text read must
// be at least three characters. A three-character name with one character
// lost is a pair of characters, and a pair is the evidence the rules accept
// only as an exact given name; any pair from a name ("张三", "张丰") turns up
// in running text far too often to flag a page for it. The one error that
// is allowed still costs something: for 张三丰 it accepts 张三 followed by
// any character, so a colleague 张三林 is flagged too — for an
// administrator to dismiss, which is the cheaper mistake.
func (m *Matcher) Find(words []Word) []Match {
	var out []Match
	for _, line := range lines(words) {
		out = append(out, m.findLine(line)...)
	}
	return out
}

func (m *Matcher) findLine(line []glyph) []Match {
	text := make([]rune, len(line))
	for i, g := range line {
		text[i] = g.r
	}
	var out []Match
	for _, s := range m.m.Spans(text, identity.OneError) {
		box := line[s.Start].box
		for _, g := range line[s.Start+1 : s.End] {
			box = box.Union(g.box)
		}
		out = append(out, Match{Kind: s.Kind, Form: string(s.Form), Box: box, Distance: s.Distance})
	}
	return out
}

// lines splits words, in the engine's reading order, into lines of
// glyphs. The order is the engine's because its boxes are not good enough
// to sort by: Tesseract's boxes for Chinese overlap their neighbours and
// the last character before a space often reaches across it (a "王" 130
// pixels wide, covering the "建同志" after it), while the order it reads in
// is right. A new line starts where a glyph does not overlap the previous
// one vertically by a third of the smaller height, or starts well to the
// left of it (the text wrapped). Each line is then tidied (see tidy) and
// split where two glyphs are further apart than one and a half
// characters: a label and a value in separate table cells are separate.
func lines(words []Word) [][]glyph {
	var out [][]glyph
	var cur []glyph
	flush := func() {
		if len(cur) > 0 {
			out = append(out, split(tidy(cur))...)
		}
		cur = nil
	}
	for _, w := range words {
		for _, g := range glyphs(w) {
			if n := len(cur); n > 0 {
				a, b := cur[n-1].box, g.box
				overlap := min(a.Max.Y, b.Max.Y) - max(a.Min.Y, b.Min.Y)
				if 3*overlap < min(a.Dy(), b.Dy()) || b.Min.X < a.Min.X-max(a.Dy(), b.Dy()) {
					flush()
				}
			}
			cur = append(cur, g)
		}
	}
	flush()
	return out
}

// tidy corrects the boxes of one line: no glyph wider than 1.2 times the
// line's median height (Chinese characters are square; the left edge is
// the reliable one), none above or below the line's band by more than a
// fifth of it, and none a speck (see below).
func tidy(line []glyph) []glyph {
	hs := make([]int, len(line))
	tops := make([]int, len(line))
	bottoms := make([]int, len(line))
	for i, g := range line {
		hs[i], tops[i], bottoms[i] = g.box.Dy(), g.box.Min.Y, g.box.Max.Y
	}
	h, top, bottom := median(hs), median(tops), median(bottoms)
	for i := range line {
		b := &line[i].box
		if i > 0 && 3*b.Dx() < h && 3*b.Dy() < h {
			// A letter or digit boxed smaller than a third of the line
			// each way is not where Tesseract put it: its LSTM sometimes
			// gives a character the box of a speck of dust further on
			// (a name "王建" read as "王" and a "建" two characters to the
			// right of it, then split apart). The reading order is right:
			// it goes after the glyph before it.
			prev := line[i-1].box
			*b = image.Rect(prev.Max.X, top, prev.Max.X+h, bottom)
		}
		b.Max.X = min(b.Max.X, b.Min.X+max(6*h/5, 1))
		b.Min.Y = max(b.Min.Y, top-h/5)
		b.Max.Y = min(b.Max.Y, bottom+h/5)
		if b.Max.Y <= b.Min.Y {
			b.Min.Y, b.Max.Y = top, max(bottom, top+1)
		}
	}
	return line
}

// split cuts a line where the gap between two glyphs exceeds one and a
// half times the line's median height.
func split(line []glyph) [][]glyph {
	hs := make([]int, len(line))
	for i, g := range line {
		hs[i] = g.box.Dy()
	}
	h := median(hs)
	var out [][]glyph
	start := 0
	for i := 1; i < len(line); i++ {
		if 2*(line[i].box.Min.X-line[i-1].box.Max.X) > 3*h {
			out = append(out, line[start:i])
			start = i
		}
	}
	return append(out, line[start:])
}

func median(v []int) int {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// glyphs splits a word into its normalised characters, each given an equal
// share of the word's width; Tesseract gives one character per word, so
// this matters only for other engines.
func glyphs(w Word) []glyph {
	if w.Box.Empty() {
		return nil
	}
	rs := []rune(w.Text)
	var out []glyph
	for i, r := range rs {
		x0 := w.Box.Min.X + w.Box.Dx()*i/len(rs)
		x1 := w.Box.Min.X + w.Box.Dx()*(i+1)/len(rs)
		for _, n := range identity.Normalize(string(r)) {
			out = append(out, glyph{n, image.Rect(x0, w.Box.Min.Y, max(x1, x0+1), w.Box.Max.Y)})
		}
	}
	return out
}
