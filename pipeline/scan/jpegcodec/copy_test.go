//go:build cgo && !purego

package jpegcodec

import (
	"bytes"
	"errors"
	"image"
	"os/exec"
	"testing"
)

// greyJPEG is libjpeg's JPEG of a w × h grey image (standard Huffman
// tables, no restart interval).
func greyJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i*i/7 + 3*i)
	}
	var b bytes.Buffer
	if err := turboEncode(&b, img, 85); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// tables returns the Huffman tables of a one-component JPEG's DHT
// segments: DC and AC.
func tables(t *testing.T, dht [][]byte) (dc, ac *jpegHuff) {
	t.Helper()
	for _, body := range dht {
		for len(body) >= 17 {
			n := 0
			for _, c := range body[1:17] {
				n += int(c)
			}
			h, err := newJPEGHuff(body[1:17], body[17:17+n])
			if err != nil {
				t.Fatal(err)
			}
			if body[0]>>4 == 0 {
				dc = h
			} else {
				ac = h
			}
			body = body[17+n:]
		}
	}
	if dc == nil || ac == nil {
		t.Fatal("no tables")
	}
	return dc, ac
}

// sameWays rewrites data streamed (copying where it can) and from the
// whole image, at full size and with the luminance at half size, and
// checks that both ways give the same bytes, luminance or class of
// error. It returns what the streamed rewrite made of it.
func sameWays(t *testing.T, name string, data []byte) (out []byte, copied int) {
	t.Helper()
	for _, num := range []int{0, 4} {
		s, gs, rs, errS := RewriteWith(data, num, rewriteStream)
		w, gw, _, errW := RewriteWith(data, num, rewriteWhole)
		if (errS == nil) != (errW == nil) || errors.Is(errS, ErrCorrupt) != errors.Is(errW, ErrCorrupt) {
			t.Fatalf("%s at %d/8: streamed: %v; whole image: %v", name, num, errS, errW)
		}
		if !bytes.Equal(s, w) {
			t.Fatalf("%s at %d/8: streamed output (%d bytes) differs from the whole image's (%d bytes)", name, num, len(s), len(w))
		}
		if num > 0 && errS == nil && !bytes.Equal(gs.Pix, gw.Pix) {
			t.Fatalf("%s at %d/8: the luminance differs", name, num)
		}
		out, copied = s, rs.Copied
	}
	return out, copied
}

// TestCanonicalCopied: the copying path takes only data coded as
// libjpeg's encoder codes it. Two blocks of a 16 × 8 grey JPEG are coded
// again by hand: as the encoder codes them (copied: the output's data is
// the input's), and in the ways libjpeg's decoder also accepts, each of
// which could carry bits that no decoder shows — a run of sixteen zeros
// before the end of a block, a run past the 64th coefficient, zero bits to
// fill the last byte, a byte after the last block — which the rewrite
// codes again (the copying path gives up, and the output is the
// whole-image path's). In every case the output's entropy-coded data is
// what jpegtran -copy none writes.
func TestCanonicalCopied(t *testing.T) {
	base := greyJPEG(t, 16, 8)
	dht, _, _, data := segments(t, base)
	dc, ac := tables(t, dht)
	head := base[:len(base)-2-len(data)]

	// Each block: zigzag index → coefficient (DC at 0, as a difference).
	type coef struct{ k, v int }
	blocks := [2][]coef{
		{{0, 5}, {1, -3}, {4, 2}, {30, 1}},
		{{0, -2}, {2, 1}, {50, -1}},
	}
	value := func(v int) (byte, uint64) {
		s := byte(0)
		for a := max(v, -v); a > 0; a >>= 1 {
			s++
		}
		if v < 0 {
			return s, uint64(v + 1<<s - 1)
		}
		return s, uint64(v)
	}
	type how struct {
		zrlBeforeEnd, runPast63, zeroFill bool
		blocks                            [][]coef // instead of blocks
	}
	code := func(h how) []byte {
		var w jpegWriter
		bs := blocks[:]
		if h.blocks != nil {
			bs = h.blocks
		}
		for b, blk := range bs {
			if err := w.dc(dc, blk[0].v); err != nil {
				t.Fatal(err)
			}
			last := 0
			for _, c := range blk[1:] {
				run := c.k - last - 1
				for ; run > 15; run -= 16 {
					w.symbol(ac, 0xF0)
				}
				s, v := value(c.v)
				w.symbol(ac, byte(run)<<4|s)
				w.bits(v, uint(s))
				last = c.k
			}
			switch {
			case b == 0 && h.zrlBeforeEnd:
				w.symbol(ac, 0xF0)
				w.symbol(ac, 0)
			case b == 1 && h.runPast63:
				// From 51, fifteen zeros and a 1 reach "coefficient 66",
				// which libjpeg's decoder takes for the 64th.
				w.symbol(ac, 0xF1)
				w.bits(1, 1)
			case blk[len(blk)-1].k < 63: // after the 64th, the block just ends
				w.symbol(ac, 0)
			}
		}
		if h.zeroFill {
			w.bits(0, 8-w.n%8)
			return w.b
		}
		return w.finish()
	}
	file := func(data []byte, after ...byte) []byte {
		f := append(bytes.Clone(head), data...)
		return append(append(f, after...), 0xFF, 0xD9)
	}

	canonical := code(how{})
	out, copied := sameWays(t, "canonical", file(canonical))
	if copied != 2 {
		t.Errorf("coded as libjpeg codes it: %d MCUs copied, want 2", copied)
	}
	if !bytes.HasSuffix(out, append(bytes.Clone(canonical), 0xFF, 0xD9)) {
		t.Errorf("coded as libjpeg codes it: the output's data is not the input's")
	}
	// jpegtran (libjpeg-turbo's, the standard tables) codes the blocks of
	// each of these files (16 × 8: no edge blocks) as the rewrite does.
	jpegtran := func(name string, data []byte, out []byte) {
		t.Helper()
		cmd := exec.Command("jpegtran", "-copy", "none")
		cmd.Stdin = bytes.NewReader(data)
		ref, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: jpegtran: %v", name, err)
		}
		_, _, _, want := segments(t, ref)
		if _, _, _, got := segments(t, out); !bytes.Equal(got, want) {
			t.Errorf("%s: the rewrite's entropy-coded data is not jpegtran's", name)
		}
	}
	jpegtran("coded as libjpeg codes it", file(canonical), out)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"a run of sixteen zeros before the end of a block", file(code(how{zrlBeforeEnd: true}))},
		{"a run past the 64th coefficient", file(code(how{runPast63: true}))},
		{"zero bits to fill the last byte", file(code(how{zeroFill: true}))},
		{"a byte after the last block", file(canonical, 0x5A)},
		{"a byte after the last block, then fill bytes", file(canonical, 0x5A, 0xFF, 0xFF)},
	} {
		if bytes.Equal(tc.data, file(canonical)) {
			t.Fatalf("%s: coded as the encoder codes it", tc.name)
		}
		out, copied := sameWays(t, tc.name, tc.data)
		if copied >= 0 {
			t.Errorf("%s: %d MCUs copied", tc.name, copied)
		}
		jpegtran(tc.name, tc.data, out)
	}
	// A block whose last coefficient is the 64th has no end of block: the
	// next bits are the next block's DC. The decoder reads a coefficient
	// and what follows it at once where both fit its look-ahead; here they
	// would read as an end of block (the DC's size 4 code, 101, then the
	// value's first bit 0: the AC table's 1010), which must not be taken.
	for _, tc := range []struct {
		name   string
		blocks [][]coef
	}{
		{"the 63rd and 64th coefficients read at once, then the next DC", [][]coef{
			{{0, 5}, {61, 1}, {62, -1}, {63, 1}}, {{0, -10}, {2, 1}, {50, -1}}}},
		{"the 64th coefficient, then a DC that starts as an end of block", [][]coef{
			{{0, 5}, {62, -1}, {63, 1}}, {{0, -9}, {1, 2}}}},
	} {
		data := code(how{blocks: tc.blocks})
		out, copied := sameWays(t, tc.name, file(data))
		if copied != 2 {
			t.Errorf("%s: %d MCUs copied, want 2", tc.name, copied)
		}
		if !bytes.HasSuffix(out, append(bytes.Clone(data), 0xFF, 0xD9)) {
			t.Errorf("%s: the output's data is not the input's", tc.name)
		}
		jpegtran(tc.name, file(data), out)
	}
	// Fill bytes before the marker that follows are not data: copied.
	if _, copied := sameWays(t, "fill bytes before the end", file(canonical, 0xFF, 0xFF)); copied != 2 {
		t.Errorf("fill bytes before the end: %d MCUs copied, want 2", copied)
	}
}

// TestCanonicalCopiedStuffing: an 0xFF data byte is stuffed FF 00; libjpeg's
// decoder also takes FF FF 00 (a fill byte, then the stuffed byte), which
// the copy must not carry.
func TestCanonicalCopiedStuffing(t *testing.T) {
	data := greyJPEG(t, 128, 64)
	_, _, _, scan := segments(t, data)
	at := bytes.Index(scan, []byte{0xFF, 0x00})
	if at < 0 {
		t.Fatal("no stuffed byte in the data")
	}
	_, copied := sameWays(t, "as written", data)
	if copied != 16*8 {
		t.Errorf("as written: %d MCUs copied, want %d", copied, 16*8)
	}
	i := len(data) - 2 - len(scan) + at
	filled := append(append(bytes.Clone(data[:i]), 0xFF), data[i:]...)
	if _, copied := sameWays(t, "FF FF 00", filled); copied >= 0 {
		t.Errorf("FF FF 00: %d MCUs copied", copied)
	}
}

// TestCanonicalCopiedBitFlips flips every bit of the entropy-coded data of
// small grey and colour (4:2:0) JPEGs with edge and padding blocks, in
// turn: the copying path and the whole-image path agree on every one
// (the same bytes, luminance or class of error), whether the copy takes
// the flipped file or gives up. Go's fuzzing does not see into C; this
// walks every single-bit change of the data instead.
func TestCanonicalCopiedBitFlips(t *testing.T) {
	colour := image.NewRGBA(image.Rect(0, 0, 35, 18))
	for i := range colour.Pix {
		colour.Pix[i] = uint8(i*i/5 + 7*i)
	}
	var c bytes.Buffer
	if err := turboEncode(&c, colour, 80); err != nil {
		t.Fatal(err)
	}
	copied := 0
	for _, data := range [][]byte{greyJPEG(t, 35, 18), c.Bytes()} {
		_, _, _, scan := segments(t, data)
		at := len(data) - 2 - len(scan)
		for i := at; i < len(data)-2; i++ {
			for bit := range 8 {
				d := bytes.Clone(data)
				d[i] ^= 1 << bit
				if _, n := sameWays(t, "flipped", d); n >= 0 {
					copied++
				}
			}
		}
	}
	if copied == 0 {
		t.Error("the copying path took no flipped file")
	}
}

// TestCanonicalCopiedDCRange: DC coefficients that run past what a JCOEF
// holds (twenty blocks, each 2,047 above the last) are not copied: the
// encoder would code the stored, wrapped values' differences instead.
func TestCanonicalCopiedDCRange(t *testing.T) {
	base := greyJPEG(t, 160, 8)
	dht, _, _, data := segments(t, base)
	dc, ac := tables(t, dht)
	var w jpegWriter
	for range 20 {
		if err := w.dc(dc, 2047); err != nil {
			t.Fatal(err)
		}
		w.symbol(ac, 0)
	}
	file := append(append(bytes.Clone(base[:len(base)-2-len(data)]), w.finish()...), 0xFF, 0xD9)
	if _, copied := sameWays(t, "DC past a JCOEF", file); copied >= 0 {
		t.Errorf("%d MCUs copied", copied)
	}
	// Ten such blocks stay within a JCOEF: copied.
	w = jpegWriter{}
	for i := range 20 {
		if err := w.dc(dc, []int{2047, -2047}[i/10]); err != nil {
			t.Fatal(err)
		}
		w.symbol(ac, 0)
	}
	file = append(append(bytes.Clone(base[:len(base)-2-len(data)]), w.finish()...), 0xFF, 0xD9)
	if _, copied := sameWays(t, "DC within a JCOEF", file); copied != 20 {
		t.Errorf("%d MCUs copied, want 20", copied)
	}
}
