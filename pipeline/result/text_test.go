package result

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/blindpack/blindpack/internal/pdfkit"
)

// gridMeasure counts CJK characters as one unit and ASCII as half.
func gridMeasure(s string) float64 {
	w := 0.0
	for _, r := range s {
		if r < 0x80 {
			w += 0.5
		} else {
			w++
		}
	}
	return w
}

func TestWrapKinsoku(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		width float64
		want  []string
	}{
		{"CommaCarriesPrevious", "一二三四，五六", 4, []string{"一二三", "四，五六"}},
		{"PeriodCarries", "一二三四。五六七八", 4, []string{"一二三", "四。五六", "七八"}},
		{"OpeningBracketMoves", "一二三《四五》六", 4, []string{"一二三", "《四五》", "六"}},
		{"ClosingBracketAndComma", "一二三四）、五", 4, []string{"一二三", "四）、五"}},
		{"NumberKeptWhole", "一二三2024年", 4, []string{"一二三", "2024年"}},
		{"FitsExactly", "一二三四", 4, []string{"一二三四"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrap(tt.text, tt.width, tt.width, gridMeasure)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("wrap(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestWrapProperties wraps random text full of punctuation and checks the
// rules on every line: nothing lost, nothing too wide that could have been
// broken, no forbidden character at a line's start or end.
func TestWrapProperties(t *testing.T) {
	alphabet := []rune("人力资源和社会保障局评审通过、，。；：？！）》」』（《「『2024abc ")
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		n := 1 + rng.IntN(80)
		rs := make([]rune, n)
		for j := range rs {
			rs[j] = alphabet[rng.IntN(len(alphabet))]
		}
		text := strings.TrimSpace(string(rs))
		if text == "" {
			continue
		}
		width := float64(4 + rng.IntN(20))
		lines := wrap(text, width-2, width, gridMeasure)
		if got := strings.ReplaceAll(strings.Join(lines, ""), " ", ""); got != strings.ReplaceAll(text, " ", "") {
			t.Fatalf("case %d: text changed: %q → %q", i, text, lines)
		}
		for k, line := range lines {
			if line == "" {
				t.Fatalf("case %d: empty line in %q", i, lines)
			}
			limit := width
			if k == 0 {
				limit = width - 2
			}
			us := units(line)
			if gridMeasure(line) > limit && len(us) > 1 {
				t.Errorf("case %d: line %q wider than %g", i, line, limit)
			}
			first, _ := utf8.DecodeRuneInString(line)
			last, _ := utf8.DecodeLastRuneInString(line)
			// A rule can only be broken when a whole line is made of
			// forbidden characters; then carrying over cannot help.
			if k > 0 && strings.ContainsRune(noLineStart, first) && !allForbidden(lines[k-1]) {
				t.Errorf("case %d: line %d starts with %q: %q", i, k, first, lines)
			}
			if k < len(lines)-1 && strings.ContainsRune(noLineEnd, last) && !allForbidden(line) {
				t.Errorf("case %d: line %d ends with %q: %q", i, k, last, lines)
			}
		}
	}
}

func allForbidden(line string) bool {
	us := units(line)
	for i := 1; i < len(us); i++ {
		if !forbiddenStart(us[i]) && !forbiddenEnd(us[i-1]) {
			return false
		}
	}
	return true
}

func TestWrapTitle(t *testing.T) {
	title := "关于公布2024年度企业工程系列中级专业技术职务任职资格评审结果的通知"
	got := wrapTitle(title, 28, gridMeasure)
	if len(got) != 2 || !strings.HasSuffix(got[0], "中级") {
		t.Errorf("wrapTitle = %q, want two lines breaking after 中级", got)
	}
	if got := wrapTitle("第一行\n第二行", 28, gridMeasure); strings.Join(got, "|") != "第一行|第二行" {
		t.Errorf("explicit break not kept: %q", got)
	}
}

// TestWrapTitleWords sets titles of the kind the batches carry at the
// title's real width (2号 type in the text block less two characters) and
// checks that every break falls between words — never 专业技 / 术职务 — and
// that the lines are balanced.
func TestWrapTitleWords(t *testing.T) {
	f, _ := fixture(t)
	st := pdfkit.TextStyle{Font: f.Song, Size: titleSize}
	o := pdfkit.TextOptions{Bold: 0.45}
	measure := func(s string) float64 { return pdfkit.TextWidth(s, st, o) }
	width := blockW - 2*gridChar
	for _, tt := range []struct {
		title string
		want  []string // "" for no fixed expectation
	}{
		{"关于公布2024年度企业工程系列中级专业技术职务任职资格评审结果的通知", []string{"关于公布2024年度企业工程系列中级", "专业技术职务任职资格评审结果的通知"}},
		// Set at the old code's breaks: 审 / 计 and 专业技 / 术职务.
		{"关于公布2024年度企业经济、审计、会计、统计系列副高级专业技术职务任职资格评审结果的通知",
			[]string{"关于公布2024年度企业经济、审计、", "会计、统计系列副高级专业技术职务", "任职资格评审结果的通知"}},
		{"关于公布2024年度经济技术开发区（头屯河区）企业专业技术人员职称评审结果的通知", nil},
		{"关于公布经济技术开发区（头屯河区）2024年度企业工程系列中级专业技术职务任职资格评审结果的通知", nil},
		{"关于公布2024年度企业会计系列副高级专业技术职务任职资格评审通过人员名单的通知", nil},
		{"关于公布评审结果的通知", []string{"关于公布评审结果的通知"}},
	} {
		lines := wrapTitle(tt.title, width, measure)
		if strings.Join(lines, "") != tt.title {
			t.Errorf("%s: text changed: %q", tt.title, lines)
		}
		if tt.want != nil && strings.Join(lines, "|") != strings.Join(tt.want, "|") {
			t.Errorf("wrapTitle(%s) = %q, want %q", tt.title, lines, tt.want)
		}
		// Every break is a word boundary: no dictionary word spans it.
		pos := 0
		rs := []rune(tt.title)
		for _, l := range lines[:len(lines)-1] {
			pos += len([]rune(l))
			for _, w := range titleWords {
				n := len([]rune(w))
				for start := max(0, pos-n+1); start < pos && start+n <= len(rs); start++ {
					if string(rs[start:start+n]) == w && start+n > pos {
						t.Errorf("%s: break %q | %q splits %s", tt.title, string(rs[:pos]), string(rs[pos:]), w)
					}
				}
			}
			if strings.HasPrefix(string(rs[pos:]), "的") {
				t.Errorf("%s: a line starts with 的", tt.title)
			}
		}
		longest, shortest := 0.0, math.Inf(1)
		for _, l := range lines {
			longest, shortest = math.Max(longest, measure(l)), math.Min(shortest, measure(l))
			if measure(l) > width {
				t.Errorf("%s: line %q too wide", tt.title, l)
			}
		}
		if len(lines) > 1 && shortest < 0.45*longest {
			t.Errorf("%s: unbalanced lines %q", tt.title, lines)
		}
	}
}
