package ocr_test

import (
	"image"
	"testing"

	"github.com/blindpack/blindpack/pipeline/ocr"
)

// line lays out texts as words on one line of 20-pixel characters at y,
// each word starting where the previous ended plus gap characters.
func line(y, gap int, texts ...string) []ocr.Word {
	var ws []ocr.Word
	x := 10
	for _, s := range texts {
		n := len([]rune(s))
		ws = append(ws, ocr.Word{Text: s, Box: image.Rect(x, y, x+20*n, y+20), Conf: 90})
		x += 20*n + 20*gap
	}
	return ws
}

func chars(s string) []string {
	var out []string
	for _, r := range s {
		out = append(out, string(r))
	}
	return out
}

func TestMatcherFind(t *testing.T) {
	id := ocr.Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"}
	type want struct {
		kind ocr.Kind
		form string
		dist int
	}
	cases := []struct {
		name  string
		words []ocr.Word
		want  []want
	}{
		{"name as single characters", line(100, 0, chars("姓名张三丰性别男")...), []want{{ocr.KindName, "name", 0}}},
		{"name as one run", line(100, 0, "姓名", "张三丰"), []want{{ocr.KindName, "name", 0}}},
		{"name with one character misread", line(100, 0, "张三峰"), []want{{ocr.KindName, "name", 1}}},
		{"name with one character added", line(100, 0, "张三", "一", "丰"), []want{{ocr.KindName, "name", 1}}},
		{"name letter-spaced on a certificate", line(100, 1, chars("张三丰")...), []want{{ocr.KindName, "name", 0}}},
		{"name with noise punctuation", line(100, 0, "张", "·", "三丰", "："), []want{{ocr.KindName, "name", 0}}},
		{"given name alone", line(100, 0, "签名：", "三丰"), []want{{ocr.KindName, "given_name", 0}}},
		// A pair from a three-character name is not enough (see Find).
		{"name with one character lost", line(100, 0, "张丰"), nil},
		// One error allowed is also one character of someone else's name.
		{"another person's name one character off", line(100, 0, "张三林"), []want{{ocr.KindName, "name", 1}}},
		{"surname and first given character only", line(100, 3, "张三", "李四"), nil},
		{"employer whole", line(100, 0, "工作单位", "新疆天山重工机械有限公司"), []want{{ocr.KindEmployer, "employer", 0}}},
		{"employer with one character lost", line(100, 0, "新疆天山重工机械有公司"), []want{{ocr.KindEmployer, "employer", 1}}},
		{"employer without legal form", line(100, 0, "新疆天山重工机械"), []want{{ocr.KindEmployer, "employer_core", 0}}},
		{"employer without region, one misread", line(100, 0, "天山重王机械"), []want{{ocr.KindEmployer, "employer_short", 1}}},
		{"employer with two misreads", line(100, 0, "新疆天山重王机城有限公司"), nil},
		{"name and employer on one line", line(100, 0, "张三丰", "新疆天山重工机械有限公司"),
			[]want{{ocr.KindName, "name", 0}, {ocr.KindEmployer, "employer", 0}}},
		{"name broken across two lines", append(line(100, 0, "张三"), line(140, 0, "丰")...), nil},
		{"name far apart on one line", line(100, 3, "张三", "丰"), nil},
		{"unrelated text", line(100, 0, chars("本人承诺以上所填内容真实")...), nil},
		{"nothing read", nil, nil},
	}
	m := ocr.NewMatcher(id)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := m.Find(c.words)
			if len(got) != len(c.want) {
				t.Fatalf("got %d matches %+v, want %d", len(got), got, len(c.want))
			}
			for i, w := range c.want {
				if got[i].Kind != w.kind || got[i].Form != w.form || got[i].Distance != w.dist {
					t.Errorf("match %d = %+v, want %+v", i, got[i], w)
				}
			}
		})
	}
}

// TestMatcherSpeck uses what Tesseract really gave for "名：王建" in a
// strip of a 150-dpi plain scan with a speck of dust to the right of the
// name: "王" boxed over both characters and "建" on the speck, two
// characters further on — which split the name in two before tidy moved
// a speck-sized box after the glyph before it.
func TestMatcherSpeck(t *testing.T) {
	m := ocr.NewMatcher(ocr.Identity{Name: "王建", Employer: "乌鲁木齐市建筑设计研究院"})
	got := m.Find([]ocr.Word{
		{Text: "3", Box: image.Rect(16, 26, 23, 47)}, {Text: ":", Box: image.Rect(39, 30, 43, 44)},
		{Text: "王", Box: image.Rect(55, 22, 107, 47)}, {Text: "建", Box: image.Rect(133, 25, 135, 27)},
	})
	if len(got) != 1 || got[0].Kind != ocr.KindName || got[0].Box.Min.X != 55 {
		t.Fatalf("got %+v, want the name from x 55", got)
	}
}

func TestMatcherBox(t *testing.T) {
	m := ocr.NewMatcher(ocr.Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"})
	// "姓名" at x 10–50, "张三丰" as one run at 50–110: the hit is the run.
	got := m.Find(line(100, 0, "姓名", "张三丰"))
	if len(got) != 1 || got[0].Box != image.Rect(50, 100, 110, 120) {
		t.Fatalf("got %+v, want one match at (50,100)-(110,120)", got)
	}
	// A run of five characters of which the name is the last three: the
	// box is estimated from equal shares of the run.
	got = m.Find(line(100, 0, "姓名张三丰"))
	if len(got) != 1 || got[0].Box != image.Rect(50, 100, 110, 120) {
		t.Fatalf("got %+v, want one match at (50,100)-(110,120)", got)
	}
}

// TestMatcherTesseractBoxes uses the boxes Tesseract really gave for
// "效证明王建同志自2016年" at 150 dpi: "王" reaches across the three characters
// after it and "6" across the next four. Sorting by box would scramble the
// line; reading order and tidied boxes place the name where it is (x
// 277–342 on that page).
func TestMatcherTesseractBoxes(t *testing.T) {
	box := func(x0, y0, x1, y1 int) image.Rectangle { return image.Rect(x0, y0, x1, y1) }
	words := []ocr.Word{
		{Text: "效", Box: box(202, 391, 228, 417)}, {Text: "证", Box: box(240, 392, 266, 416)},
		{Text: "明", Box: box(264, 392, 281, 417)}, {Text: "王", Box: box(283, 391, 414, 417)},
		{Text: "建", Box: box(323, 387, 353, 427)}, {Text: "同", Box: box(353, 387, 376, 427)},
		{Text: "志", Box: box(375, 387, 406, 427)}, {Text: "自", Box: box(420, 394, 428, 414)},
		{Text: "2", Box: box(435, 394, 450, 414)}, {Text: "0", Box: box(443, 391, 456, 417)},
		{Text: "1", Box: box(453, 394, 466, 414)}, {Text: "6", Box: box(468, 391, 645, 417)},
		{Text: "年", Box: box(493, 387, 523, 427)},
		// The next line.
		{Text: ")", Box: box(612, 448, 618, 471)}, {Text: "技", Box: box(643, 444, 661, 471)},
	}
	got := ocr.NewMatcher(ocr.Identity{Name: "王建", Employer: "某某公司"}).Find(words)
	if len(got) != 1 || got[0].Box.Min.X != 283 || got[0].Box.Max.X > 360 {
		t.Fatalf("got %+v, want the name from x 283 to about 353", got)
	}
}

func TestMatcherForms(t *testing.T) {
	cases := []struct {
		name string
		id   ocr.Identity
		text []string
		form string
	}{
		{"compound surname's given name", ocr.Identity{Name: "欧阳明轩", Employer: "某某"}, []string{"明轩"}, "given_name"},
		{"two-character name exact", ocr.Identity{Name: "王建", Employer: "某某"}, []string{"王建"}, "name"},
		{"spaces in the name", ocr.Identity{Name: "王 建", Employer: "某某"}, []string{"王建"}, "name"},
		{"full-width Latin in the employer", ocr.Identity{Name: "王建", Employer: "ＡＢＣ科技有限公司"}, []string{"abc科技有限公司"}, "employer"},
		{"legal form 股份有限公司", ocr.Identity{Name: "王建", Employer: "新疆准东能源化工股份有限公司"}, []string{"新疆准东能源化工"}, "employer_core"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ocr.NewMatcher(c.id).Find(line(100, 0, c.text...))
			if len(got) != 1 || got[0].Form != c.form || got[0].Distance != 0 {
				t.Fatalf("got %+v, want one exact %s", got, c.form)
			}
		})
	}
	// A two-character name allows no error.
	if got := ocr.NewMatcher(ocr.Identity{Name: "王建", Employer: "某某"}).Find(line(100, 0, "王键")); len(got) != 0 {
		t.Fatalf("two-character name matched with an error: %+v", got)
	}
}

// BenchmarkMatcherFind measures matching on a dense page: 40 lines of 35
// single-character words, what Tesseract returns for a work summary.
func BenchmarkMatcherFind(b *testing.B) {
	m := ocr.NewMatcher(ocr.Identity{Name: "李静怡", Employer: "乌鲁木齐经开区恒信会计师事务所有限公司"})
	text := []rune("任现职以来本人负责企业全面预算管理制度的建立与实施工作通过反复试验和数据分析使资金使用效率明显提高")
	var words []ocr.Word
	for l := range 40 {
		for i := range 35 {
			words = append(words, ocr.Word{Text: string(text[(l+i)%len(text)]), Box: image.Rect(10+22*i, 30*l, 30+22*i, 30*l+20)})
		}
	}
	b.ResetTimer()
	for b.Loop() {
		m.Find(words)
	}
}
