package identity_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/pipeline/identity"
)

func TestForms(t *testing.T) {
	cases := []struct {
		id   identity.Identity
		want []string
	}{
		{identity.Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"},
			[]string{"name 张三丰 0 0", "given_name 三丰 1 0", "employer 新疆天山重工机械有限公司 0 0", "employer_core 新疆天山重工机械 0 4", "employer_short 天山重工机械 2 4"}},
		{identity.Identity{Name: "欧阳 明轩", Employer: "乌鲁木齐经开区恒信会计师事务所"},
			[]string{"name 欧阳明轩 0 0", "given_name 明轩 2 0", "employer 乌鲁木齐经开区恒信会计师事务所 0 0", "employer_core 乌鲁木齐经开区恒信会计师 0 3", "employer_short 经开区恒信会计师 4 3"}},
		// A two-character name has no given name of two characters; a
		// legal form alone is not an employer's core.
		{identity.Identity{Name: "王建", Employer: "某公司"}, []string{"name 王建 0 0", "employer 某公司 0 0"}},
	}
	for _, c := range cases {
		var got []string
		for _, f := range identity.Forms(c.id) {
			got = append(got, fmt.Sprintf("%s %s %d %d", f.Name, f.Text, f.Before, f.After))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Forms = %q, want %q", got, c.want)
		}
	}
}

func TestIdentityHidden(t *testing.T) {
	id := identity.Identity{Name: "张三丰", Employer: "某公司"}
	for _, s := range []string{fmt.Sprint(id), fmt.Sprintf("%v %+v %#v", id, id, id)} {
		if s == "" || slices.ContainsFunc([]string{"张三丰", "某公司"}, func(x string) bool { return strings.Contains(s, x) }) {
			t.Errorf("formatted identity %q", s)
		}
	}
}

// layout places text on lines of 2%-wide glyphs starting at x, y; "\n"
// starts a new line at 0.1, and spaces are glyphs with an empty box.
func layout(x, y float64, text string) []identity.Glyph {
	var gs []identity.Glyph
	for _, r := range text {
		switch r {
		case '\n':
			x, y = 0.1, y+0.03
			gs = append(gs, identity.Glyph{Char: r})
			continue
		case ' ':
			gs = append(gs, identity.Glyph{Char: r})
			x += 0.02
			continue
		}
		gs = append(gs, identity.Glyph{Char: r, Box: [4]float64{x, y, x + 0.02, y + 0.02}})
		x += 0.02
	}
	return gs
}

func near(a, b identity.Box) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9 {
			return false
		}
	}
	return true
}

func TestFind(t *testing.T) {
	m := identity.NewMatcher(identity.Identity{Name: "张三丰", Employer: "ＡＢＣ天山重工有限公司"})
	cases := []struct {
		name  string
		gs    []identity.Glyph
		forms []identity.FormName
		boxes []identity.Box
		lines int
	}{
		{"name after a label", layout(0.1, 0.2, "姓名：张三丰"), []identity.FormName{identity.FormFullName},
			[]identity.Box{{0.16, 0.2, 0.22, 0.22}}, 1},
		{"letter-spaced name", layout(0.1, 0.2, "张 三 丰"), []identity.FormName{identity.FormFullName},
			[]identity.Box{{0.1, 0.2, 0.2, 0.22}}, 1},
		{"name across a line break", layout(0.5, 0.2, "证明张三\n丰同志"), []identity.FormName{identity.FormFullName},
			[]identity.Box{{0.1, 0.2, 0.58, 0.25}}, 2},
		{"given name only", layout(0.1, 0.2, "三丰同志"), []identity.FormName{identity.FormGivenName},
			[]identity.Box{{0.1, 0.2, 0.14, 0.22}}, 1},
		{"employer in half-width lower case", layout(0.1, 0.5, "abc天山重工"), []identity.FormName{identity.FormEmployerCore},
			[]identity.Box{{0.1, 0.5, 0.24, 0.52}}, 1},
		{"one character misread is not exact", layout(0.1, 0.2, "张三峰"), nil, nil, 0},
		{"nothing", nil, nil, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := m.Find(c.gs)
			if len(got) != len(c.forms) {
				t.Fatalf("got %d matches %+v, want %d", len(got), got, len(c.forms))
			}
			for i := range got {
				if got[i].Form != c.forms[i] || !near(got[i].Box, c.boxes[i]) || len(got[i].Lines) != c.lines {
					t.Errorf("match %d = %+v, want %s at %v on %d line(s)", i, got[i], c.forms[i], c.boxes[i], c.lines)
				}
			}
			// Ranges names the glyphs whose boxes Find needs: with only
			// those boxes, Find finds the same.
			chars := make([]rune, len(c.gs))
			for i, g := range c.gs {
				chars[i] = g.Char
			}
			ranges := m.Ranges(chars)
			if len(ranges) != len(c.forms) {
				t.Fatalf("Ranges = %v, want %d", ranges, len(c.forms))
			}
			some := make([]identity.Glyph, len(c.gs))
			for _, r := range ranges {
				copy(some[r[0]:r[1]], c.gs[r[0]:r[1]])
			}
			for i := range some {
				some[i].Char = c.gs[i].Char
			}
			again := m.Find(some)
			for i := range again {
				if again[i].Form != got[i].Form || again[i].Box != got[i].Box || len(again[i].Lines) != len(got[i].Lines) {
					t.Errorf("with the boxes of Ranges %v only, match %d = %+v, want %+v", ranges, i, again[i], got[i])
				}
			}
			if len(again) != len(got) {
				t.Errorf("with the boxes of Ranges only, %d matches, want %d", len(again), len(got))
			}
		})
	}
}

func TestCovered(t *testing.T) {
	b := identity.Box{0.1, 0.1, 0.2, 0.2}
	cases := []struct {
		name  string
		masks [][4]float64
		want  float64
	}{
		{"no mask", nil, 0},
		{"whole", [][4]float64{{0, 0, 1, 1}}, 1},
		{"left half", [][4]float64{{0, 0, 0.15, 1}}, 0.5},
		{"two overlapping halves count once", [][4]float64{{0, 0, 0.15, 1}, {0.12, 0, 0.15, 1}}, 0.5},
		{"quarters from two masks", [][4]float64{{0, 0, 0.15, 0.15}, {0.15, 0.15, 1, 1}}, 0.5},
		{"elsewhere", [][4]float64{{0.5, 0.5, 0.6, 0.6}}, 0},
	}
	for _, c := range cases {
		if got := identity.Covered(b, c.masks); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: Covered = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestMasked(t *testing.T) {
	m := identity.NewMatcher(identity.Identity{Name: "张三丰", Employer: "某某公司"})
	got := m.Find(layout(0.1, 0.2, "张三丰"))
	if len(got) != 1 {
		t.Fatalf("got %+v", got)
	}
	cases := []struct {
		name  string
		masks [][4]float64
		want  bool
	}{
		{"exact", [][4]float64{{0.1, 0.2, 0.16, 0.22}}, true},
		{"generous", [][4]float64{{0.09, 0.19, 0.17, 0.23}}, true},
		{"shifted 5% of the page", [][4]float64{{0.15, 0.2, 0.21, 0.22}}, false},
		{"last character out", [][4]float64{{0.1, 0.2, 0.14, 0.22}}, false},
		{"slightly short of the top", [][4]float64{{0.1, 0.202, 0.16, 0.22}}, true},
		{"half the height", [][4]float64{{0.1, 0.21, 0.16, 0.22}}, false},
		{"two masks", [][4]float64{{0.1, 0.2, 0.13, 0.22}, {0.13, 0.2, 0.16, 0.22}}, true},
	}
	for _, c := range cases {
		if g := got[0].Masked(c.masks); g != c.want {
			t.Errorf("%s: Masked = %v, want %v", c.name, g, c.want)
		}
	}
}
