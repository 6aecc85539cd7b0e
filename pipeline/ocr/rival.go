package ocr

import (
	"image"
	"sync"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Most pairs the screen sees are not the identity's characters but
// common characters shaped a little like them: 作 taken for 集 or 械
// beside a true 工, over and over in 工作. Each such pair cost a probe
// read by Tesseract. A window that stands for one of the identity's
// characters in a pair is therefore compared with the common characters
// too — GB 2312's first level, the 3,755 characters of everyday text, in
// the screen's typefaces — and does not stand for the character when one
// of them matches it clearly better: by rivalMargin or more. Recall is
// what matters, so the margin is wide (README, "What it costs").
const rivalMargin = 0.2

// rivalReach is how many of the screen's steps (an eighth of a line's
// height) either side of the window the common characters are compared
// at: a false half of a pair is where the identity's character fits best,
// not where the character that stands there does.
const rivalReach = 2

// rivalSet is the common characters' templates: ts.rune[t] is the
// index in runes of template t.
type rivalSet struct {
	runes []rune
	index map[rune]int
	ts    templates
}

var (
	rivalsOnce sync.Once
	rivalsSet  *rivalSet
)

// rivals draws the common characters in the screen's typefaces, once a
// process (under a second of CPU; 57 MB); nil without a typeface.
func rivals() *rivalSet {
	rivalsOnce.Do(func() {
		fonts, err := screenFonts()
		if err != nil {
			return
		}
		han := commonHan()
		rs := &rivalSet{index: map[rune]int{}}
		rs.ts.grow(len(han) * len(fonts))
		for _, r := range han {
			i := len(rs.runes)
			for _, f := range fonts {
				vs, _ := f.templates(r)
				for _, v := range vs {
					rs.ts.add(&v, i)
				}
			}
			if rs.ts.len() > 0 && rs.ts.rune[rs.ts.len()-1] == int32(i) {
				rs.runes = append(rs.runes, r)
				rs.index[r] = i
			}
		}
		if len(rs.runes) > 0 {
			rivalsSet = rs
		}
	})
	return rivalsSet
}

// commonHan returns GB 2312's first-level characters (rows 16–55), in
// the standard's order.
func commonHan() []rune {
	dec := simplifiedchinese.GBK.NewDecoder()
	var out []rune
	for hi := 0xB0; hi <= 0xD7; hi++ {
		for lo := 0xA1; lo <= 0xFE; lo++ {
			if hi == 0xD7 && lo > 0xF9 { // row 55 ends at 55-89
				break
			}
			s, err := dec.Bytes([]byte{byte(hi), byte(lo)})
			if err != nil {
				continue
			}
			out = append(out, []rune(string(s))...)
		}
	}
	return out
}

// end is one of an occurrence's two windows: the line it stands on, its
// centre, the identity character it stands for (index in screen.runes)
// and its score.
type end struct {
	line  image.Rectangle
	cx    int
	r     int
	score float32
}

// shapes samples e's window and those rivalReach steps either side (the
// screen's step, an eighth of the line's height); a window with almost
// no ink is left out.
func (e end) shapes(g *image.Gray) []vec {
	h := e.line.Dy()
	step := max(1, h/8)
	var out []vec
	for d := -rivalReach; d <= rivalReach; d++ {
		x := e.cx + d*step - h/2
		if v, ok := sample(g, image.Rect(x, e.line.Min.Y, x+h, e.line.Max.Y)); ok {
			out = append(out, v)
		}
	}
	return out
}

// unrivalled returns the occurrences none of whose windows a common
// character other than the identity's own matches by rivalMargin better
// than the identity's character. The weaker window of each occurrence is
// judged first, the stronger only where the weaker stood: most pairs in
// running text are one true character of the identity (工 of 工作) and a
// false one, and judging a true character means comparing it with every
// common character.
func (s *screen) unrivalled(g *image.Gray, occs []occurrence, rs *rivalSet) []occurrence {
	type key struct {
		line image.Rectangle
		cx   int
		r    int
	}
	verdict := map[key]bool{} // true: rivalled
	judge := func(es []end) {
		var vs []vec
		var skip []int32
		var thr []float32
		var keys []key
		for _, e := range es {
			k := key{e.line, e.cx, e.r}
			if _, ok := verdict[k]; ok {
				continue
			}
			verdict[k] = false
			self, has := rs.index[s.runes[e.r]]
			if !has {
				self = -1
			}
			for _, v := range e.shapes(g) {
				vs, skip, thr, keys = append(vs, v), append(skip, int32(self)), append(thr, e.score+rivalMargin), append(keys, k)
			}
		}
		for i, hit := range rivalHits(vs, skip, thr, rs) {
			verdict[keys[i]] = verdict[keys[i]] || hit
		}
	}
	weak := func(o occurrence) (end, end) {
		if o.ends[1].score < o.ends[0].score {
			return o.ends[1], o.ends[0]
		}
		return o.ends[0], o.ends[1]
	}
	rivalled := func(e end) bool { return verdict[key{e.line, e.cx, e.r}] }
	var es []end
	for _, o := range occs {
		w, _ := weak(o)
		es = append(es, w)
	}
	judge(es)
	es = es[:0]
	for _, o := range occs {
		if w, st := weak(o); !rivalled(w) {
			es = append(es, st)
		}
	}
	judge(es)
	var out []occurrence
	for _, o := range occs {
		if !rivalled(o.ends[0]) && !rivalled(o.ends[1]) {
			out = append(out, o)
		}
	}
	return out
}

// rivalHits reports for each window vs[w] whether a template of a common
// character other than skip[w] (an index in rs.runes, or -1) scores at
// least thr[w]: in C where cgo is built in, else in Go (the same dot
// products, so the same answers). The templates are read once for all
// the windows, four at a time, and a window is not scored further once
// it has its answer.
func rivalHits(vs []vec, skip []int32, thr []float32, rs *rivalSet) []bool {
	if len(vs) == 0 {
		return nil
	}
	if nativeScreen {
		return rivalHitsNative(vs, skip, thr, &rs.ts)
	}
	hit := make([]bool, len(vs))
	for w := range vs {
		hit[w] = rs.ts.beaten(&vs[w], skip[w], thr[w])
	}
	return hit
}
