package identity

import (
	"cmp"
	"slices"
)

// Matcher finds the forms of one identity in text. It is safe for
// concurrent use.
type Matcher struct {
	forms []normForm
}

type normForm struct {
	Form
	r []rune
}

// NewMatcher prepares the forms of id, normalised (see Normalize); a form
// that normalises to fewer than two characters, or to another form's
// text, is left out.
func NewMatcher(id Identity) *Matcher {
	m := &Matcher{}
	seen := map[string]bool{}
	for _, f := range Forms(id) {
		n := Normalize(f.Text)
		if runes(n) < 2 || seen[n] {
			continue
		}
		seen[n] = true
		m.forms = append(m.forms, normForm{f, []rune(n)})
	}
	return m
}

// Span is one place a form occurs in a text: the runes [Start, End).
type Span struct {
	Kind       Kind
	Form       FormName
	Start, End int
	// Distance is the edit distance between the text there and the form:
	// 0 for an exact match.
	Distance int
}

// Tolerance is how far from a form a text may be and still match.
type Tolerance int

// Tolerances.
const (
	// Exact matches the forms only as they are: for text that is known,
	// such as a PDF's text layer.
	Exact Tolerance = iota
	// OneError allows one edit in forms of three characters or more, the
	// text matched being at least three characters: for what OCR read. A
	// pair of characters is the evidence accepted only as an exact given
	// name; any pair from a name turns up in running text far too often.
	OneError
)

// Spans returns where the forms occur in text, which must already be
// normalised (see Normalize), left to right. Where two matches of the same
// kind overlap (the name and the given name in it), only the better is
// kept: the one with more characters right, an error counting against
// two, then fewer errors, then the text as long as the form, then the
// leftmost.
func (m *Matcher) Spans(text []rune, tol Tolerance) []Span {
	type cand struct {
		f       *normForm
		i, n, d int
	}
	var cands []cand
	for fi := range m.forms {
		f := &m.forms[fi]
		k := 0
		minLen := len(f.r)
		if tol == OneError && len(f.r) >= 3 {
			k = 1
			minLen = max(len(f.r)-1, 3)
		}
		for i := range text {
			if k == 0 && text[i] != f.r[0] {
				continue
			}
			for n := minLen; n <= len(f.r)+k && i+n <= len(text); n++ {
				if d := distance(text[i:i+n], f.r, k); d <= k {
					cands = append(cands, cand{f, i, n, d})
				}
			}
		}
	}
	score := func(c cand) int { return len(c.f.r) - 2*c.d }
	slices.SortStableFunc(cands, func(a, b cand) int {
		return cmp.Or(
			cmp.Compare(score(b), score(a)),
			cmp.Compare(a.d, b.d),
			cmp.Compare(abs(a.n-len(a.f.r)), abs(b.n-len(b.f.r))),
			cmp.Compare(a.i, b.i))
	})
	var kept []cand
	for _, c := range cands {
		if slices.ContainsFunc(kept, func(k cand) bool {
			return k.f.Kind == c.f.Kind && c.i < k.i+k.n && k.i < c.i+c.n
		}) {
			continue
		}
		kept = append(kept, c)
	}
	slices.SortFunc(kept, func(a, b cand) int { return cmp.Compare(a.i, b.i) })
	out := make([]Span, 0, len(kept))
	for _, c := range kept {
		out = append(out, Span{Kind: c.f.Kind, Form: c.f.Name, Start: c.i, End: c.i + c.n, Distance: c.d})
	}
	return out
}

func abs(v int) int { return max(v, -v) }

// distance is the edit distance between a and b when it is at most k, and
// k+1 otherwise; k is 0 or 1, so no table is needed.
func distance(a, b []rune, k int) int {
	if slices.Equal(a, b) {
		return 0
	}
	if k == 0 {
		return 1
	}
	switch len(a) - len(b) {
	case 0:
		diff := 0
		for i := range a {
			if a[i] != b[i] {
				diff++
			}
		}
		return min(diff, 2)
	case 1:
		if oneInsert(a, b) {
			return 1
		}
	case -1:
		if oneInsert(b, a) {
			return 1
		}
	}
	return 2
}

// oneInsert reports whether long is short with one rune inserted.
func oneInsert(long, short []rune) bool {
	i := 0
	for i < len(short) && long[i] == short[i] {
		i++
	}
	return slices.Equal(long[i+1:], short[i:])
}
