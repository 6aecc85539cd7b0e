package pdfkit

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// pobj is a parsed PDF object, as much as Stamp needs to change a page
// dictionary: dictionaries and arrays are taken apart, references are
// recognised, and everything else (numbers, names, strings, booleans) is
// kept as the bytes it was written as, so that it is written back exactly.
// (ReadObject's values, in object.go, are decoded instead: they serve
// comparisons, not byte-exact copies.)
type pobj struct {
	kind byte   // 'd' dictionary, 'a' array, 'r' reference, 'v' any other value
	raw  []byte // 'v': the token as written
	keys []string
	vals []pobj // dictionary values (parallel to keys) or array elements
	ref  int    // 'r': the object number
}

// get returns the value of a dictionary key (a name without its slash).
func (o *pobj) get(key string) (pobj, bool) {
	for i, k := range o.keys {
		if k == key {
			return o.vals[i], true
		}
	}
	return pobj{}, false
}

// set replaces or appends a dictionary entry.
func (o *pobj) set(key string, v pobj) {
	for i, k := range o.keys {
		if k == key {
			o.vals[i] = v
			return
		}
	}
	o.keys = append(o.keys, key)
	o.vals = append(o.vals, v)
}

// name returns the value of a name object without its slash, or "".
func (o pobj) name() string {
	if o.kind == 'v' && len(o.raw) > 1 && o.raw[0] == '/' {
		return string(o.raw[1:])
	}
	return ""
}

// number returns the value of a numeric object.
func (o pobj) number() (float64, bool) {
	if o.kind != 'v' {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(o.raw), 64)
	return f, err == nil
}

func (o pobj) clone() pobj {
	c := o
	c.keys = append([]string(nil), o.keys...)
	c.vals = make([]pobj, len(o.vals))
	for i, v := range o.vals {
		c.vals[i] = v.clone()
	}
	return c
}

func refObj(n Ref) pobj { return pobj{kind: 'r', ref: int(n)} }

func dictObj() pobj { return pobj{kind: 'd'} }

// serialize writes o back as PDF syntax.
func (o pobj) serialize(b *strings.Builder) {
	switch o.kind {
	case 'd':
		b.WriteString("<<")
		for i, k := range o.keys {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString("/" + k + " ")
			o.vals[i].serialize(b)
		}
		b.WriteString(">>")
	case 'a':
		b.WriteByte('[')
		for i, v := range o.vals {
			if i > 0 {
				b.WriteByte(' ')
			}
			v.serialize(b)
		}
		b.WriteByte(']')
	case 'r':
		b.WriteString(Ref(o.ref).String())
	default:
		b.Write(o.raw)
	}
}

func (o pobj) String() string {
	var b strings.Builder
	o.serialize(&b)
	return b.String()
}

// objParser reads one PDF object from bytes.
type objParser struct {
	b     []byte
	p     int
	depth int
}

// parseObject parses the single object in b (a body between "n 0 obj" and
// "endobj", or a trailer dictionary).
func parseObject(b []byte) (pobj, error) {
	ps := &objParser{b: b}
	return ps.value()
}

func (ps *objParser) skip() {
	for ps.p < len(ps.b) {
		c := ps.b[ps.p]
		switch {
		case IsSpace(c):
			ps.p++
		case c == '%':
			for ps.p < len(ps.b) && ps.b[ps.p] != '\n' && ps.b[ps.p] != '\r' {
				ps.p++
			}
		default:
			return
		}
	}
}

func (ps *objParser) errorf(format string, a ...any) error {
	return fmt.Errorf("pdfkit: parse object at byte %d: %s", ps.p, fmt.Sprintf(format, a...))
}

func (ps *objParser) value() (pobj, error) {
	ps.skip()
	if ps.p >= len(ps.b) {
		return pobj{}, ps.errorf("unexpected end")
	}
	if ps.depth > 64 {
		return pobj{}, ps.errorf("nesting too deep")
	}
	c := ps.b[ps.p]
	switch {
	case c == '<' && ps.p+1 < len(ps.b) && ps.b[ps.p+1] == '<':
		ps.p += 2
		ps.depth++
		defer func() { ps.depth-- }()
		d := dictObj()
		for {
			ps.skip()
			if ps.p+1 < len(ps.b) && ps.b[ps.p] == '>' && ps.b[ps.p+1] == '>' {
				ps.p += 2
				return d, nil
			}
			if ps.p >= len(ps.b) || ps.b[ps.p] != '/' {
				return pobj{}, ps.errorf("dictionary key is not a name")
			}
			key := ps.token()
			v, err := ps.value()
			if err != nil {
				return pobj{}, err
			}
			d.keys = append(d.keys, string(key[1:]))
			d.vals = append(d.vals, v)
		}
	case c == '[':
		ps.p++
		ps.depth++
		defer func() { ps.depth-- }()
		a := pobj{kind: 'a'}
		for {
			ps.skip()
			if ps.p < len(ps.b) && ps.b[ps.p] == ']' {
				ps.p++
				return a, nil
			}
			v, err := ps.value()
			if err != nil {
				return pobj{}, err
			}
			a.vals = append(a.vals, v)
		}
	case c == '(':
		start := ps.p
		depth := 0
		for ; ps.p < len(ps.b); ps.p++ {
			switch ps.b[ps.p] {
			case '\\':
				ps.p++
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					ps.p++
					return pobj{kind: 'v', raw: ps.b[start:ps.p]}, nil
				}
			}
		}
		return pobj{}, ps.errorf("unterminated string")
	case c == '<':
		end := bytes.IndexByte(ps.b[ps.p:], '>')
		if end < 0 {
			return pobj{}, ps.errorf("unterminated hex string")
		}
		raw := ps.b[ps.p : ps.p+end+1]
		ps.p += end + 1
		return pobj{kind: 'v', raw: raw}, nil
	case c == '/':
		return pobj{kind: 'v', raw: ps.token()}, nil
	case c == ']' || c == '>' || c == ')' || c == '{' || c == '}':
		return pobj{}, ps.errorf("unexpected %q", c)
	}
	tok := ps.token()
	if len(tok) == 0 {
		return pobj{}, ps.errorf("unexpected %q", c)
	}
	if n, err := strconv.Atoi(string(tok)); err == nil && n >= 0 {
		// An integer may start a reference "n g R".
		save := ps.p
		ps.skip()
		gen := ps.token()
		ps.skip()
		if g, err := strconv.Atoi(string(gen)); err == nil && ps.p < len(ps.b) && ps.b[ps.p] == 'R' &&
			(ps.p+1 == len(ps.b) || IsSpace(ps.b[ps.p+1]) || isDelim(ps.b[ps.p+1])) {
			ps.p++
			if g != 0 {
				return pobj{}, ps.errorf("reference to generation %d", g)
			}
			return pobj{kind: 'r', ref: n}, nil
		}
		ps.p = save
	}
	return pobj{kind: 'v', raw: tok}, nil
}

// token reads a name (with its slash) or a bare word.
func (ps *objParser) token() []byte {
	start := ps.p
	if ps.p < len(ps.b) && ps.b[ps.p] == '/' {
		ps.p++
	}
	for ps.p < len(ps.b) && !IsSpace(ps.b[ps.p]) && !isDelim(ps.b[ps.p]) {
		ps.p++
	}
	return ps.b[start:ps.p]
}
