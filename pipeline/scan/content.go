package scan

import "github.com/blindpack/blindpack/internal/pdfkit"

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
	// hidden names the first thing that can hide part of what is painted
	// (a clip path, a graphics state that may carry a soft mask or
	// transparency), "" if none.
	hidden string
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
	var ops []pdfkit.Token
	lex := pdfkit.NewLexer(content)
	for {
		tok, ok := lex.Next()
		if !ok {
			return
		}
		if tok.Kind != pdfkit.TokOperator {
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
				if o.Kind != pdfkit.TokNumber {
					return nil, false
				}
				out[i] = o.Num
			}
			return out, true
		}
		switch tok.Text {
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
		case "W", "W*":
			if pc.hidden == "" {
				pc.hidden = "clip path"
			}
		case "gs":
			if pc.hidden == "" {
				pc.hidden = "graphics state"
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
			lex.SkipInlineImage()
		case "Do":
			if len(ops) == 0 || ops[len(ops)-1].Kind != pdfkit.TokName {
				break
			}
			name := ops[len(ops)-1].Text
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
