package pipeline

import (
	"strings"
	"testing"

	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/identity"
	"github.com/blindpack/blindpack/pipeline/mask"
	"github.com/blindpack/blindpack/pipeline/scan"
)

// typedLine lays text out as a line of glyphs 0.02 wide and 0.015 high
// from x, y, as a text layer would give it; spaces have empty boxes.
func typedLine(x, y float64, text string) []scan.Glyph {
	var gs []scan.Glyph
	for _, r := range text {
		if r == ' ' {
			gs = append(gs, scan.Glyph{Char: r})
		} else {
			gs = append(gs, scan.Glyph{Char: r, Box: [4]float64{x, y, x + 0.02, y + 0.015}})
		}
		x += 0.02
	}
	return gs
}

func TestTextLayerCheck(t *testing.T) {
	id := identity.Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"}
	m := identity.NewMatcher(id)
	// 姓名 at 0.10–0.14, 张三丰 at 0.16–0.22 on y 0.1; the employer
	// without its legal form lower down, at 0.60–0.76 on y 0.8.
	text := append(typedLine(0.10, 0.10, "姓名：张三丰 性别：男\n"), typedLine(0.5, 0.8, "工作单位：新疆天山重工机械")...)
	name := mask.Rect{0.16, 0.10, 0.22, 0.115}
	emp := mask.Rect{0.60, 0.80, 0.76, 0.815}
	a := finding.Args{MaterialZH: "申报表", MaterialEN: "application form", Page: 3}
	cases := []struct {
		name  string
		masks []mask.Rect
		want  [][4]float64
	}{
		{"both masked", []mask.Rect{name, emp}, nil},
		{"masks drawn generously", []mask.Rect{{0.15, 0.09, 0.23, 0.12}, {0.59, 0.79, 0.8, 0.83}}, nil},
		{"name left unmasked", []mask.Rect{emp}, [][4]float64{{0.16, 0.1, 0.22, 0.115}}},
		{"name mask 5% of the page to the right", []mask.Rect{{0.21, 0.10, 0.27, 0.115}, emp}, [][4]float64{{0.16, 0.1, 0.22, 0.115}}},
		{"employer mask 5% of the page too low", []mask.Rect{name, {0.60, 0.85, 0.76, 0.865}}, [][4]float64{{0.6, 0.8, 0.76, 0.815}}},
		{"nothing masked", nil, [][4]float64{{0.16, 0.1, 0.22, 0.115}, {0.6, 0.8, 0.76, 0.815}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := unmaskedInText(m, text, c.masks, a)
			if len(got) != len(c.want) {
				t.Fatalf("got %d findings %+v, want %d", len(got), got, len(c.want))
			}
			for i, f := range got {
				if f.Code != finding.IdentityUnmasked || f.Page != 3 || f.Box == nil || *f.Box != c.want[i] {
					t.Errorf("finding %d = %+v box %v, want identity_unmasked on page 3 at %v", i, f, f.Box, c.want[i])
				}
				for _, s := range []string{f.MessageZH, f.MessageEN, f.Detail} {
					if strings.Contains(s, "张三丰") || strings.Contains(s, "三丰") || strings.Contains(s, "天山") {
						t.Errorf("finding %d quotes the identity: %q", i, s)
					}
				}
			}
		})
	}
	got := unmaskedInText(m, text, nil, a)
	if zh, en := got[0].MessageZH, got[0].MessageEN; zh != "申报表第3页上部偏左处的本人姓名没有被遮盖区域完全盖住，请使用遮盖工具遮盖后重新提交。" ||
		en != "Page 3 of the application form: your name in the upper left is not fully covered by a mask; cover it with the masking tool and submit again." {
		t.Errorf("messages %q / %q", zh, en)
	}
	if zh, en := got[1].MessageZH, got[1].MessageEN; !strings.Contains(zh, "下部偏右处的本人工作单位") || !strings.Contains(en, "your employer in the lower right") {
		t.Errorf("messages %q / %q", zh, en)
	}
}

func TestPlaceWords(t *testing.T) {
	cases := []struct {
		box    identity.Box
		zh, en string
	}{
		{identity.Box{0.4, 0.45, 0.6, 0.5}, "页面中央", "in the centre"},
		{identity.Box{0.7, 0.45, 0.9, 0.5}, "中部偏右处", "in the middle right"},
		{identity.Box{0.4, 0.9, 0.6, 1}, "下部居中处", "in the lower centre"},
		{identity.Box{0, 0, 0.1, 0.1}, "上部偏左处", "in the upper left"},
	}
	for _, c := range cases {
		if zh, en := placeWords(c.box); zh != c.zh || en != c.en {
			t.Errorf("placeWords(%v) = %q, %q; want %q, %q", c.box, zh, en, c.zh, c.en)
		}
	}
}

// TestTextLayerCheckOnARun runs the check as Process does for a page with
// a text layer: the finding is placed on the material and its page (and,
// as any finding of a run, returns the submission); a mask over the name
// silences it.
func TestTextLayerCheckOnARun(t *testing.T) {
	sub := &Submission{Identity: Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"},
		Materials: []Material{{Type: "application_form"}, {Type: "performance_summary"}}}
	p, err := New(Config{AnonSecret: []byte("0123456789abcdef"), Font: new(pdfkit.Font)})
	if err != nil {
		t.Fatal(err)
	}
	r := &run{p: p, sub: sub, log: p.log}
	spec, _ := p.cfg.Policy.Material("performance_summary")
	page := &scan.Page{Number: 2, Text: typedLine(0.1, 0.5, "本人张三丰任职以来")}
	r.checkText(1, spec, page, nil)
	r.checkText(1, spec, page, []mask.Rect{{0.14, 0.5, 0.2, 0.515}})
	if len(r.findings) != 1 {
		t.Fatalf("findings %+v, want one", r.findings)
	}
	f := r.findings[0]
	if f.Material == nil || *f.Material != 1 || f.Type != "performance_summary" || f.Page != 2 || f.Code != finding.IdentityUnmasked {
		t.Errorf("finding %+v", f)
	}
}
