package pdfkit

import (
	"unicode/utf16"
)

// maxRangeDst is the longest destination string of a bfrange, in bytes:
// the PDF specification allows 512 (ISO 32000-1, 9.10.3).
const maxRangeDst = 512

// ToUnicode maps 2-byte character codes to text, from a ToUnicode CMap.
type ToUnicode map[uint16]string

// ParseToUnicode reads the bfchar and bfrange sections of a CMap.
func ParseToUnicode(data []byte) ToUnicode {
	m := ToUnicode{}
	// A range maps up to 65536 codes from a few bytes of the CMap: without
	// a bound, a hostile file would make its reader build gigabytes of
	// strings. The budget is 16 times every 2-byte code.
	rangeBudget := 1 << 20
	lex := NewLexer(data)
	var ops []Token
	code := func(b []byte) uint16 {
		var c uint16
		for _, x := range b {
			c = c<<8 | uint16(x)
		}
		return c
	}
	text := func(b []byte) string {
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		}
		return string(utf16.Decode(u))
	}
	for {
		tok, ok := lex.Next()
		if !ok {
			return m
		}
		if tok.Kind != TokOperator {
			ops = append(ops, tok)
			continue
		}
		switch tok.Text {
		case "endbfchar":
			for i := 0; i+1 < len(ops); i += 2 {
				if ops[i].Kind == TokString && ops[i+1].Kind == TokString {
					m[code(ops[i].Str)] = text(ops[i+1].Str)
				}
			}
		case "endbfrange":
			for i := 0; i+2 < len(ops); {
				lo, hi := code(ops[i].Str), code(ops[i+1].Str)
				if ops[i+2].Kind == TokOpen {
					j := i + 3
					for c := lo; j < len(ops) && ops[j].Kind == TokString; c, j = c+1, j+1 {
						m[c] = text(ops[j].Str)
					}
					i = j + 1
					continue
				}
				dst := []rune(text(ops[i+2].Str))
				if len(ops[i+2].Str) > maxRangeDst {
					dst = nil // not a CMap any reader accepts
				}
				for c := lo; c <= hi && c >= lo && len(dst) > 0 && rangeBudget > 0; c++ {
					m[c] = string(dst)
					rangeBudget--
					dst[len(dst)-1]++
					if c == 0xFFFF {
						break
					}
				}
				i += 3
			}
		}
		ops = ops[:0]
	}
}

// Decode turns a shown string into text; codes without a mapping are kept
// as raw bytes so that nothing is lost from the search.
func (t ToUnicode) Decode(b []byte) string {
	if t == nil {
		return string(b)
	}
	var out []byte
	for i := 0; i+1 < len(b); i += 2 {
		c := uint16(b[i])<<8 | uint16(b[i+1])
		if s, ok := t[c]; ok {
			out = append(out, s...)
		} else {
			out = append(out, b[i], b[i+1])
		}
	}
	return string(out)
}
