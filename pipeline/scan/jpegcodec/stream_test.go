//go:build cgo && !purego

package jpegcodec_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// rewrite is one run of the canonical rewrite: Canonical's (num 0) or
// CanonicalGray's at num/8.
type rewrite struct {
	out      []byte
	gray     *image.Gray
	streamed bool
	err      error
}

func runRewrite(data []byte, num int, whole bool) rewrite {
	var r rewrite
	r.out, r.gray, r.streamed, r.err = jpegcodec.Rewrite(data, num, whole)
	return r
}

// errClass names what a caller of Canonical makes of an error.
func errClass(err error) string {
	switch {
	case err == nil:
		return "none"
	case errors.Is(err, jpegcodec.ErrCorrupt):
		return "corrupt"
	case jpegcodec.Unsupported(err):
		return "unsupported"
	}
	return "other"
}

// sameRewrite checks that the streamed rewrite of data gives what the
// whole-image one gives: the same bytes and luminance, or an error of the
// same class. It returns whether the file was streamed.
func sameRewrite(t testing.TB, name string, data []byte, num int) bool {
	t.Helper()
	s := runRewrite(data, num, false)
	w := runRewrite(data, num, true)
	if w.streamed {
		t.Fatalf("%s: the whole-image path streamed", name)
	}
	if errClass(s.err) != errClass(w.err) {
		t.Fatalf("%s at %d/8: streamed: %v; whole image: %v", name, num, s.err, w.err)
	}
	if s.err != nil {
		return s.streamed
	}
	if !bytes.Equal(s.out, w.out) {
		t.Fatalf("%s at %d/8: streamed output (%d bytes) differs from the whole image's (%d bytes)", name, num, len(s.out), len(w.out))
	}
	if num > 0 && (s.gray.Rect != w.gray.Rect || !bytes.Equal(s.gray.Pix, w.gray.Pix)) {
		t.Fatalf("%s at %d/8: streamed luminance differs", name, num)
	}
	return s.streamed
}

// tool runs an image tool with stdin and returns its standard output.
func tool(t testing.TB, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, stderr.Bytes())
	}
	return out
}

// pnm writes a PGM (grey) or PPM of a pageLike image, for cjpeg.
func pnm(w, h int, colour bool) []byte {
	var b bytes.Buffer
	img := pageLike(w, h, colour)
	if !colour {
		fmt.Fprintf(&b, "P5\n%d %d\n255\n", w, h)
		b.Write(img.(*image.Gray).Pix)
		return b.Bytes()
	}
	fmt.Fprintf(&b, "P6\n%d %d\n255\n", w, h)
	for i, v := range img.(*image.RGBA).Pix {
		if i%4 != 3 {
			b.WriteByte(v)
		}
	}
	return b.Bytes()
}

// streamInputs are JPEGs in the forms scanners and editors write, made
// with cjpeg, jpegtran and ImageMagick, each with whether the rewrite
// streams it.
func streamInputs(t testing.TB) map[string]struct {
	data   []byte
	stream bool
} {
	t.Helper()
	in := map[string]struct {
		data   []byte
		stream bool
	}{}
	add := func(name string, data []byte, stream bool) {
		in[name] = struct {
			data   []byte
			stream bool
		}{data, stream}
	}
	for _, size := range [][2]int{{301, 197}, {256, 128}, {17, 9}, {1, 1}, {64, 63}} {
		grey, colour := pnm(size[0], size[1], false), pnm(size[0], size[1], true)
		sz := fmt.Sprintf("%dx%d", size[0], size[1])
		add(sz+" grey", tool(t, grey, "cjpeg", "-quality", "85"), true)
		add(sz+" grey optimised", tool(t, grey, "cjpeg", "-quality", "85", "-optimize"), true)
		add(sz+" grey sampled 2x2", tool(t, grey, "cjpeg", "-sample", "2x2"), true)
		add(sz+" grey, restart every row", tool(t, grey, "cjpeg", "-restart", "1"), true)
		add(sz+" grey progressive", tool(t, grey, "cjpeg", "-progressive"), false)
		add(sz+" grey arithmetic", tool(t, grey, "cjpeg", "-arithmetic"), false)
		add(sz+" grey 16-bit quantisers", tool(t, grey, "cjpeg", "-quality", "3"), true)
		for _, s := range []string{"2x2", "2x1", "1x1", "1x2", "4x1"} {
			add(sz+" YCbCr "+s, tool(t, colour, "cjpeg", "-quality", "90", "-sample", s), true)
		}
		add(sz+" YCbCr 2x2 optimised, restart every 3 MCUs", tool(t, colour, "cjpeg", "-sample", "2x2", "-optimize", "-restart", "3B"), true)
		add(sz+" YCbCr 2x2 progressive", tool(t, colour, "cjpeg", "-sample", "2x2", "-progressive"), false)
		add(sz+" RGB", tool(t, colour, "cjpeg", "-rgb"), true)
		add(sz+" CMYK (ImageMagick)", tool(t, colour, "convert", "ppm:-", "-colorspace", "CMYK", "-quality", "90", "jpeg:-"), true)
		add(sz+" YCbCr, restart every 2 blocks (jpegtran)", tool(t, in[sz+" YCbCr 2x2"].data, "jpegtran", "-restart", "2B"), true)
	}
	samples, err := filepath.Glob("../../../testdata/samples/*/*.jpg")
	if err != nil || len(samples) == 0 {
		t.Fatalf("no sample JPEGs (%v)", err)
	}
	for _, p := range samples {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		add(p, data, true)
	}
	return in
}

// TestCanonicalStreamed: the streamed rewrite gives the whole-image
// rewrite's bytes and luminance for every file it streams, and the
// others take the whole-image path. cjpeg's files with the standard
// Huffman tables and no restart interval have their entropy-coded data
// copied (all but the MCUs at the edges), and the copy is what encoding
// every MCU again gives.
func TestCanonicalStreamed(t *testing.T) {
	for name, in := range streamInputs(t) {
		// cjpeg's (ImageMagick's CMYK files and the sample uploads may
		// have either coding).
		tool := strings.Contains(name, "x") && !strings.Contains(name, "CMYK")
		recoded := strings.Contains(name, "optimised") || strings.Contains(name, "restart")
		copies := tool && in.stream && !recoded
		for _, num := range []int{0, 1, 4, 8} {
			streamed := sameRewrite(t, name, in.data, num)
			switch r := runRewrite(in.data, num, false); {
			case jpegcodec.Unsupported(r.err): // RGB, CMYK for CanonicalGray: decoded and rewritten apart
			case r.err != nil:
				t.Errorf("%s at %d/8: %v", name, num, r.err)
			case streamed != in.stream:
				t.Errorf("%s at %d/8: streamed %v, want %v", name, num, streamed, in.stream)
			}
			out, _, rw, err := jpegcodec.RewriteWith(in.data, num, jpegcodec.RewriteStream)
			enc, _, re, _ := jpegcodec.RewriteWith(in.data, num, jpegcodec.RewriteEncode)
			if err == nil && !bytes.Equal(out, enc) {
				t.Errorf("%s at %d/8: the copy differs from the encoded rewrite", name, num)
			}
			if re.Copied != -1 {
				t.Errorf("%s at %d/8: the encoding rewrite copied %d MCUs", name, num, re.Copied)
			}
			if copies && err == nil && rw.Copied < 0 {
				t.Errorf("%s at %d/8: not copied", name, num)
			}
			if tool && !copies && rw.Copied >= 0 {
				t.Errorf("%s at %d/8: %d MCUs copied", name, num, rw.Copied)
			}
		}
	}
}

// afterScan inserts seg between a JPEG's entropy-coded data and its end.
func afterScan(data, seg []byte) []byte {
	eoi := bytes.LastIndex(data, []byte{0xFF, 0xD9})
	return append(append(bytes.Clone(data[:eoi]), seg...), data[eoi:]...)
}

// TestCanonicalStreamedAfterScan: what follows the scan, which the
// streamed rewrite reads only after writing, is judged as the whole-image
// path judges it: a quantisation table redefined (refused when it differs,
// since the frame was written with the old one), a second scan (refused),
// a segment or data after the end (dropped).
func TestCanonicalStreamedAfterScan(t *testing.T) {
	data := tool(t, pnm(61, 45, true), "cjpeg", "-quality", "80", "-sample", "2x2")
	dqt := func(slot byte, v byte) []byte {
		return segment(0xDB, append([]byte{slot}, bytes.Repeat([]byte{v}, 64)...))
	}
	sof := bytes.Index(data, []byte{0xFF, 0xC0})
	sos := bytes.Index(data, []byte{0xFF, 0xDA})
	// The luminance table as the file has it (slot 0, 8-bit, zigzag order).
	q0 := bytes.Index(data, []byte{0xFF, 0xDB})
	same := segment(0xDB, data[q0+4:q0+4+65])
	for _, tc := range []struct {
		name string
		data []byte
		ok   bool
	}{
		{"the luminance table again, the same", afterScan(data, same), true},
		{"the luminance table again, different", afterScan(data, dqt(0, 7)), false},
		{"a table for an unused slot", afterScan(data, dqt(3, 7)), true},
		{"an APP1 segment", afterScan(data, segment(0xE1, []byte("Exif\x00\x00after"))), true},
		{"a comment", afterScan(data, segment(0xFE, []byte("after"))), true},
		{"a second scan", afterScan(data, data[sos:len(data)-2]), false},
		{"a second frame", afterScan(data, data[sof:sos]), false},
		{"data after the end", append(bytes.Clone(data), "after the end"...), true},
		{"no end", data[:len(data)-2], false},
	} {
		for _, num := range []int{0, 4} {
			if !sameRewrite(t, tc.name, tc.data, num) {
				t.Errorf("%s: not streamed", tc.name)
			}
			if r := runRewrite(tc.data, num, false); (r.err == nil) != tc.ok {
				t.Errorf("%s at %d/8: %v, want ok %v", tc.name, num, r.err, tc.ok)
			}
		}
	}
}

// TestCanonicalStreamedCorrupt: truncated and damaged files fail on both
// paths alike, wherever the damage is.
func TestCanonicalStreamedCorrupt(t *testing.T) {
	for _, data := range [][]byte{
		tool(t, pnm(61, 45, false), "cjpeg", "-restart", "1"),
		tool(t, pnm(61, 45, true), "cjpeg", "-sample", "2x2"),
	} {
		sos := bytes.Index(data, []byte{0xFF, 0xDA})
		for n := sos; n < len(data); n += 7 {
			sameRewrite(t, fmt.Sprintf("cut at %d", n), data[:n], 4)
		}
		for i := sos + 12; i < len(data)-2; i += 5 {
			for _, v := range []byte{0xFF, 0x00, data[i] ^ 0x10} {
				d := bytes.Clone(data)
				d[i] = v
				sameRewrite(t, fmt.Sprintf("byte %d set to %#x", i, v), d, 4)
				sameRewrite(t, fmt.Sprintf("byte %d set to %#x", i, v), d, 0)
			}
		}
		// A frame that claims more rows than the data holds.
		tall := bytes.Clone(data)
		sof := bytes.Index(tall, []byte{0xFF, 0xC0})
		binary.BigEndian.PutUint16(tall[sof+5:], 400)
		if r := runRewrite(tall, 4, false); !errors.Is(r.err, jpegcodec.ErrCorrupt) {
			t.Errorf("a frame taller than its data: %v", r.err)
		}
		sameRewrite(t, "taller frame", tall, 4)
	}
}

// FuzzCanonicalStreamed compares the streamed and whole-image rewrites on
// any bytes.
func FuzzCanonicalStreamed(f *testing.F) {
	f.Add(tool(f, pnm(17, 9, false), "cjpeg", "-quality", "50"))
	f.Add(tool(f, pnm(17, 9, false), "cjpeg", "-restart", "1B"))
	f.Add(tool(f, pnm(33, 18, true), "cjpeg", "-sample", "2x2", "-optimize"))
	f.Add(tool(f, pnm(20, 12, true), "cjpeg", "-sample", "2x1", "-restart", "1"))
	f.Add(tool(f, pnm(9, 30, true), "cjpeg", "-rgb", "-quality", "3"))
	// Copied: standard tables, edge MCUs between copied ones.
	f.Add(tool(f, pnm(35, 18, true), "cjpeg", "-sample", "2x2"))
	f.Add(tool(f, pnm(32, 16, false), "cjpeg", "-quality", "95"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Bounded so that a frame claiming gigapixels does not make the
		// whole-image path allocate them.
		if w, h, err := jpegcodec.Size(data); err != nil || w*h > 1<<20 {
			return
		}
		sameRewrite(t, "input", data, 0)
		sameRewrite(t, "input", data, 3)
	})
}

// BenchmarkRewrite compares the streamed rewrite, copying the
// entropy-coded data (the file has the standard tables), with the streamed
// rewrite encoding every MCU again and with the whole-image rewrite (with
// the luminance at half size, as an unmasked page has them) of an A4 page
// at 300 ppi of text-like strokes; and, copied, the same page two pixels
// narrower, whose last block of every row straddles the edge and is
// encoded again, so that the copy is out of byte alignment from the first
// row on.
func BenchmarkRewrite(b *testing.B) {
	var enc, narrow bytes.Buffer
	if err := jpeg.Encode(&enc, pageLike(2480, 3508, false), &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	if err := jpeg.Encode(&narrow, pageLike(2478, 3508, false), &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	b.Run("streamed-copied-unaligned", func(b *testing.B) {
		for b.Loop() {
			if _, _, r, err := jpegcodec.RewriteWith(narrow.Bytes(), 4, jpegcodec.RewriteStream); err != nil || r.Copied <= 0 {
				b.Fatalf("%v, %d MCUs copied", err, r.Copied)
			}
		}
	})
	modes := []struct {
		name string
		run  func([]byte) (jpegcodec.Rewritten, error)
	}{
		{"streamed-copied", func(d []byte) (jpegcodec.Rewritten, error) {
			_, _, r, err := jpegcodec.RewriteWith(d, 4, jpegcodec.RewriteStream)
			return r, err
		}},
		{"streamed-encoded", func(d []byte) (jpegcodec.Rewritten, error) {
			_, _, r, err := jpegcodec.RewriteWith(d, 4, jpegcodec.RewriteEncode)
			return r, err
		}},
		{"whole-image", func(d []byte) (jpegcodec.Rewritten, error) {
			_, _, r, err := jpegcodec.RewriteWith(d, 4, jpegcodec.RewriteWhole)
			return r, err
		}},
	}
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			for b.Loop() {
				r, err := mode.run(enc.Bytes())
				if err != nil {
					b.Fatal(err)
				}
				if (r.Copied > 0) != (mode.name == "streamed-copied") {
					b.Fatalf("%d MCUs copied", r.Copied)
				}
			}
		})
	}
}
