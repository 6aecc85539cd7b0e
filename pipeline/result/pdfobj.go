package result

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/blindpack/blindpack/pipeline/internal/pdflex"
)

// A small reader and writer of PDF objects and classic cross-reference
// sections: enough to append a document security store to a signed file
// and, when verifying, to prove that what follows the signed bytes is such
// an update and nothing else. It reads only the plain forms blindpack and
// pdfsign write (no object streams, no cross-reference streams) and fails
// on anything else, which then counts as an unrecognised change.

// Values: int64 and float64 numbers, bool, nil (null), pdfName, []byte
// (a string), pdfRef, []any (an array) and *pdfDict.
type (
	pdfName string
	pdfRef  struct{ num, gen int }
	pdfDict struct {
		keys []string
		vals map[string]any
	}
)

func newDict() *pdfDict { return &pdfDict{vals: map[string]any{}} }

func (d *pdfDict) set(k string, v any) {
	if _, ok := d.vals[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.vals[k] = v
}

var errSyntax = errors.New("PDF syntax")

// Limits of what the reader accepts, checked before it allocates.
const (
	maxDepth    = 16
	maxElements = 1 << 16
)

// parser reads PDF values from data with a pdflex lexer.
type parser struct {
	data []byte
	lex  *pdflex.Lexer
}

func newParser(data []byte, at int) *parser {
	p := &parser{data: data, lex: pdflex.New(data)}
	p.lex.Seek(at)
	return p
}

func (p *parser) next() (pdflex.Token, bool) { return p.lex.Next() }

// keyword reads the next token and requires it to be the word w.
func (p *parser) keyword(w string) error {
	t, ok := p.next()
	if !ok || t.Kind != pdflex.Operator || t.Text != w {
		return fmt.Errorf("%w: want %q at byte %d", errSyntax, w, p.lex.Pos())
	}
	return nil
}

// integer reads a non-negative integer.
func (p *parser) integer() (int, error) {
	t, ok := p.next()
	if !ok || t.Kind != pdflex.Number || t.Num < 0 || t.Num != math.Trunc(t.Num) || t.Num > math.MaxInt32 {
		return 0, fmt.Errorf("%w: want a non-negative integer at byte %d", errSyntax, p.lex.Pos())
	}
	return int(t.Num), nil
}

func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested too deeply", errSyntax)
	}
	t, ok := p.next()
	if !ok {
		return nil, fmt.Errorf("%w: unexpected end", errSyntax)
	}
	switch t.Kind {
	case pdflex.Number:
		if t.Num == math.Trunc(t.Num) && math.Abs(t.Num) < 1<<53 {
			// "n g R" is a reference: look two tokens ahead.
			back := p.lex.Pos()
			if g, ok := p.next(); ok && g.Kind == pdflex.Number && g.Num >= 0 && g.Num == math.Trunc(g.Num) && t.Num >= 0 {
				if r, ok := p.next(); ok && r.Kind == pdflex.Operator && r.Text == "R" {
					return pdfRef{int(t.Num), int(g.Num)}, nil
				}
			}
			p.lex.Seek(back)
			return int64(t.Num), nil
		}
		return t.Num, nil
	case pdflex.Name:
		return pdfName(t.Text), nil
	case pdflex.String:
		return t.Str, nil
	case pdflex.Open:
		var arr []any
		for {
			back := p.lex.Pos()
			if c, ok := p.next(); ok && c.Kind == pdflex.Close {
				return arr, nil
			}
			p.lex.Seek(back)
			if len(arr) >= maxElements {
				return nil, fmt.Errorf("%w: array too long", errSyntax)
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
	case pdflex.Dict:
		if t.Text != "<<" {
			return nil, fmt.Errorf("%w: stray >> at byte %d", errSyntax, p.lex.Pos())
		}
		d := newDict()
		for {
			k, ok := p.next()
			if ok && k.Kind == pdflex.Dict && k.Text == ">>" {
				return d, nil
			}
			if !ok || k.Kind != pdflex.Name {
				return nil, fmt.Errorf("%w: want a name as dictionary key at byte %d", errSyntax, p.lex.Pos())
			}
			if len(d.keys) >= maxElements {
				return nil, fmt.Errorf("%w: dictionary too large", errSyntax)
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if _, dup := d.vals[k.Text]; dup {
				return nil, fmt.Errorf("%w: key /%s twice in a dictionary", errSyntax, k.Text)
			}
			d.set(k.Text, v)
		}
	case pdflex.Operator:
		switch t.Text {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
	}
	return nil, fmt.Errorf("%w: unexpected token at byte %d", errSyntax, p.lex.Pos())
}

// object is one indirect object as it stands in the file.
type object struct {
	num, gen   int
	start, end int // [start, end) in the file, from the object number to after endobj
	value      any
	stream     []byte // raw (undecoded) stream data, nil if not a stream
}

// readObject reads the indirect object that starts at offset at.
func readObject(data []byte, at int) (*object, error) {
	p := newParser(data, at)
	o := &object{start: at}
	var err error
	if o.num, err = p.integer(); err != nil {
		return nil, err
	}
	if o.gen, err = p.integer(); err != nil {
		return nil, err
	}
	if err := p.keyword("obj"); err != nil {
		return nil, err
	}
	if o.value, err = p.value(0); err != nil {
		return nil, fmt.Errorf("object %d: %w", o.num, err)
	}
	t, ok := p.next()
	if ok && t.Kind == pdflex.Operator && t.Text == "stream" {
		d, isDict := o.value.(*pdfDict)
		if !isDict {
			return nil, fmt.Errorf("%w: object %d: stream without a dictionary", errSyntax, o.num)
		}
		n, isInt := d.vals["Length"].(int64)
		if !isInt || n < 0 {
			return nil, fmt.Errorf("%w: object %d: stream /Length must be a direct integer", errSyntax, o.num)
		}
		// The keyword is followed by CRLF or LF, then the data.
		s := p.lex.Pos()
		switch {
		case bytes.HasPrefix(data[s:], []byte("\r\n")):
			s += 2
		case bytes.HasPrefix(data[s:], []byte("\n")):
			s++
		default:
			return nil, fmt.Errorf("%w: object %d: no end of line after stream", errSyntax, o.num)
		}
		if int64(len(data)-s) < n {
			return nil, fmt.Errorf("%w: object %d: stream runs past the end of the file", errSyntax, o.num)
		}
		o.stream = data[s : s+int(n)]
		p.lex.Seek(s + int(n))
		if err := p.keyword("endstream"); err != nil {
			return nil, fmt.Errorf("object %d: %w", o.num, err)
		}
		t, ok = p.next()
	}
	if !ok || t.Kind != pdflex.Operator || t.Text != "endobj" {
		return nil, fmt.Errorf("%w: object %d: want endobj", errSyntax, o.num)
	}
	o.end = p.lex.Pos()
	return o, nil
}

// xrefSection is one classic cross-reference section and its trailer.
type xrefSection struct {
	start   int           // offset of the "xref" keyword
	end     int           // after the trailer dictionary
	entries map[int]int64 // object number → offset, objects in use
	trailer *pdfDict
}

// readXref reads the cross-reference section at offset at.
func readXref(data []byte, at int) (*xrefSection, error) {
	if at < 0 || at >= len(data) {
		return nil, fmt.Errorf("%w: cross-reference offset %d outside the file", errSyntax, at)
	}
	p := newParser(data, at)
	if err := p.keyword("xref"); err != nil {
		return nil, err
	}
	x := &xrefSection{start: at, entries: map[int]int64{}}
	for {
		back := p.lex.Pos()
		t, ok := p.next()
		if ok && t.Kind == pdflex.Operator && t.Text == "trailer" {
			break
		}
		p.lex.Seek(back)
		first, err := p.integer()
		if err != nil {
			return nil, err
		}
		count, err := p.integer()
		if err != nil {
			return nil, err
		}
		if count > maxElements || count*20 > len(data)-p.lex.Pos() {
			return nil, fmt.Errorf("%w: cross-reference subsection of %d entries", errSyntax, count)
		}
		for i := range count {
			off, err := p.integer()
			if err != nil {
				return nil, err
			}
			if _, err := p.integer(); err != nil {
				return nil, err
			}
			kind, ok := p.next()
			if !ok || kind.Kind != pdflex.Operator || (kind.Text != "n" && kind.Text != "f") {
				return nil, fmt.Errorf("%w: cross-reference entry kind", errSyntax)
			}
			if kind.Text == "n" {
				x.entries[first+i] = int64(off)
			}
		}
	}
	v, err := p.value(0)
	if err != nil {
		return nil, fmt.Errorf("trailer: %w", err)
	}
	d, ok := v.(*pdfDict)
	if !ok {
		return nil, fmt.Errorf("%w: trailer is not a dictionary", errSyntax)
	}
	x.trailer, x.end = d, p.lex.Pos()
	return x, nil
}

// lastStartxref finds the offset named by the last startxref of data and
// where the %%EOF after it ends.
func lastStartxref(data []byte) (xref, eof int, err error) {
	i := bytes.LastIndex(data, []byte("startxref"))
	if i < 0 {
		return 0, 0, fmt.Errorf("%w: no startxref", errSyntax)
	}
	return startxrefAt(data, i)
}

// startxrefAt reads "startxref N %%EOF" from offset at (white space before
// and between) and returns N and the offset after %%EOF.
func startxrefAt(data []byte, at int) (xref, eof int, err error) {
	p := newParser(data, at)
	if err := p.keyword("startxref"); err != nil {
		return 0, 0, err
	}
	if xref, err = p.integer(); err != nil {
		return 0, 0, err
	}
	// The lexer takes %%EOF for a comment: look for it by hand.
	q := p.lex.Pos()
	for q < len(data) && isSpace(data[q]) {
		q++
	}
	if !bytes.HasPrefix(data[q:], []byte("%%EOF")) {
		return 0, 0, fmt.Errorf("%w: no %%%%EOF after startxref", errSyntax)
	}
	return xref, q + len("%%EOF"), nil
}

// lookup finds object num through the chain of cross-reference sections
// that starts at offset at (following /Prev, at most 64 sections).
func lookup(data []byte, at, num int) (*object, error) {
	for range 64 {
		x, err := readXref(data, at)
		if err != nil {
			return nil, err
		}
		if off, ok := x.entries[num]; ok {
			o, err := readObject(data, int(off))
			if err != nil {
				return nil, err
			}
			if o.num != num {
				return nil, fmt.Errorf("%w: cross-reference entry of object %d points at object %d", errSyntax, num, o.num)
			}
			return o, nil
		}
		prev, ok := x.trailer.vals["Prev"].(int64)
		if !ok {
			return nil, fmt.Errorf("%w: object %d not found", errSyntax, num)
		}
		at = int(prev)
	}
	return nil, fmt.Errorf("%w: too many cross-reference sections", errSyntax)
}

// equalValue compares two PDF values; numbers compare by value.
func equalValue(a, b any) bool {
	num := func(v any) (float64, bool) {
		switch n := v.(type) {
		case int64:
			return float64(n), true
		case float64:
			return n, true
		}
		return 0, false
	}
	if x, ok := num(a); ok {
		y, ok := num(b)
		return ok && x == y
	}
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case []any:
		y, ok := b.([]any)
		return ok && slices.EqualFunc(x, y, equalValue)
	case *pdfDict:
		y, ok := b.(*pdfDict)
		if !ok || len(x.vals) != len(y.vals) {
			return false
		}
		for k, v := range x.vals {
			w, ok := y.vals[k]
			if !ok || !equalValue(v, w) {
				return false
			}
		}
		return true
	}
	return a == b
}

// writeValue writes v in PDF syntax. Names are written as they were read
// (with any #xx escapes), strings as hex strings.
func writeValue(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	case pdfName:
		b.WriteString("/" + string(x))
	case []byte:
		b.WriteString("<" + strings.ToUpper(fmt.Sprintf("%x", x)) + ">")
	case pdfRef:
		fmt.Fprintf(b, "%d %d R", x.num, x.gen)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(' ')
			}
			writeValue(b, e)
		}
		b.WriteByte(']')
	case *pdfDict:
		b.WriteString("<<")
		for _, k := range x.keys {
			b.WriteString("/" + k + " ")
			writeValue(b, x.vals[k])
		}
		b.WriteString(">>")
	default:
		panic(fmt.Sprintf("result: writeValue %T", v))
	}
}
