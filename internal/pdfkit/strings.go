package pdfkit

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// TextString encodes s as a PDF text string (UTF-16BE with a byte order
// mark, in hex), the form readers accept for any script in outlines and
// dictionaries.
func TextString(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}

// Num formats a real number compactly, with at most 4 decimals, as content
// streams want it. It never prints an exponent, which PDF does not allow.
func Num(f float64) string {
	s := strconv.FormatFloat(f, 'f', 4, 64)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

// Name formats a PDF name from a plain ASCII identifier.
func Name(s string) string {
	var b strings.Builder
	b.WriteByte('/')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>[]{}/%#", c) >= 0 {
			fmt.Fprintf(&b, "#%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
