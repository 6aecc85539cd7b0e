package pdfkit

// The content-stream lexer: it splits PDF content streams into operands
// and operators. Package scan uses it to learn what an uploaded page
// paints; package verify uses it to read back what a finished packet
// shows; package result reads whole objects with it.

import (
	"bytes"
	"strconv"
)

// TokenKind is the kind of a Token.
type TokenKind byte

// Token kinds.
const (
	TokNumber   TokenKind = 'n'
	TokName     TokenKind = '/'
	TokOperator TokenKind = 'o'
	TokString   TokenKind = 's' // literal or hex string; Str holds its bytes
	TokOpen     TokenKind = '['
	TokClose    TokenKind = ']'
	// TokDict is << or >> (Text says which); in content streams
	// dictionaries only occur in inline images and marked content.
	TokDict TokenKind = 'd'
)

// Token is one lexical element of a content stream.
type Token struct {
	Kind TokenKind
	Num  float64
	Text string // name (without /) or operator
	Str  []byte // decoded string bytes
}

// Lexer reads tokens from a content stream.
type Lexer struct {
	b []byte
	p int
}

// NewLexer starts a lexer on b.
func NewLexer(b []byte) *Lexer { return &Lexer{b: b} }

// Pos is the offset of the next byte the lexer reads: a reader of whole
// objects uses it to find where a stream's data starts.
func (l *Lexer) Pos() int { return l.p }

// Seek moves the lexer to offset p (clamped to the input), e.g. past a
// stream's data, or back to re-read a token.
func (l *Lexer) Seek(p int) { l.p = max(0, min(p, len(l.b))) }

// IsSpace reports PDF white space.
func IsSpace(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

// isDelim reports PDF delimiters.
func isDelim(c byte) bool { return bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0 }

// Next returns the next token, or false at the end.
func (l *Lexer) Next() (Token, bool) {
	for l.p < len(l.b) {
		c := l.b[l.p]
		switch {
		case IsSpace(c):
			l.p++
		case c == '%':
			for l.p < len(l.b) && l.b[l.p] != '\n' && l.b[l.p] != '\r' {
				l.p++
			}
		case c == '(':
			return Token{Kind: TokString, Str: l.literal()}, true
		case c == '<' && l.p+1 < len(l.b) && l.b[l.p+1] == '<', c == '>' && l.p+1 < len(l.b) && l.b[l.p+1] == '>':
			l.p += 2
			return Token{Kind: TokDict, Text: string(l.b[l.p-2 : l.p])}, true
		case c == '<':
			return Token{Kind: TokString, Str: l.hex()}, true
		case c == '[':
			l.p++
			return Token{Kind: TokOpen}, true
		case c == ']':
			l.p++
			return Token{Kind: TokClose}, true
		case c == '/':
			start := l.p + 1
			l.p++
			for l.p < len(l.b) && !IsSpace(l.b[l.p]) && !isDelim(l.b[l.p]) {
				l.p++
			}
			return Token{Kind: TokName, Text: string(l.b[start:l.p])}, true
		default:
			start := l.p
			for l.p < len(l.b) && !IsSpace(l.b[l.p]) && !isDelim(l.b[l.p]) {
				l.p++
			}
			if l.p == start { // a stray delimiter: ) > { }
				l.p++
				continue
			}
			word := string(l.b[start:l.p])
			if f, err := strconv.ParseFloat(word, 64); err == nil && (word[0] == '-' || word[0] == '+' || word[0] == '.' || (word[0] >= '0' && word[0] <= '9')) {
				return Token{Kind: TokNumber, Num: f}, true
			}
			return Token{Kind: TokOperator, Text: word}, true
		}
	}
	return Token{}, false
}

// literal reads a (string) with its escapes.
func (l *Lexer) literal() []byte {
	var out []byte
	depth := 0
	for l.p < len(l.b) {
		c := l.b[l.p]
		switch {
		case c == '(':
			depth++
			if depth > 1 {
				out = append(out, c)
			}
		case c == ')':
			depth--
			if depth == 0 {
				l.p++
				return out
			}
			out = append(out, c)
		case c == '\\' && l.p+1 < len(l.b):
			l.p++
			e := l.b[l.p]
			switch e {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case '\r', '\n': // line continuation
				if e == '\r' && l.p+1 < len(l.b) && l.b[l.p+1] == '\n' {
					l.p++
				}
			default:
				if e >= '0' && e <= '7' {
					v := 0
					for i := 0; i < 3 && l.p < len(l.b) && l.b[l.p] >= '0' && l.b[l.p] <= '7'; i++ {
						v = v*8 + int(l.b[l.p]-'0')
						l.p++
					}
					l.p--
					out = append(out, byte(v))
				} else {
					out = append(out, e)
				}
			}
		default:
			out = append(out, c)
		}
		l.p++
	}
	return out
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// hex reads a <hex string>; an odd final digit counts as followed by 0.
func (l *Lexer) hex() []byte {
	l.p++
	var out []byte
	var hi byte
	half := false
	for l.p < len(l.b) && l.b[l.p] != '>' {
		if v, ok := unhex(l.b[l.p]); ok {
			if half {
				out = append(out, hi<<4|v)
			} else {
				hi = v
			}
			half = !half
		}
		l.p++
	}
	if half {
		out = append(out, hi<<4)
	}
	l.p++
	return out
}

// SkipInlineImage moves past the data of an inline image, which starts
// after the ID operator and ends at an EI operator.
func (l *Lexer) SkipInlineImage() {
	l.p++ // the single white-space byte after ID
	for l.p+2 <= len(l.b) {
		i := bytes.Index(l.b[l.p:], []byte("EI"))
		if i < 0 {
			l.p = len(l.b)
			return
		}
		l.p += i
		before := l.p == 0 || IsSpace(l.b[l.p-1])
		after := l.p+2 == len(l.b) || IsSpace(l.b[l.p+2]) || isDelim(l.b[l.p+2])
		l.p += 2
		if before && after {
			return
		}
	}
	l.p = len(l.b)
}
