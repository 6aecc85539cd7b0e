package verify

import (
	"bytes"
	"encoding/binary"
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
	set         *longSet // long, searched in one pass
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
	n.set = newLongSet(n.long)
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

// longSet finds any of the long needles in binary data in one pass, where
// findAny takes one pass a needle (the byte search of a whole packet was 5%
// of its CPU). Every occurrence of a needle of at least min bytes holds the
// four bytes at some offset o < stride = min − 3 from its start that begin
// at a multiple of stride in data: looking up the four bytes at every
// stride-th position in the set of those of every needle at every such
// offset finds every occurrence, and a hit is confirmed by comparing the
// needle.
type longSet struct {
	ns     [][]byte
	stride int
	bits   [1 << 16 / 64]uint64 // a hash of the four bytes → in cands
	cands  map[uint32][]needleAt
}

// needleAt is needle n with the four bytes at offset off.
type needleAt struct{ n, off int }

func keyHash(k uint32) uint32 { return (k * 2654435761) >> 16 }

func newLongSet(ns [][]byte) *longSet {
	s := &longSet{cands: map[uint32][]needleAt{}}
	short := 0
	for _, n := range ns {
		if len(n) > 0 {
			s.ns = append(s.ns, n)
			if short == 0 || len(n) < short {
				short = len(n)
			}
		}
	}
	if short < 4 {
		s.stride = 0 // findAny
		return s
	}
	s.stride = short - 3
	for i, n := range s.ns {
		for off := range s.stride {
			k := binary.LittleEndian.Uint32(n[off:])
			h := keyHash(k)
			s.bits[h>>6] |= 1 << (h & 63)
			s.cands[k] = append(s.cands[k], needleAt{i, off})
		}
	}
	return s
}

// in reports whether any needle occurs in data (none for a nil set).
func (s *longSet) in(data []byte) bool {
	if s == nil {
		return false
	}
	if s.stride == 0 {
		return findAny(data, s.ns)
	}
	for p := 0; p+4 <= len(data); p += s.stride {
		k := binary.LittleEndian.Uint32(data[p:])
		if h := keyHash(k); s.bits[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		for _, c := range s.cands[k] {
			n, at := s.ns[c.n], p-c.off
			if at >= 0 && at+len(n) <= len(data) && bytes.Equal(data[at:at+len(n)], n) {
				return true
			}
		}
	}
	return false
}
