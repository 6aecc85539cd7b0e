package verify

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Identity is what must not appear.
type Identity struct{ Name, Employer string }

// legalForms are suffixes an employer's name is often written without.
var legalForms = []string{"集团股份有限公司", "股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "分公司", "公司", "事务所", "研究院", "研究所"}

// regions are prefixes an employer's name is often written without.
var regions = []string{"新疆维吾尔自治区", "新疆", "乌鲁木齐市", "乌鲁木齐", "中国", "经开区", "头屯河区"}

// compoundSurnames are two-character family names.
var compoundSurnames = []string{"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒", "夏侯", "轩辕", "单于", "独孤", "南宫", "呼延", "宇文", "长孙", "申屠"}

// needles are the forms of the identity searched for: long ones, safe to
// look for in binary data (six bytes or more in every encoding), and short
// ones (a given name of two characters, an employer's core name), looked
// for only where text lives — a four-byte pattern in megabytes of pixels
// would match by chance.
type needles struct {
	long, short [][]byte
}

func runes(s string) int { return utf8.RuneCountInString(s) }

func identityNeedles(id Identity) needles {
	var long, short []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		switch {
		case runes(s) >= 3:
			long = append(long, s)
		case runes(s) == 2:
			short = append(short, s)
		}
	}
	name := strings.Join(strings.Fields(id.Name), "")
	add(name)
	given := ""
	for _, c := range compoundSurnames {
		if strings.HasPrefix(name, c) && runes(name) > 2 {
			given = strings.TrimPrefix(name, c)
		}
	}
	if given == "" && runes(name) >= 3 {
		_, size := utf8.DecodeRuneInString(name)
		given = name[size:]
	}
	if runes(given) >= 2 {
		add(given)
	}
	emp := strings.Join(strings.Fields(id.Employer), "")
	add(emp)
	core := emp
	for _, s := range legalForms {
		if strings.HasSuffix(core, s) && runes(core) > runes(s)+1 {
			core = strings.TrimSuffix(core, s)
			break
		}
	}
	add(core)
	for _, r := range regions {
		if strings.HasPrefix(core, r) && runes(core) > runes(r)+1 {
			add(strings.TrimPrefix(core, r))
			break
		}
	}
	var n needles
	seen := map[string]bool{}
	for _, group := range []struct {
		in  []string
		out *[][]byte
	}{{long, &n.long}, {short, &n.short}} {
		for _, s := range group.in {
			for _, enc := range encodings(s) {
				if !seen[string(enc)] {
					seen[string(enc)] = true
					*group.out = append(*group.out, enc)
				}
			}
		}
	}
	// Text-level searches also look for the long forms.
	n.short = append(n.short, n.long...)
	return n
}

// encodings are the byte forms of s that a PDF or its streams may hold.
func encodings(s string) [][]byte {
	out := [][]byte{[]byte(s)}
	u := utf16.Encode([]rune(s))
	be, le := make([]byte, 0, 2*len(u)), make([]byte, 0, 2*len(u))
	for _, c := range u {
		be = append(be, byte(c>>8), byte(c))
		le = append(le, byte(c), byte(c>>8))
	}
	out = append(out, be, le)
	if gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s)); err == nil {
		out = append(out, gb)
	}
	return out
}

// findAny reports whether any needle occurs in data.
func findAny(data []byte, ns [][]byte) bool {
	for _, n := range ns {
		if len(n) > 0 && bytes.Contains(data, n) {
			return true
		}
	}
	return false
}
