package ocr

import (
	"image"
	"image/draw"
	"math"
	"slices"
	"testing"
)

// lookalikePage draws, in typeface sf, lines of running text full of
// common characters near the identity's (工作 beside 工, 机构 beside 机),
// and, when line >= 0, the name and employer as line number line; it
// returns the page and the identity line's box.
func lookalikePage(sf screenFont, line int) (*image.Gray, image.Rectangle) {
	text := []string{
		"工作中本人牵头完成了装配工作流程的标准化工作",
		"参与单位机构改革工作，负责设备的维修和保养工作",
		"在重点项目中担任主要技术负责人，工作业绩突出",
	}
	g := image.NewGray(image.Rect(0, 0, 1240, 900))
	draw.Draw(g, g.Bounds(), image.White, image.Point{}, draw.Src)
	var box image.Rectangle
	for i := range 14 {
		s := text[i%len(text)]
		if i == line {
			s = "张三丰同志在新疆天山重工机械有限公司工作"
		}
		bs := drawText(g, sf, s, 60, 40+60*i, 24)
		if i == line {
			box = union(bs)
		}
	}
	return g, box
}

// TestRivalsDropLookalikes: on lines of running text, most of the pairs
// the screen sees are common characters shaped like the identity's;
// compared with the common characters they go, and the probes with them,
// while a line with the name and employer is still picked in every
// typeface.
func TestRivalsDropLookalikes(t *testing.T) {
	fonts, err := screenFonts()
	if err != nil {
		t.Skip(err)
	}
	rs := rivals()
	if rs == nil || len(rs.runes) < 3700 {
		t.Fatalf("common characters: %v", rs)
	}
	id := Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"}
	sc, _ := newScreen(id)
	occurrences := func(g *image.Gray, rivalled bool) []occurrence {
		lines, _, _ := layout(g)
		var occs []occurrence
		for _, o := range sc.occurrences(g, lines, screenFloor) {
			if o.score >= ScreenThreshold {
				occs = append(occs, o)
			}
		}
		if rivalled {
			occs = sc.unrivalled(g, occs, rs)
		}
		return occs
	}
	before, after := 0, 0
	for fi, sf := range fonts {
		g, _ := lookalikePage(sf, -1)
		prepared := Prepare(g, nil)
		b, a := len(occurrences(prepared, false)), len(occurrences(prepared, true))
		t.Logf("typeface %d: %d pairs in running text, %d after the common characters", fi, b, a)
		before, after = before+b, after+a
		g, box := lookalikePage(sf, 6)
		prepared = Prepare(g, nil)
		if !slices.ContainsFunc(occurrences(prepared, true), func(o occurrence) bool { return o.strip.Overlaps(box) }) {
			t.Errorf("typeface %d: the identity's line is not picked", fi)
		}
		cands, full := sc.plan(prepared)
		if !full && !slices.ContainsFunc(cands, func(c cand) bool { return c.strip.Overlaps(box) }) {
			t.Errorf("typeface %d: the identity's line is not read", fi)
		}
	}
	if before < 10 || 3*after > before {
		t.Errorf("pairs in running text: %d, after the common characters %d: want at least 10 and at most a third left", before, after)
	}
}

// TestRivalKernelMatchesGo: bp_rivals and templates.beaten give the same
// answers on windows of a page, at thresholds round their scores.
func TestRivalKernelMatchesGo(t *testing.T) {
	if !nativeScreen {
		t.Skip("no C kernel in this build")
	}
	fonts, err := screenFonts()
	if err != nil {
		t.Skip(err)
	}
	rs := rivals()
	g, _ := lookalikePage(fonts[1], 6)
	lines, _, _ := layout(g)
	var vs []vec
	var skip []int32
	var thr []float32
	for li, l := range lines[:4] {
		h, step, first, last := windowSpan(l.box)
		for cx := first; cx <= last; cx += 7 * step {
			v, ok := sample(g, image.Rect(cx-h/2, l.box.Min.Y, cx-h/2+h, l.box.Max.Y))
			if !ok {
				continue
			}
			vs = append(vs, v)
			skip = append(skip, int32(len(vs)%len(rs.runes)))
			thr = append(thr, 0.5+0.05*float32((len(vs)+li)%9))
		}
	}
	got := rivalHitsNative(vs, skip, thr, &rs.ts)
	hits := 0
	for w := range vs {
		if want := rs.ts.beaten(&vs[w], skip[w], thr[w]); got[w] != want {
			t.Errorf("window %d at %.2f: %v in C, %v in Go", w, thr[w], got[w], want)
		}
		if got[w] {
			hits++
		}
	}
	if hits == 0 || hits == len(vs) {
		t.Errorf("%d of %d windows beaten: the test shows nothing", hits, len(vs))
	}
}

// TestBoundKeepsScores: the scores with the bound (bound.go) are those
// of every template correlated in full, where at least the threshold.
func TestBoundKeepsScores(t *testing.T) {
	fonts, err := screenFonts()
	if err != nil {
		t.Skip(err)
	}
	sc, _ := newScreen(Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"})
	kept := 0
	for _, sf := range fonts {
		g, _ := lookalikePage(sf, 6)
		lines, _, _ := layout(g)
		for _, l := range lines {
			h, step, first, last := windowSpan(l.box)
			for cx := first; cx <= last; cx += step {
				v, ok := sample(g, image.Rect(cx-h/2, l.box.Min.Y, cx-h/2+h, l.box.Max.Y))
				if !ok {
					continue
				}
				for _, thr := range []float32{0, 0.3, screenFloor, 0.7} {
					got := sc.ts.scores(&v, len(sc.runes), thr)
					want := make([]float32, len(sc.runes))
					for ti, r := range sc.ts.rune {
						if d := dot(&v, sc.ts.vec(ti)); d >= thr && d > want[r] {
							want[r] = d
						}
					}
					for r := range want {
						if got[r] != want[r] {
							t.Fatalf("window at %d on %v, threshold %.2f, %c: %v with the bound, %v without", cx, l.box, thr, sc.runes[r], got[r], want[r])
						}
						if thr == screenFloor && want[r] > 0 {
							kept++
						}
					}
				}
			}
		}
	}
	if kept == 0 {
		t.Error("no score at the floor: the test shows nothing")
	}
	// The bound itself, on a template and the window most like it.
	v := *sc.ts.vec(0)
	p := pool(&v)
	if b := 4*dotc(&p, sc.ts.cvec(0)) + rest(dot(&v, &v), &p)*sc.ts.resid[0]; math.Abs(float64(b-1)) > 1e-4 {
		t.Errorf("bound of a template with itself: %v, want 1", b)
	}
}

// TestProbeNeighbours: a pair of a form of four characters or more is
// held by a probe only with a character beside it in the form; a pair
// of the three-character name by its two characters; a two-character
// given name by one.
func TestProbeNeighbours(t *testing.T) {
	if _, err := screenFonts(); err != nil {
		t.Skip(err)
	}
	sc, _ := newScreen(Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"})
	pair := func(a, b rune, d int) screenPair {
		for _, p := range sc.pairs {
			if sc.runes[p.a] == a && sc.runes[p.b] == b && p.d == d {
				return p
			}
		}
		t.Fatalf("no pair %c%c at %d", a, b, d)
		return screenPair{}
	}
	probe := func(p screenPair) probePair {
		return probePair{a: sc.runes[p.a], b: sc.runes[p.b], whole: p.before+p.d+p.after == 1, near: p.near}
	}
	jx := pair('机', '械', 1)
	if !slices.Contains([]rune(jx.near), '工') || !slices.Contains([]rune(jx.near), '有') {
		t.Errorf("机械: beside it %q, want 工 and 有", jx.near)
	}
	for text, want := range map[string]bool{"负责机械加": false, "重工机械有": true, "工机械加": true, "负责机械有": true, "负责机加工": false} {
		if got := probe(jx).in(text); got != want {
			t.Errorf("机械 in %q: %v, want %v", text, got, want)
		}
	}
	zs := pair('张', '三', 1)
	if zs.near != "" {
		t.Errorf("张三 of the name: beside it %q, want nothing (a form of three)", zs.near)
	}
	if !probe(zs).in("同张三在") || probe(zs).in("同张王在") {
		t.Error("张三 of the name: not held by its two characters alone")
	}
	if sf := probe(pair('三', '丰', 1)); !sf.whole || !sf.in("同三年在") {
		t.Errorf("三丰, the given name: %+v, want a whole form held by one character", sf)
	}
	sc2, _ := newScreen(Identity{Name: "王建", Employer: "乌鲁木齐市建筑设计研究院"})
	for _, p := range sc2.pairs {
		if sc2.runes[p.a] == '王' && sc2.runes[p.b] == '建' {
			pr := probePair{a: '王', b: '建', whole: p.before+p.d+p.after == 1, near: p.near}
			if !pr.whole || !pr.in("由王同志") {
				t.Errorf("王建: %+v, want a whole form held by one character", pr)
			}
		}
	}
}
