package result

import (
	"strings"
	"unicode"
)

// Line-breaking rules for Chinese text (禁则, after GB/T 15834 and common
// typesetting practice): closing and pausing punctuation never starts a
// line, opening punctuation never ends one.
const (
	noLineStart = "、，。．；：？！）》」』】〕〉”’…‥·％‰,.;:?!)]}%"
	noLineEnd   = "（《「『【〔〈“‘([{"
)

func forbiddenStart(unit string) bool {
	r := []rune(unit)
	return len(r) > 0 && strings.ContainsRune(noLineStart, r[0])
}

func forbiddenEnd(unit string) bool {
	r := []rune(unit)
	return len(r) > 0 && strings.ContainsRune(noLineEnd, r[len(r)-1])
}

// units splits s into the pieces a line may break between: each CJK
// character or punctuation mark alone, runs of Latin letters and digits
// (with the marks that belong inside them, as in 3.5 or GB/T-9704) whole,
// and spaces alone.
func units(s string) []string {
	var out []string
	var word strings.Builder
	flush := func() {
		if word.Len() > 0 {
			out = append(out, word.String())
			word.Reset()
		}
	}
	for _, r := range s {
		if r < 0x2E80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || (word.Len() > 0 && strings.ContainsRune(".-/_'", r))) {
			word.WriteRune(r)
			continue
		}
		flush()
		out = append(out, string(r))
	}
	flush()
	return out
}

// wrap breaks s into lines no wider than width (the first line no wider
// than first), measuring with measure, and honouring the 禁则 rules by
// carrying characters over to the next line (推出). A unit wider than a
// whole line is put on a line of its own.
func wrap(s string, first, width float64, measure func(string) float64) []string {
	us := units(s)
	var lines []string
	start := 0
	for start < len(us) {
		limit := width
		if len(lines) == 0 {
			limit = first
		}
		w := 0.0
		end := start
		for end < len(us) {
			uw := measure(us[end])
			if w+uw > limit+1e-6 && end > start {
				break
			}
			w += uw
			end++
		}
		if end < len(us) {
			// Carry units over until neither side of the break is forbidden.
			// Spaces at the break vanish, so the rules look past them.
			next := func(k int) string {
				for ; k < len(us); k++ {
					if us[k] != " " {
						return us[k]
					}
				}
				return ""
			}
			prev := func(k int) string {
				for k--; k >= start; k-- {
					if us[k] != " " {
						return us[k]
					}
				}
				return ""
			}
			k := end
			for k > start+1 && (forbiddenStart(next(k)) || forbiddenEnd(prev(k))) {
				k--
			}
			if k > start {
				end = k
			}
		}
		line := strings.Join(us[start:end], "")
		lines = append(lines, strings.TrimRight(line, " "))
		start = end
		for start < len(us) && us[start] == " " {
			start++ // a space at a break is not carried to the next line
		}
	}
	return lines
}

// wrapBalanced breaks s into as few lines as fit width, then evens their
// lengths out, as titles are set (the standard wants titles in a trapezoid
// or diamond rather than one full line and a stub).
func wrapBalanced(s string, width float64, measure func(string) float64) []string {
	lines := wrap(s, width, width, measure)
	if len(lines) < 2 {
		return lines
	}
	lo, hi := width/float64(len(lines)), width
	best := lines
	for range 30 {
		mid := (lo + hi) / 2
		try := wrap(s, mid, mid, measure)
		if len(try) <= len(lines) {
			best, hi = try, mid
		} else {
			lo = mid
		}
	}
	return best
}

// titleBreakAfter are endings of words that official titles commonly break
// after; the standard asks title lines to keep words whole (词意完整),
// which only a dictionary could promise, so this list nudges the balanced
// break onto a word boundary when one is near.
var titleBreakAfter = []string{"关于", "公布", "印发", "年度", "系列", "初级", "中级", "副高级", "高级", "专业技术职务", "任职资格", "评审", "结果", "人员", "名单", "的"}

// wrapTitle breaks a title: at the author's line breaks when it has any,
// else into balanced lines, moving a two-line break by up to four
// characters to follow a word ending.
func wrapTitle(s string, width float64, measure func(string) float64) []string {
	if strings.Contains(s, "\n") {
		var out []string
		for _, part := range strings.Split(s, "\n") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, wrap(part, width, width, measure)...)
			}
		}
		return out
	}
	lines := wrapBalanced(s, width, measure)
	if len(lines) != 2 {
		return lines
	}
	rs := []rune(s)
	k := len([]rune(lines[0]))
	best, bestDist := -1, 5
	for j := k - 4; j <= k+4; j++ {
		if j <= 0 || j >= len(rs) {
			continue
		}
		a, b := string(rs[:j]), string(rs[j:])
		if measure(a) > width || measure(b) > width || forbiddenStart(string(rs[j])) || forbiddenEnd(string(rs[j-1])) {
			continue
		}
		for _, suf := range titleBreakAfter {
			if strings.HasSuffix(a, suf) {
				d := j - k
				if d < 0 {
					d = -d
				}
				// On a tie the longer first line wins: a trapezoid.
				if d < bestDist || d == bestDist && j > best {
					best, bestDist = j, d
				}
				break
			}
		}
	}
	if best < 0 {
		return lines
	}
	return []string{string(rs[:best]), string(rs[best:])}
}
