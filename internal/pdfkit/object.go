package pdfkit

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// A small reader and writer of PDF objects and classic cross-reference
// sections: enough for package result to append a document security store
// to a signed file and, when verifying, to prove that what follows the
// signed bytes is such an update and nothing else. It reads only the plain forms blindpack and
// pdfsign write (no object streams, no cross-reference streams) and fails
// on anything else, which then counts as an unrecognised change.

// The values ReadObject returns and WriteValue writes: int64 and float64
// numbers, bool, nil (null), ObjName, []byte (a string), ObjRef, []any (an
// array) and *ObjDict.
type (
	// ObjName is a PDF name without its slash, as written (any #xx
	// escapes kept).
	ObjName string
	// ObjRef is an indirect reference, "Num Gen R".
	ObjRef struct{ Num, Gen int }
	// ObjDict is a dictionary that keeps its keys in the order read or
	// set; add entries with Set so that Keys stays in step with Vals.
	ObjDict struct {
		Keys []string
		Vals map[string]any
	}
)

// NewObjDict returns an empty dictionary.
func NewObjDict() *ObjDict { return &ObjDict{Vals: map[string]any{}} }

// Set sets key k to v, appending k to Keys if it is new.
func (d *ObjDict) Set(k string, v any) {
	if _, ok := d.Vals[k]; !ok {
		d.Keys = append(d.Keys, k)
	}
	d.Vals[k] = v
}

// ErrSyntax is wrapped by every error of the object reader.
var ErrSyntax = errors.New("PDF syntax")

// Limits of what the reader accepts, checked before it allocates.
const (
	maxDepth    = 16
	maxElements = 1 << 16
)

// parser reads PDF values from data with a Lexer.
type parser struct {
	data []byte
	lex  *Lexer
}

func newParser(data []byte, at int) *parser {
	p := &parser{data: data, lex: NewLexer(data)}
	p.lex.Seek(at)
	return p
}

func (p *parser) next() (Token, bool) { return p.lex.Next() }

// keyword reads the next token and requires it to be the word w.
func (p *parser) keyword(w string) error {
	t, ok := p.next()
	if !ok || t.Kind != TokOperator || t.Text != w {
		return fmt.Errorf("%w: want %q at byte %d", ErrSyntax, w, p.lex.Pos())
	}
	return nil
}

// integer reads a non-negative integer.
func (p *parser) integer() (int, error) {
	t, ok := p.next()
	if !ok || t.Kind != TokNumber || t.Num < 0 || t.Num != math.Trunc(t.Num) || t.Num > math.MaxInt32 {
		return 0, fmt.Errorf("%w: want a non-negative integer at byte %d", ErrSyntax, p.lex.Pos())
	}
	return int(t.Num), nil
}

func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested too deeply", ErrSyntax)
	}
	t, ok := p.next()
	if !ok {
		return nil, fmt.Errorf("%w: unexpected end", ErrSyntax)
	}
	switch t.Kind {
	case TokNumber:
		if t.Num == math.Trunc(t.Num) && math.Abs(t.Num) < 1<<53 {
			// "n g R" is a reference: look two tokens ahead.
			back := p.lex.Pos()
			if g, ok := p.next(); ok && g.Kind == TokNumber && g.Num >= 0 && g.Num == math.Trunc(g.Num) && t.Num >= 0 {
				if r, ok := p.next(); ok && r.Kind == TokOperator && r.Text == "R" {
					return ObjRef{Num: int(t.Num), Gen: int(g.Num)}, nil
				}
			}
			p.lex.Seek(back)
			return int64(t.Num), nil
		}
		return t.Num, nil
	case TokName:
		return ObjName(t.Text), nil
	case TokString:
		return t.Str, nil
	case TokOpen:
		var arr []any
		for {
			back := p.lex.Pos()
			if c, ok := p.next(); ok && c.Kind == TokClose {
				return arr, nil
			}
			p.lex.Seek(back)
			if len(arr) >= maxElements {
				return nil, fmt.Errorf("%w: array too long", ErrSyntax)
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
	case TokDict:
		if t.Text != "<<" {
			return nil, fmt.Errorf("%w: stray >> at byte %d", ErrSyntax, p.lex.Pos())
		}
		d := NewObjDict()
		for {
			k, ok := p.next()
			if ok && k.Kind == TokDict && k.Text == ">>" {
				return d, nil
			}
			if !ok || k.Kind != TokName {
				return nil, fmt.Errorf("%w: want a name as dictionary key at byte %d", ErrSyntax, p.lex.Pos())
			}
			if len(d.Keys) >= maxElements {
				return nil, fmt.Errorf("%w: dictionary too large", ErrSyntax)
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if _, dup := d.Vals[k.Text]; dup {
				return nil, fmt.Errorf("%w: key /%s twice in a dictionary", ErrSyntax, k.Text)
			}
			d.Set(k.Text, v)
		}
	case TokOperator:
		switch t.Text {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
	}
	return nil, fmt.Errorf("%w: unexpected token at byte %d", ErrSyntax, p.lex.Pos())
}

// Object is one indirect object as it stands in the file.
type Object struct {
	Num, Gen   int
	Start, End int // [Start, End) in the file, from the object number to after endobj
	Value      any
	Stream     []byte // raw (undecoded) stream data, nil if not a stream
}

// ReadObject reads the indirect object that starts at offset at.
func ReadObject(data []byte, at int) (*Object, error) {
	p := newParser(data, at)
	o := &Object{Start: at}
	var err error
	if o.Num, err = p.integer(); err != nil {
		return nil, err
	}
	if o.Gen, err = p.integer(); err != nil {
		return nil, err
	}
	if err := p.keyword("obj"); err != nil {
		return nil, err
	}
	if o.Value, err = p.value(0); err != nil {
		return nil, fmt.Errorf("object %d: %w", o.Num, err)
	}
	t, ok := p.next()
	if ok && t.Kind == TokOperator && t.Text == "stream" {
		d, isDict := o.Value.(*ObjDict)
		if !isDict {
			return nil, fmt.Errorf("%w: object %d: stream without a dictionary", ErrSyntax, o.Num)
		}
		n, isInt := d.Vals["Length"].(int64)
		if !isInt || n < 0 {
			return nil, fmt.Errorf("%w: object %d: stream /Length must be a direct integer", ErrSyntax, o.Num)
		}
		// The keyword is followed by CRLF or LF, then the data.
		s := p.lex.Pos()
		switch {
		case bytes.HasPrefix(data[s:], []byte("\r\n")):
			s += 2
		case bytes.HasPrefix(data[s:], []byte("\n")):
			s++
		default:
			return nil, fmt.Errorf("%w: object %d: no end of line after stream", ErrSyntax, o.Num)
		}
		if int64(len(data)-s) < n {
			return nil, fmt.Errorf("%w: object %d: stream runs past the end of the file", ErrSyntax, o.Num)
		}
		o.Stream = data[s : s+int(n)]
		p.lex.Seek(s + int(n))
		if err := p.keyword("endstream"); err != nil {
			return nil, fmt.Errorf("object %d: %w", o.Num, err)
		}
		t, ok = p.next()
	}
	if !ok || t.Kind != TokOperator || t.Text != "endobj" {
		return nil, fmt.Errorf("%w: object %d: want endobj", ErrSyntax, o.Num)
	}
	o.End = p.lex.Pos()
	return o, nil
}

// XrefSection is one classic cross-reference section and its trailer.
type XrefSection struct {
	Start   int           // offset of the "xref" keyword
	End     int           // after the trailer dictionary
	Entries map[int]int64 // object number → offset, objects in use
	Trailer *ObjDict
}

// ReadXref reads the cross-reference section at offset at.
func ReadXref(data []byte, at int) (*XrefSection, error) {
	if at < 0 || at >= len(data) {
		return nil, fmt.Errorf("%w: cross-reference offset %d outside the file", ErrSyntax, at)
	}
	p := newParser(data, at)
	if err := p.keyword("xref"); err != nil {
		return nil, err
	}
	x := &XrefSection{Start: at, Entries: map[int]int64{}}
	for {
		back := p.lex.Pos()
		t, ok := p.next()
		if ok && t.Kind == TokOperator && t.Text == "trailer" {
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
			return nil, fmt.Errorf("%w: cross-reference subsection of %d entries", ErrSyntax, count)
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
			if !ok || kind.Kind != TokOperator || (kind.Text != "n" && kind.Text != "f") {
				return nil, fmt.Errorf("%w: cross-reference entry kind", ErrSyntax)
			}
			if kind.Text == "n" {
				x.Entries[first+i] = int64(off)
			}
		}
	}
	v, err := p.value(0)
	if err != nil {
		return nil, fmt.Errorf("trailer: %w", err)
	}
	d, ok := v.(*ObjDict)
	if !ok {
		return nil, fmt.Errorf("%w: trailer is not a dictionary", ErrSyntax)
	}
	x.Trailer, x.End = d, p.lex.Pos()
	return x, nil
}

// LastStartxref finds the offset named by the last startxref of data and
// where the %%EOF after it ends.
func LastStartxref(data []byte) (xref, eof int, err error) {
	i := bytes.LastIndex(data, []byte("startxref"))
	if i < 0 {
		return 0, 0, fmt.Errorf("%w: no startxref", ErrSyntax)
	}
	return StartxrefAt(data, i)
}

// StartxrefAt reads "startxref N %%EOF" from offset at (white space before
// and between) and returns N and the offset after %%EOF.
func StartxrefAt(data []byte, at int) (xref, eof int, err error) {
	p := newParser(data, at)
	if err := p.keyword("startxref"); err != nil {
		return 0, 0, err
	}
	if xref, err = p.integer(); err != nil {
		return 0, 0, err
	}
	// The lexer takes %%EOF for a comment: look for it by hand.
	q := p.lex.Pos()
	for q < len(data) && IsSpace(data[q]) {
		q++
	}
	if !bytes.HasPrefix(data[q:], []byte("%%EOF")) {
		return 0, 0, fmt.Errorf("%w: no %%%%EOF after startxref", ErrSyntax)
	}
	return xref, q + len("%%EOF"), nil
}

// LookupObject finds object num through the chain of cross-reference sections
// that starts at offset at (following /Prev, at most 64 sections).
func LookupObject(data []byte, at, num int) (*Object, error) {
	for range 64 {
		x, err := ReadXref(data, at)
		if err != nil {
			return nil, err
		}
		if off, ok := x.Entries[num]; ok {
			o, err := ReadObject(data, int(off))
			if err != nil {
				return nil, err
			}
			if o.Num != num {
				return nil, fmt.Errorf("%w: cross-reference entry of object %d points at object %d", ErrSyntax, num, o.Num)
			}
			return o, nil
		}
		prev, ok := x.Trailer.Vals["Prev"].(int64)
		if !ok {
			return nil, fmt.Errorf("%w: object %d not found", ErrSyntax, num)
		}
		at = int(prev)
	}
	return nil, fmt.Errorf("%w: too many cross-reference sections", ErrSyntax)
}

// EqualValues compares two PDF values; numbers compare by value.
func EqualValues(a, b any) bool {
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
		return ok && slices.EqualFunc(x, y, EqualValues)
	case *ObjDict:
		y, ok := b.(*ObjDict)
		if !ok || len(x.Vals) != len(y.Vals) {
			return false
		}
		for k, v := range x.Vals {
			w, ok := y.Vals[k]
			if !ok || !EqualValues(v, w) {
				return false
			}
		}
		return true
	}
	return a == b
}

// WriteValue writes v in PDF syntax. Names are written as they were read
// (with any #xx escapes), strings as hex strings.
func WriteValue(b *bytes.Buffer, v any) {
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
	case ObjName:
		b.WriteString("/" + string(x))
	case []byte:
		b.WriteString("<" + strings.ToUpper(fmt.Sprintf("%x", x)) + ">")
	case ObjRef:
		fmt.Fprintf(b, "%d %d R", x.Num, x.Gen)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(' ')
			}
			WriteValue(b, e)
		}
		b.WriteByte(']')
	case *ObjDict:
		b.WriteString("<<")
		for _, k := range x.Keys {
			b.WriteString("/" + k + " ")
			WriteValue(b, x.Vals[k])
		}
		b.WriteString(">>")
	default:
		panic(fmt.Sprintf("result: WriteValue %T", v))
	}
}
