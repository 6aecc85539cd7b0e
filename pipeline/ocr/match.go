package ocr

import (
	"cmp"
	"image"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// The forms of the identity looked for are the verifier's
// (pipeline/verify/identity.go): the whole name, the given name of two
// characters or more, the whole employer, the employer without its legal
// form, and that without its region. They are repeated here, not shared,
// because the verifier keeps them private to its byte search; keep the
// lists in step.
var (
	legalForms       = []string{"集团股份有限公司", "股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "分公司", "公司", "事务所", "研究院", "研究所"}
	regions          = []string{"新疆维吾尔自治区", "新疆", "乌鲁木齐市", "乌鲁木齐", "中国", "经开区", "头屯河区"}
	compoundSurnames = []string{"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒", "夏侯", "轩辕", "单于", "独孤", "南宫", "呼延", "宇文", "长孙", "申屠"}
)

// form is one string looked for.
type form struct {
	kind Kind
	name string // "name", "given_name", …
	r    []rune
}

// Matcher finds the forms of one identity in what an engine read. It is
// safe for concurrent use.
type Matcher struct {
	forms []form
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
	m := &Matcher{}
	seen := map[string]bool{}
	add := func(k Kind, name, s string) {
		r := []rune(normalize(s))
		if len(r) < 2 || seen[string(r)] {
			return
		}
		seen[string(r)] = true
		m.forms = append(m.forms, form{k, name, r})
	}
	n := normalize(id.Name)
	add(KindName, "name", n)
	given := ""
	for _, c := range compoundSurnames {
		if strings.HasPrefix(n, c) && utf8.RuneCountInString(n) > 2 {
			given = strings.TrimPrefix(n, c)
		}
	}
	if given == "" && utf8.RuneCountInString(n) >= 3 {
		_, size := utf8.DecodeRuneInString(n)
		given = n[size:]
	}
	add(KindName, "given_name", given)
	emp := normalize(id.Employer)
	add(KindEmployer, "employer", emp)
	core := emp
	for _, s := range legalForms {
		if strings.HasSuffix(core, s) && utf8.RuneCountInString(core) > utf8.RuneCountInString(s)+1 {
			core = strings.TrimSuffix(core, s)
			break
		}
	}
	add(KindEmployer, "employer_core", core)
	for _, r := range regions {
		if strings.HasPrefix(core, r) && utf8.RuneCountInString(core) > utf8.RuneCountInString(r)+1 {
			add(KindEmployer, "employer_short", strings.TrimPrefix(core, r))
			break
		}
	}
	return m
}

// normalize keeps the letters and digits of s, full-width folded to
// half-width and lower-cased: OCR reads "：" or ":" and " " or nothing at
// random, and a middle dot in a name ("·") is as likely to be lost.
func normalize(s string) string {
	var b strings.Builder
	for _, r := range width.Fold.String(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
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
	type cand struct {
		f       form
		i, n, d int
	}
	var cands []cand
	for _, f := range m.forms {
		k := 0
		minLen := len(f.r)
		if len(f.r) >= 3 {
			k = 1
			minLen = max(len(f.r)-1, 3)
		}
		for i := range text {
			for n := minLen; n <= len(f.r)+k && i+n <= len(text); n++ {
				if d := distance(text[i:i+n], f.r, k); d <= k {
					cands = append(cands, cand{f, i, n, d})
				}
			}
		}
	}
	// Best first by the characters read right, an error counting against
	// two: "名三丰" is the given name read right (2) rather than the name
	// with one error (1), and "新疆天山重工机械有公司" the whole employer with
	// one error (10) rather than its core read right (8). Then fewer
	// errors, the read text as long as the form, leftmost.
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
			return k.f.kind == c.f.kind && c.i < k.i+k.n && k.i < c.i+c.n
		}) {
			continue
		}
		kept = append(kept, c)
	}
	slices.SortFunc(kept, func(a, b cand) int { return cmp.Compare(a.i, b.i) })
	out := make([]Match, 0, len(kept))
	for _, c := range kept {
		box := line[c.i].box
		for _, g := range line[c.i+1 : c.i+c.n] {
			box = box.Union(g.box)
		}
		out = append(out, Match{Kind: c.f.kind, Form: c.f.name, Box: box, Distance: c.d})
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
// fifth of it.
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
	rs := []rune(width.Fold.String(w.Text))
	var out []glyph
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			continue
		}
		x0 := w.Box.Min.X + w.Box.Dx()*i/len(rs)
		x1 := w.Box.Min.X + w.Box.Dx()*(i+1)/len(rs)
		out = append(out, glyph{unicode.ToLower(r), image.Rect(x0, w.Box.Min.Y, max(x1, x0+1), w.Box.Max.Y)})
	}
	return out
}
