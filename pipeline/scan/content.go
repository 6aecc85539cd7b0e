package scan

import (
	"bytes"
	"strconv"
)

// A content stream is read only far enough to learn what a page shows: which
// images are painted with which matrix, and whether anything else visible is
// painted (text, vector paths, shadings, inline images). Text in rendering
// mode 3 or 7 is invisible — the OCR layer of a scanned PDF — and is ignored,
// which is how such a layer is dropped rather than copied.

type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul returns m × n: first m, then n.
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func (m matrix) apply(x, y float64) (float64, float64) {
	return m[0]*x + m[2]*y + m[4], m[1]*x + m[3]*y + m[5]
}

type token struct {
	kind byte // 'n' number, '/' name, 'o' operator, 's' string or other operand
	num  float64
	text string
}

// tokenizer splits a content stream into operands and operators.
type tokenizer struct {
	b []byte
	p int
}

func isSpace(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

func isDelim(c byte) bool { return bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0 }

func (t *tokenizer) next() (token, bool) {
	for t.p < len(t.b) {
		c := t.b[t.p]
		switch {
		case isSpace(c):
			t.p++
		case c == '%':
			for t.p < len(t.b) && t.b[t.p] != '\n' && t.b[t.p] != '\r' {
				t.p++
			}
		case c == '(':
			t.skipString()
			return token{kind: 's'}, true
		case c == '<' && t.p+1 < len(t.b) && t.b[t.p+1] == '<', c == '>' && t.p+1 < len(t.b) && t.b[t.p+1] == '>':
			t.p += 2
			return token{kind: 's'}, true
		case c == '<':
			end := bytes.IndexByte(t.b[t.p:], '>')
			if end < 0 {
				t.p = len(t.b)
			} else {
				t.p += end + 1
			}
			return token{kind: 's'}, true
		case c == '[' || c == ']' || c == '{' || c == '}' || c == ')' || c == '>':
			t.p++
			return token{kind: 's'}, true
		case c == '/':
			start := t.p + 1
			t.p++
			for t.p < len(t.b) && !isSpace(t.b[t.p]) && !isDelim(t.b[t.p]) {
				t.p++
			}
			return token{kind: '/', text: string(t.b[start:t.p])}, true
		default:
			start := t.p
			for t.p < len(t.b) && !isSpace(t.b[t.p]) && !isDelim(t.b[t.p]) {
				t.p++
			}
			if t.p == start { // a lone delimiter not handled above
				t.p++
				continue
			}
			word := string(t.b[start:t.p])
			if f, err := strconv.ParseFloat(word, 64); err == nil && (word[0] == '-' || word[0] == '+' || word[0] == '.' || (word[0] >= '0' && word[0] <= '9')) {
				return token{kind: 'n', num: f}, true
			}
			return token{kind: 'o', text: word}, true
		}
	}
	return token{}, false
}

func (t *tokenizer) skipString() {
	depth := 0
	for t.p < len(t.b) {
		switch t.b[t.p] {
		case '\\':
			t.p++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				t.p++
				return
			}
		}
		t.p++
	}
}

// skipInlineImage moves past the data of an inline image, which starts after
// the ID operator and ends at an EI operator.
func (t *tokenizer) skipInlineImage() {
	t.p++ // the single white-space byte after ID
	for t.p+2 <= len(t.b) {
		i := bytes.Index(t.b[t.p:], []byte("EI"))
		if i < 0 {
			t.p = len(t.b)
			return
		}
		t.p += i
		before := t.p == 0 || isSpace(t.b[t.p-1])
		after := t.p+2 == len(t.b) || isSpace(t.b[t.p+2]) || isDelim(t.b[t.p+2])
		t.p += 2
		if before && after {
			return
		}
	}
	t.p = len(t.b)
}

// painted is an image XObject drawn on the page and the matrix it was drawn
// with (image unit square to default user space).
type painted struct {
	name string
	ctm  matrix
	// form is the chain of form XObject names it was drawn from, empty when
	// drawn by the page itself.
	form []string
}

// pageContent is what a content stream paints.
type pageContent struct {
	images []painted
	// visible names the first visible non-image painting, "" if none.
	visible string
}

// xobjectKind tells the interpreter what a named XObject is; for a form it
// returns the form's content and matrix and a resolver for the form's own
// resources.
type xobjectResolver func(name string) (kind string, form *formXObject)

type formXObject struct {
	content []byte
	matrix  matrix
	resolve xobjectResolver
	name    string
}

const maxFormDepth = 8

// interpret reads a content stream with the given initial matrix.
func interpret(content []byte, ctm matrix, resolve xobjectResolver, pc *pageContent, depth int, forms []string) {
	type gstate struct {
		ctm matrix
		tr  int
	}
	st := gstate{ctm: ctm}
	var stack []gstate
	var ops []token
	t := tokenizer{b: content}
	for {
		tok, ok := t.next()
		if !ok {
			return
		}
		if tok.kind != 'o' {
			ops = append(ops, tok)
			if len(ops) > 64 { // operands of no operator we read; keep memory bounded
				ops = ops[len(ops)-64:]
			}
			continue
		}
		nums := func(n int) ([]float64, bool) {
			if len(ops) < n {
				return nil, false
			}
			out := make([]float64, n)
			for i, o := range ops[len(ops)-n:] {
				if o.kind != 'n' {
					return nil, false
				}
				out[i] = o.num
			}
			return out, true
		}
		switch tok.text {
		case "q":
			if len(stack) < 256 {
				stack = append(stack, st)
			}
		case "Q":
			if len(stack) > 0 {
				st = stack[len(stack)-1]
				stack = stack[:len(stack)-1]
			}
		case "cm":
			if v, ok := nums(6); ok {
				st.ctm = matrix{v[0], v[1], v[2], v[3], v[4], v[5]}.mul(st.ctm)
			}
		case "Tr":
			if v, ok := nums(1); ok {
				st.tr = int(v[0])
			}
		case "Tj", "TJ", "'", "\"":
			if st.tr != 3 && st.tr != 7 && pc.visible == "" {
				pc.visible = "visible text"
			}
		case "S", "s", "f", "F", "f*", "B", "B*", "b", "b*":
			if pc.visible == "" {
				pc.visible = "vector drawing"
			}
		case "sh":
			if pc.visible == "" {
				pc.visible = "shading"
			}
		case "BI":
			if pc.visible == "" {
				pc.visible = "inline image"
			}
		case "ID":
			t.skipInlineImage()
		case "Do":
			if len(ops) == 0 || ops[len(ops)-1].kind != '/' {
				break
			}
			name := ops[len(ops)-1].text
			kind, form := resolve(name)
			switch kind {
			case "Image":
				pc.images = append(pc.images, painted{name: name, ctm: st.ctm, form: forms})
			case "Form":
				if depth >= maxFormDepth {
					if pc.visible == "" {
						pc.visible = "form nesting too deep"
					}
					break
				}
				interpret(form.content, form.matrix.mul(st.ctm), form.resolve, pc, depth+1, append(forms[:len(forms):len(forms)], form.name))
			}
		}
		ops = ops[:0]
	}
}
