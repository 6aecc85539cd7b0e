package result

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
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
