package verify

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/unicode/norm"

	"github.com/blindpack/blindpack/pipeline/identity"
)

// Identity is what must not appear.
type Identity = identity.Identity

// needles are the forms of the identity searched for: long ones, safe to
// look for in binary data (six bytes or more in every encoding), and short
// ones (a given name of two characters, an employer's core name), looked
// for only where text lives — a four-byte pattern in megabytes of pixels
// would match by chance.
type needles struct {
	long, short [][]byte
}

// identityNeedles encodes the forms of id (pipeline/identity) as a PDF
// may hold them, as written and NFKC-normalised when that differs.
func identityNeedles(id Identity) needles {
	var long, short []string
	for _, f := range identity.Forms(id) {
		for _, s := range []string{f.Text, norm.NFKC.String(f.Text)} {
			switch n := utf8.RuneCountInString(s); {
			case n >= 3:
				long = append(long, s)
			case n == 2: // NFKC may compose a pair into one character
				short = append(short, s)
			}
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
