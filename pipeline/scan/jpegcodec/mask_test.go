//go:build cgo && !purego

package jpegcodec_test

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// pnmImage is a PGM or PPM as djpeg writes it.
type pnmImage struct {
	w, h, n int // n: samples a pixel
	pix     []byte
}

func readPNM(t testing.TB, data []byte) pnmImage {
	t.Helper()
	var magic string
	var w, h, max int
	r := bytes.NewReader(data)
	if _, err := fmt.Fscan(r, &magic, &w, &h, &max); err != nil || max != 255 {
		t.Fatalf("PNM header: %v (max %d)", err, max)
	}
	r.ReadByte() // the one whitespace before the samples
	n := map[string]int{"P5": 1, "P6": 3}[magic]
	pix := data[len(data)-r.Len():]
	if n == 0 || len(pix) != w*h*n {
		t.Fatalf("PNM %s %dx%d: %d bytes of samples", magic, w, h, len(pix))
	}
	return pnmImage{w, h, n, pix}
}

func (p pnmImage) at(x, y, c int) int { return int(p.pix[(y*p.w+x)*p.n+c]) }

// maskSets are masks in the forms the pipeline burns: inside a page, across
// block boundaries, over the right and bottom edges, tiny, overlapping, the
// whole page, and past the page (clipped).
func maskSets(w, h int) map[string][]image.Rectangle {
	return map[string][]image.Rectangle{
		"unaligned":    {image.Rect(w/5+3, h/4+5, w/2+1, h/2-2)},
		"aligned":      {image.Rect(8, 16, 8+8*((w-8)/16), 16+8*((h-16)/16))},
		"right-bottom": {image.Rect(w-w/3-1, h-h/3-1, w, h)},
		"one pixel":    {image.Rect(w/2, h/2, w/2+1, h/2+1)},
		"two":          {image.Rect(1, 2, w/3, h/3), image.Rect(w/4, h/5, w-2, h/2)},
		"whole":        {image.Rect(0, 0, w, h)},
		"beyond":       {image.Rect(-20, h/2, w+40, h+33)},
	}
}

// maskedInputs are the files CanonicalGrayMasked takes (every grey and
// YCbCr form of streamInputs) and, flagged, those it refuses.
func maskedInputs(t *testing.T) map[string]struct {
	data      []byte
	maskable  bool
	w, h      int
	colourful bool
} {
	in := map[string]struct {
		data      []byte
		maskable  bool
		w, h      int
		colourful bool
	}{}
	for name, s := range streamInputs(t) {
		w, h, err := jpegcodec.Size(s.data)
		if err != nil {
			t.Fatal(err)
		}
		refused := strings.Contains(name, "RGB") || strings.Contains(name, "CMYK")
		colour := strings.Contains(name, "YCbCr") || strings.Contains(name, "samples")
		in[name] = struct {
			data      []byte
			maskable  bool
			w, h      int
			colourful bool
		}{s.data, !refused, w, h, colour}
	}
	return in
}

// TestCanonicalMasked burns masks into the coefficients of every form of
// file: the copying, the encoding and the whole-image paths write the same
// bytes; the luminance for the clarity measures is the unmasked page's;
// djpeg (an independent decoder) shows black under every mask and, in
// every block no mask touches, the very samples of the unmasked rewrite.
func TestCanonicalMasked(t *testing.T) {
	for name, in := range maskedInputs(t) {
		plain, plainGray, _, err := jpegcodec.RewriteWith(in.data, 4, jpegcodec.RewriteStream)
		if err != nil && in.maskable {
			t.Fatalf("%s: %v", name, err)
		}
		for mname, masks := range maskSets(in.w, in.h) {
			label := name + ", " + mname
			out, g, r, err := jpegcodec.RewriteMasked(in.data, 4, masks, jpegcodec.RewriteStream)
			if !in.maskable {
				if !errors.Is(err, jpegcodec.ErrUnmaskable) {
					t.Errorf("%s: %v, want ErrUnmaskable", label, err)
				}
				continue
			}
			enc, _, re, err1 := jpegcodec.RewriteMasked(in.data, 4, masks, jpegcodec.RewriteEncode)
			whole, _, _, err2 := jpegcodec.RewriteMasked(in.data, 4, masks, jpegcodec.RewriteWhole)
			if errClass(err) != errClass(err1) || errClass(err) != errClass(err2) {
				t.Fatalf("%s: copying path %v, encoding path %v, whole-image path %v", label, err, err1, err2)
			}
			// Quality 3: a repainted block rings too far into the mask.
			if errors.Is(err, jpegcodec.ErrUnmaskable) && strings.Contains(name, "16-bit quantisers") {
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			if !bytes.Equal(out, enc) || !bytes.Equal(out, whole) {
				t.Fatalf("%s: the paths differ (copying %d bytes, %d MCUs copied; encoding %d; whole image %d)", label, len(out), r.Copied, len(enc), len(whole))
			}
			if re.Copied != -1 {
				t.Errorf("%s: the encoding path copied", label)
			}
			if !bytes.Equal(g.Pix, plainGray.Pix) {
				t.Errorf("%s: the luminance is not the unmasked page's", label)
			}
			checkMasked(t, label, plain, out, masks, in.w, in.h)
		}
	}
}

// checkMasked compares djpeg's luminance of the masked rewrite with the
// unmasked one's.
func checkMasked(t *testing.T, label string, plain, masked []byte, masks []image.Rectangle, w, h int) {
	t.Helper()
	p := readPNM(t, tool(t, plain, "djpeg", "-grayscale", "-pnm"))
	m := readPNM(t, tool(t, masked, "djpeg", "-grayscale", "-pnm"))
	if p.w != w || m.w != w || p.h != h || m.h != h {
		t.Fatalf("%s: decoded %dx%d and %dx%d, want %dx%d", label, p.w, p.h, m.w, m.h, w, h)
	}
	bounds := image.Rect(0, 0, w, h)
	touched := func(x, y int) bool { // the 8×8 luminance block of (x, y) meets a mask
		blk := image.Rect(x/8*8, y/8*8, x/8*8+8, y/8*8+8)
		for _, r := range masks {
			if blk.Overlaps(r) {
				return true
			}
		}
		return false
	}
	for y := range h {
		for x := range w {
			if !touched(x, y) && p.at(x, y, 0) != m.at(x, y, 0) {
				t.Fatalf("%s: (%d,%d) outside every masked block is %d, unmasked %d", label, x, y, m.at(x, y, 0), p.at(x, y, 0))
			}
		}
	}
	// Under each mask: the verifier's test (two pixels in, mean at most
	// 16, at most one in 500 light), and black in every block it covers.
	for _, r := range masks {
		r = r.Intersect(bounds)
		in := r.Inset(2)
		var sum, lit, n int
		for y := in.Min.Y; y < in.Max.Y; y++ {
			for x := in.Min.X; x < in.Max.X; x++ {
				v := m.at(x, y, 0)
				sum += v
				if v > 64 {
					lit++
				}
				n++
			}
		}
		if n > 0 && (sum > 16*n || lit > n/500) {
			t.Errorf("%s: mask %v: mean %.1f, %d of %d light", label, r, float64(sum)/float64(n), lit, n)
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				blk := image.Rect(x/8*8, y/8*8, x/8*8+8, y/8*8+8).Intersect(bounds)
				if blk.In(r) && m.at(x, y, 0) > 4 {
					t.Fatalf("%s: (%d,%d) in a wholly masked block is %d", label, x, y, m.at(x, y, 0))
				}
			}
		}
	}
}

// TestCanonicalMaskedHidesWhatIsUnder: two uploads that differ only under
// a mask (a name written there, sixteen pixels in from its edges, so that
// every block and chroma block holding a difference lies under the mask)
// give the same masked stream, byte for byte: nothing of what the mask
// covers reaches the packet.
func TestCanonicalMaskedHidesWhatIsUnder(t *testing.T) {
	const w, h = 333, 211
	mask := image.Rect(41, 53, 250, 131)
	for _, colour := range []bool{false, true} {
		plain := pnm(w, h, colour)
		named := bytes.Clone(plain)
		hdr := len(plain) - w*h
		n := 1
		if colour {
			n = 3
			hdr = len(plain) - w*h*3
		}
		name := mask.Inset(16)
		for y := name.Min.Y; y < name.Max.Y; y++ {
			for x := name.Min.X; x < name.Max.X; x++ {
				if (x/5+y/7)%3 == 0 || (x*y)%11 == 0 {
					for c := range n {
						named[hdr+(y*w+x)*n+c] = uint8(10 + 60*c)
					}
				}
			}
		}
		for _, args := range [][]string{{"-quality", "85"}, {"-quality", "60", "-sample", "2x2"}, {"-quality", "92", "-sample", "1x1"}} {
			if !colour && len(args) > 2 {
				continue
			}
			a := tool(t, plain, "cjpeg", args...)
			b := tool(t, named, "cjpeg", args...)
			if bytes.Equal(a, b) {
				t.Fatal("the name changed nothing")
			}
			for _, mode := range []jpegcodec.RewriteMode{jpegcodec.RewriteStream, jpegcodec.RewriteEncode, jpegcodec.RewriteWhole} {
				ma, _, _, err1 := jpegcodec.RewriteMasked(a, 4, []image.Rectangle{mask}, mode)
				mb, _, _, err2 := jpegcodec.RewriteMasked(b, 4, []image.Rectangle{mask}, mode)
				if err1 != nil || err2 != nil {
					t.Fatalf("colour %v %v: %v, %v", colour, args, err1, err2)
				}
				if !bytes.Equal(ma, mb) {
					t.Errorf("colour %v %v, way %d: the masked streams differ: what is under the mask shows", colour, args, mode)
				}
			}
		}
	}
}

// FuzzCanonicalMasked burns a mask, its place and size taken from the
// input, into damaged and odd files: the copying, encoding and whole-image
// paths agree (bytes, or the class of error), and nothing reads outside
// the coefficients (go test -asan for the C).
func FuzzCanonicalMasked(f *testing.F) {
	f.Add(tool(f, pnm(17, 9, false), "cjpeg", "-quality", "50"), 3, 2, 9, 7)
	f.Add(tool(f, pnm(35, 18, true), "cjpeg", "-sample", "2x2"), -4, 5, 40, 11)
	f.Add(tool(f, pnm(33, 18, true), "cjpeg", "-sample", "2x1", "-restart", "1"), 8, 0, 16, 18)
	f.Add(tool(f, pnm(32, 16, false), "cjpeg", "-quality", "95", "-progressive"), 0, 0, 32, 16)
	f.Add(tool(f, pnm(9, 30, true), "cjpeg", "-sample", "1x2", "-quality", "20"), 1, 1, 2, 2)
	f.Fuzz(func(t *testing.T, data []byte, x0, y0, x1, y1 int) {
		if w, h, err := jpegcodec.Size(data); err != nil || w*h > 1<<20 {
			return
		}
		masks := []image.Rectangle{image.Rect(x0, y0, x1, y1), image.Rect(x1/2, y1/3, x0+x1, y0+y1)}
		s, gs, _, errS := jpegcodec.RewriteMasked(data, 3, masks, jpegcodec.RewriteStream)
		e, _, _, errE := jpegcodec.RewriteMasked(data, 3, masks, jpegcodec.RewriteEncode)
		w, gw, _, errW := jpegcodec.RewriteMasked(data, 3, masks, jpegcodec.RewriteWhole)
		class := func(err error) string {
			if errors.Is(err, jpegcodec.ErrUnmaskable) {
				return "unmaskable"
			}
			return errClass(err)
		}
		if class(errS) != class(errW) || class(errE) != class(errW) {
			t.Fatalf("copying %v, encoding %v, whole image %v", errS, errE, errW)
		}
		if errW != nil {
			return
		}
		if !bytes.Equal(s, w) || !bytes.Equal(e, w) {
			t.Fatalf("the paths differ: %d, %d and %d bytes", len(s), len(e), len(w))
		}
		if !bytes.Equal(gs.Pix, gw.Pix) {
			t.Fatal("the luminance differs")
		}
	})
}
