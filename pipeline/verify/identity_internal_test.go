package verify

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestLongSet: the one-pass search finds what findAny finds — needles of
// every length from 4 bytes, at every offset, at the ends of the data,
// overlapping one another, and nothing where there is nothing.
func TestLongSet(t *testing.T) {
	id := identityNeedles(Identity{Name: "李静怡", Employer: "华东机械设计研究院"})
	rng := rand.New(rand.NewPCG(3, 4))
	for _, ns := range [][][]byte{
		id.long,
		{[]byte("abcd")},
		{[]byte("abcdefgh"), []byte("bcdefghijk"), []byte("xyzw")},
		{[]byte("aaaaaaa")},
		{},
	} {
		s := newLongSet(ns)
		for trial := range 400 {
			data := make([]byte, rng.IntN(300))
			for i := range data {
				data[i] = byte(rng.IntN(6)) + 'a' // a small alphabet: near misses
			}
			if len(ns) > 0 && trial%2 == 0 {
				n := ns[rng.IntN(len(ns))]
				if len(n) <= len(data) {
					copy(data[rng.IntN(len(data)-len(n)+1):], n)
				}
			}
			if got, want := s.in(data), findAny(data, ns); got != want {
				t.Fatalf("needles %q in %q: %v, findAny %v", ns, data, got, want)
			}
		}
		for _, n := range ns {
			for pre := range 9 {
				data := append(bytes.Repeat([]byte{0}, pre), n...)
				if !s.in(data) || !s.in(data[pre:]) {
					t.Fatalf("%q after %d bytes not found", n, pre)
				}
				if s.in(data[:len(data)-1]) && !findAny(data[:len(data)-1], ns) {
					t.Fatalf("%q cut short found", n)
				}
			}
		}
	}
}

// FuzzLongSet compares the one-pass search with findAny on any bytes.
func FuzzLongSet(f *testing.F) {
	f.Add([]byte("xx李静怡yy"), []byte("李静怡"), []byte("abcd"))
	f.Add([]byte("aaaaaaaab"), []byte("aaab"), []byte("aaaaaaaa"))
	f.Fuzz(func(t *testing.T, data, a, b []byte) {
		ns := [][]byte{a, b}
		if got, want := newLongSet(ns).in(data), findAny(data, ns); got != want {
			t.Fatalf("needles %q in %q: %v, findAny %v", ns, data, got, want)
		}
	})
}

// BenchmarkIdentitySearch compares the one-pass search of an identity's
// long forms with a pass a form (findAny) over 8 MB of JPEG-like bytes.
func BenchmarkIdentitySearch(b *testing.B) {
	id := identityNeedles(Identity{Name: "李静怡", Employer: "华东机械设计研究院"})
	rng := rand.New(rand.NewPCG(5, 6))
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	b.SetBytes(int64(len(data)))
	b.Run("one-pass", func(b *testing.B) {
		s := newLongSet(id.long)
		for b.Loop() {
			if s.in(data) {
				b.Fatal("found")
			}
		}
	})
	b.Run("a-pass-a-form", func(b *testing.B) {
		for b.Loop() {
			if findAny(data, id.long) {
				b.Fatal("found")
			}
		}
	})
	b.Logf("%d long forms", len(id.long))
}
