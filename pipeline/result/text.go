package result

import (
	"math"
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

// titleWords is the dictionary of the words official titles of this
// kind are made of. GB/T 9704 7.3.1 asks title lines to keep words whole
// (回行时要做到词意完整) and to stand as a trapezoid or diamond; Chinese is
// written without spaces, so the words are found by forward maximum
// matching against this list — the longest entry that starts at each
// point wins, so 专业技术职务 is one word and never becomes 专业技 / 术职务.
// Characters in no entry are words of their own. A deployment whose
// titles use other terms adds them here.
var titleWords = []string{
	// what the document does
	"关于", "公布", "印发", "做好", "开展", "组织", "申报", "评审", "结果", "通知", "公告", "公示", "决定", "批复",
	"名单", "人员", "通过", "评审通过", "取得", "具备", "相应", "同意", "工作", "有关", "事项", "认定",
	// who and where
	"企业", "事业单位", "单位", "经济技术开发区", "开发区", "头屯河区", "乌鲁木齐市", "乌鲁木齐", "新疆维吾尔自治区",
	"自治区", "人力资源和社会保障局", "人力资源", "社会保障局", "社会保障", "评审委员会", "委员会",
	// what was evaluated
	"年度", "工程", "经济", "审计", "会计", "统计", "系列", "初级", "中级", "副高级", "正高级", "高级",
	"专业技术职务", "专业技术人员", "专业技术", "职务", "任职资格", "任职", "资格", "职称", "工程师", "助理工程师",
	"高级工程师", "专业",
}

var titleDict = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range titleWords {
		m[w] = true
	}
	return m
}()

const maxTitleWord = 10 // runes in the longest entry

// titleSegments splits s into the pieces a title line may break between:
// dictionary words (longest match), digit runs with the 年/年度/月/日/号
// that follows them, and single characters; then glues a particle 的 and
// closing or pausing punctuation to the piece before, and opening
// punctuation to the piece after, as the 禁则 rules want.
func titleSegments(s string) []string {
	var segs []string
	us := units(s) // Latin and digit runs whole, every other character alone
	for i := 0; i < len(us); {
		if r := []rune(us[i]); len(r) > 1 || (r[0] < 0x2E80) {
			seg := us[i]
			i++
			if unicode.IsDigit(r[0]) {
				for _, suf := range []string{"年度", "年", "月", "日", "号"} {
					if strings.HasPrefix(strings.Join(us[i:min(i+2, len(us))], ""), suf) {
						seg += suf
						i += len([]rune(suf))
						break
					}
				}
			}
			segs = append(segs, seg)
			continue
		}
		n := 1
		for k := min(maxTitleWord, len(us)-i); k > 1; k-- {
			if titleDict[strings.Join(us[i:i+k], "")] {
				n = k
				break
			}
		}
		segs = append(segs, strings.Join(us[i:i+n], ""))
		i += n
	}
	var out []string
	glueNext := false
	for _, seg := range segs {
		switch {
		case len(out) > 0 && (seg == "的" || forbiddenStart(seg)) && !glueNext:
			out[len(out)-1] += seg
		case glueNext:
			out[len(out)-1] += seg
		default:
			out = append(out, seg)
		}
		glueNext = forbiddenEnd(seg)
	}
	return out
}

// wrapTitle breaks a title: at the author's line breaks when it has any,
// else between the words titleSegments finds, into as few lines as fit
// width, shaped as GB/T 9704 wants — lines of even length, a trapezoid
// (no line longer than the one above it) or, for three lines or more, a
// diamond (only the last line must not outgrow the one above). A title
// whose words do not fit that way is wrapped character by character.
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
	words := titleSegments(s)
	w := make([]float64, len(words))
	total := 0.0
	for i, word := range words {
		w[i] = measure(word)
		total += w[i]
		if w[i] > width {
			return wrapBalanced(s, width, measure)
		}
	}
	// The fewest lines: greedy filling finds them.
	k, line := 1, 0.0
	for _, x := range w {
		if line+x > width+1e-6 {
			k, line = k+1, 0
		}
		line += x
	}
	if k == 1 {
		return []string{s}
	}
	if k > 4 || len(words) > 80 {
		return wrapBalanced(s, width, measure)
	}
	mean := total / float64(k)
	best, bestCost := []int(nil), math.Inf(1)
	breaks := make([]int, k-1)
	var try func(line, from int)
	try = func(line, from int) {
		if line == k-1 {
			lens := make([]float64, k)
			prev := 0
			for i := 0; i < k; i++ {
				end := len(words)
				if i < k-1 {
					end = breaks[i]
				}
				for _, x := range w[prev:end] {
					lens[i] += x
				}
				if lens[i] > width+1e-6 {
					return
				}
				prev = end
			}
			cost := 0.0
			for i, l := range lens {
				cost += (l - mean) * (l - mean)
				// Trapezoid: a line longer than the one above costs; in a
				// diamond of three or more lines only the last one counts.
				if i > 0 && (k == 2 || i == k-1) && l > lens[i-1] {
					cost += 4 * (l - lens[i-1]) * (l - lens[i-1])
				}
			}
			if cost < bestCost {
				best, bestCost = append([]int(nil), breaks...), cost
			}
			return
		}
		for b := from + 1; b < len(words); b++ {
			breaks[line] = b
			try(line+1, b)
		}
	}
	try(0, 0)
	if best == nil {
		return wrapBalanced(s, width, measure)
	}
	var out []string
	prev := 0
	for _, b := range append(best, len(words)) {
		out = append(out, strings.Join(words[prev:b], ""))
		prev = b
	}
	return out
}
