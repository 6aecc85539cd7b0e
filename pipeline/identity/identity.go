package identity

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Identity is what must not be visible: the applicant's name and
// employer.
type Identity struct {
	Name, Employer string
}

// String hides the identity from formatted output.
func (Identity) String() string { return "[identity withheld]" }

// GoString hides the identity from %#v.
func (Identity) GoString() string { return "[identity withheld]" }

// Kind says which part of the identity a form is: the same words as a
// mask's kind in a submission.
type Kind string

// Kinds of form.
const (
	KindName     Kind = "name"
	KindEmployer Kind = "employer"
)

// FormName says which form of the identity a string is.
type FormName string

// The forms, from the most to the least specific of each kind.
const (
	FormFullName      FormName = "name"
	FormGivenName     FormName = "given_name"
	FormEmployer      FormName = "employer"
	FormEmployerCore  FormName = "employer_core"
	FormEmployerShort FormName = "employer_short"
)

// Form is one string the identity may be written as.
type Form struct {
	Kind Kind
	Name FormName
	// Text is the form as the applicant gave it, spaces removed (not
	// normalised): the verifier looks for these bytes.
	Text string
	// Before and After are how many characters of the whole name or
	// employer precede and follow this form: where a part was found, the
	// rest of the whole is likely beside it (a seal across a letterhead
	// can hide the region or the legal form from OCR).
	Before, After int
}

// legalForms are suffixes an employer's name is often written without.
var legalForms = []string{"集团股份有限公司", "股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "分公司", "公司", "事务所", "研究院", "研究所"}

// regions are prefixes an employer's name is often written without.
var regions = []string{"新疆维吾尔自治区", "新疆", "乌鲁木齐市", "乌鲁木齐", "中国", "经开区", "头屯河区"}

// compoundSurnames are two-character family names.
var compoundSurnames = []string{"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒", "夏侯", "轩辕", "单于", "独孤", "南宫", "呼延", "宇文", "长孙", "申屠"}

func runes(s string) int { return utf8.RuneCountInString(s) }

// Forms returns the forms of id of two characters or more, each once, in
// the order name, given name, employer, employer without legal form,
// that without region. The given name is what follows a compound surname,
// or the first character, of a name of three characters or more.
func Forms(id Identity) []Form {
	var out []Form
	seen := map[string]bool{}
	add := func(k Kind, n FormName, s string, before, after int) {
		if runes(s) < 2 || seen[s] {
			return
		}
		seen[s] = true
		out = append(out, Form{k, n, s, before, after})
	}
	name := strings.Join(strings.Fields(id.Name), "")
	add(KindName, FormFullName, name, 0, 0)
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
	add(KindName, FormGivenName, given, runes(name)-runes(given), 0)
	emp := strings.Join(strings.Fields(id.Employer), "")
	add(KindEmployer, FormEmployer, emp, 0, 0)
	core := emp
	for _, s := range legalForms {
		if strings.HasSuffix(core, s) && runes(core) > runes(s)+1 {
			core = strings.TrimSuffix(core, s)
			break
		}
	}
	add(KindEmployer, FormEmployerCore, core, 0, runes(emp)-runes(core))
	for _, r := range regions {
		if strings.HasPrefix(core, r) && runes(core) > runes(r)+1 {
			add(KindEmployer, FormEmployerShort, strings.TrimPrefix(core, r), runes(r), runes(emp)-runes(core))
			break
		}
	}
	return out
}

// Normalize keeps the letters and digits of s, NFKC-folded and
// lower-cased: full-width Latin, compatibility and radical code points
// become the characters a reader sees, and the spaces and punctuation a
// layout or an OCR engine puts in or leaves out at random ("：" or ":",
// a middle dot in a name) do not count.
func Normalize(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKC.String(s) {
		if keep(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func keep(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// normRune is Normalize for one character, which NFKC may expand into
// several ("㈱" is "(株)").
func normRune(r rune, buf []rune) []rune {
	if r < utf8.RuneSelf {
		if keep(r) {
			return append(buf, unicode.ToLower(r))
		}
		return buf
	}
	for _, c := range norm.NFKC.String(string(r)) {
		if keep(c) {
			buf = append(buf, unicode.ToLower(c))
		}
	}
	return buf
}
