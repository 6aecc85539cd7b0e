package jpegcodec_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"maps"
	"os/exec"
	"slices"
	"testing"

	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// backends runs f once per codec this build has: libjpeg-turbo (with cgo)
// and image/jpeg.
func backends(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer jpegcodec.SetPureGo(false)
	for _, pure := range []bool{false, true} {
		jpegcodec.SetPureGo(pure)
		t.Run(jpegcodec.Backend(), f)
		if !pure && jpegcodec.Backend() == "image/jpeg" {
			return // a pure-Go build: the second run would be the same
		}
	}
}

func testImages() map[string]image.Image {
	g := image.NewGray(image.Rect(0, 0, 61, 45))
	c := image.NewRGBA(image.Rect(0, 0, 61, 45))
	for y := range 45 {
		for x := range 61 {
			v := uint8((x*4 + y*3) % 256)
			if (x/7+y/5)%2 == 0 {
				v = 30
			}
			g.SetGray(x, y, color.Gray{v})
			c.SetRGBA(x, y, color.RGBA{v, 255 - v, uint8(x * 4), 255})
		}
	}
	return map[string]image.Image{"grey": g, "colour": c}
}

func encodeGo(t *testing.T, img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// markers lists a JPEG's segment markers up to the first scan.
func markers(data []byte) []byte {
	var out []byte
	for p := 2; p+4 <= len(data) && data[p] == 0xFF; {
		m := data[p+1]
		out = append(out, m)
		if m == 0xDA {
			break
		}
		p += 2 + int(binary.BigEndian.Uint16(data[p+2:]))
	}
	return out
}

func TestEncodeWritesNoMetadata(t *testing.T) {
	backends(t, func(t *testing.T) {
		for name, img := range testImages() {
			t.Run(name, func(t *testing.T) {
				var b bytes.Buffer
				if err := jpegcodec.Encode(&b, img, 90); err != nil {
					t.Fatal(err)
				}
				for _, m := range markers(b.Bytes()) {
					if m >= 0xE0 && m <= 0xEF || m == 0xFE {
						t.Errorf("marker %#x written", m)
					}
				}
				back, err := jpeg.Decode(bytes.NewReader(b.Bytes()))
				if err != nil {
					t.Fatal(err)
				}
				if back.Bounds() != img.Bounds() {
					t.Errorf("bounds %v, want %v", back.Bounds(), img.Bounds())
				}
				_, grey := img.(*image.Gray)
				if _, got := back.(*image.Gray); got != grey {
					t.Errorf("grey in, %T out", back)
				}
				// No table the frame does not use (the packet verifier
				// refuses one): one quantisation table for grey, two else.
				if n, want := quantTables(b.Bytes()), map[bool]int{true: 1, false: 2}[grey]; n != want {
					t.Errorf("%d quantisation tables, want %d", n, want)
				}
			})
		}
	})
}

// quantTables counts the quantisation tables of a JPEG's DQT segments.
func quantTables(jpg []byte) int {
	n := 0
	for p := 2; p+4 <= len(jpg) && jpg[p] == 0xFF && jpg[p+1] != 0xDA; {
		l := int(jpg[p+2])<<8 | int(jpg[p+3])
		if jpg[p+1] == 0xDB {
			for q := p + 4; q < p+2+l; {
				n++
				q += map[bool]int{true: 65, false: 129}[jpg[q]>>4 == 0]
			}
		}
		p += 2 + l
	}
	return n
}

func TestDecode(t *testing.T) {
	backends(t, func(t *testing.T) {
		for name, img := range testImages() {
			data := encodeGo(t, img)
			t.Run(name, func(t *testing.T) {
				got, err := jpegcodec.Decode(data)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := jpeg.Decode(bytes.NewReader(data))
				if got.Bounds() != want.Bounds() {
					t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
				}
				// Two decoders agree to within their rounding.
				gg, wg := jpegcodec.Gray(got), jpegcodec.Gray(want)
				b := got.Bounds()
				for y := b.Min.Y; y < b.Max.Y; y++ {
					for x := b.Min.X; x < b.Max.X; x++ {
						g, w := gg.GrayAt(x, y).Y, wg.GrayAt(x, y).Y
						if d := int(g) - int(w); d < -3 || d > 3 {
							t.Fatalf("pixel (%d,%d): %d, image/jpeg %d", x, y, g, w)
						}
					}
				}
			})
		}
	})
}

func TestDecodeGrayScaled(t *testing.T) {
	backends(t, func(t *testing.T) {
		data := encodeGo(t, testImages()["colour"])
		for _, num := range []int{1, 3, 4, 8} {
			t.Run(fmt.Sprint(num), func(t *testing.T) {
				dst := make([]byte, 0, 61*45)
				g, err := jpegcodec.DecodeGrayScaled(data, num, dst)
				if err != nil {
					t.Fatal(err)
				}
				w, h := g.Rect.Dx(), g.Rect.Dy()
				scaled := w == (61*num+7)/8 && h == (45*num+7)/8
				if jpegcodec.Native() != scaled && !(w == 61 && h == 45) {
					t.Fatalf("%dx%d at %d/8", w, h, num)
				}
				if jpegcodec.Native() && &g.Pix[0] != &dst[:1][0] {
					t.Errorf("dst not reused")
				}
			})
		}
	})
}

// TestCorrupt: both codecs refuse damaged files, and say so with
// ErrCorrupt; libjpeg-turbo's warnings count as errors.
func TestCorrupt(t *testing.T) {
	data := encodeGo(t, testImages()["grey"])
	sos := bytes.Index(data, []byte{0xFF, 0xDA})
	garbled := bytes.Clone(data)
	for i := sos + 20; i < len(garbled)-2; i += 3 {
		garbled[i] = 0xFF // unstuffed 0xFF: markers in the entropy data
	}
	for name, d := range map[string][]byte{
		"truncated": data[:len(data)/2],
		"garbled":   garbled,
		"header":    data[:sos],
		"empty":     {},
		"not jpeg":  []byte("GIF89a"),
	} {
		backends(t, func(t *testing.T) {
			t.Run(name, func(t *testing.T) {
				if _, err := jpegcodec.Decode(d); !errors.Is(err, jpegcodec.ErrCorrupt) {
					t.Errorf("Decode: %v, want ErrCorrupt", err)
				}
				if _, err := jpegcodec.DecodeGrayScaled(d, 4, nil); !errors.Is(err, jpegcodec.ErrCorrupt) {
					t.Errorf("DecodeGrayScaled: %v, want ErrCorrupt", err)
				}
			})
		})
	}
}

// BenchmarkCodec compares the codecs on an A4 page at 300 ppi.
func BenchmarkCodec(b *testing.B) {
	img := image.NewGray(image.Rect(0, 0, 2480, 3508))
	for i := range img.Pix {
		img.Pix[i] = uint8(245 - (i*7919%97)%3*70)
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	defer jpegcodec.SetPureGo(false)
	for _, pure := range []bool{false, true} {
		jpegcodec.SetPureGo(pure)
		name := jpegcodec.Backend()
		b.Run(name+"/decode", func(b *testing.B) {
			for b.Loop() {
				if _, err := jpegcodec.Decode(enc.Bytes()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/decode-grey-half", func(b *testing.B) {
			var dst []byte
			for b.Loop() {
				g, err := jpegcodec.DecodeGrayScaled(enc.Bytes(), 4, dst)
				if err != nil {
					b.Fatal(err)
				}
				dst = g.Pix
			}
		})
		b.Run(name+"/canonical", func(b *testing.B) {
			var out bytes.Buffer
			for b.Loop() {
				out.Reset()
				if err := jpegcodec.Canonical(&out, enc.Bytes(), 90); err != nil {
					b.Fatal(err)
				}
			}
		})
		// What an unmasked page costs: the reduced decode of the clarity
		// check and the canonical rewrite, from one reading.
		b.Run(name+"/canonical+grey-half", func(b *testing.B) {
			var out bytes.Buffer
			var dst []byte
			for b.Loop() {
				out.Reset()
				g, err := jpegcodec.CanonicalGray(&out, enc.Bytes(), 4, dst, 90)
				if err != nil {
					b.Fatal(err)
				}
				dst = g.Pix
			}
		})
		b.Run(name+"/encode-q90", func(b *testing.B) {
			var out bytes.Buffer
			for b.Loop() {
				out.Reset()
				if err := jpegcodec.Encode(&out, img, 90); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// hiddenJPEG encodes a 64×48 image that is flat grey (200) where visible
// and a 0/255 checkerboard beyond vw×vh, then declares vw×vh in the frame
// header: the checkerboard is in the padding of the last blocks and MCUs,
// where a decoder never shows it. It adds, as a hand-made upload might,
// the marker in an EXIF segment, a comment, an unused quantisation table
// and after the end of the image.
func hiddenJPEG(t *testing.T, grey bool, vw, vh int, marker string) []byte {
	t.Helper()
	var img image.Image
	g := image.NewGray(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			v := uint8(200)
			if x >= vw || y >= vh {
				v = uint8((x + y) % 2 * 255)
			} else if x < 32 && y < 24 && (x/3+y/5)%2 == 0 {
				v = 40 // detail inside, to see that it is kept
			}
			g.SetGray(x, y, color.Gray{v})
		}
	}
	img = g
	if !grey {
		c := image.NewRGBA(g.Rect)
		for i, v := range g.Pix {
			copy(c.Pix[4*i:], []byte{v, v / 2, 255 - v, 255})
		}
		img = c
	}
	data := encodeGo(t, img)
	sof := bytes.Index(data, []byte{0xFF, 0xC0})
	binary.BigEndian.PutUint16(data[sof+5:], uint16(vh))
	binary.BigEndian.PutUint16(data[sof+7:], uint16(vw))
	exif := append([]byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00"), marker...)
	dqt := append([]byte{0x03}, bytes.Repeat([]byte(marker), 64)[:64]...)
	var out []byte
	out = append(out, 0xFF, 0xD8)
	out = append(out, segment(0xE1, exif)...)
	out = append(out, segment(0xFE, []byte(marker))...)
	out = append(out, segment(0xDB, dqt)...)
	out = append(out, data[2:]...)
	return append(out, marker...)
}

func segment(m byte, body []byte) []byte {
	return append([]byte{0xFF, m, byte((len(body) + 2) >> 8), byte(len(body) + 2)}, body...)
}

// TestCanonical: the rewritten JPEG keeps the visible image (bit for bit
// away from the edges with libjpeg-turbo) and nothing else: no marker
// text, only the segments decoding needs, nothing after the end, and the
// samples beyond the declared size carry no trace of what was there.
func TestCanonical(t *testing.T) {
	const marker = "ZHANGSAN-ACME"
	backends(t, func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			grey   bool
			vw, vh int
		}{
			{"grey, partial edge blocks", true, 61, 45},
			{"colour, partial edge blocks", false, 61, 45},
			{"colour, a padding block column", false, 49, 45},
			{"colour, whole MCUs", false, 64, 48},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := hiddenJPEG(t, tc.grey, tc.vw, tc.vh, marker)
				var b bytes.Buffer
				if err := jpegcodec.Canonical(&b, in, 90); err != nil {
					t.Fatal(err)
				}
				out := b.Bytes()
				if bytes.Contains(out, []byte(marker)) {
					t.Error("marker text in the output")
				}
				if !bytes.HasSuffix(out, []byte{0xFF, 0xD9}) {
					t.Error("output does not end with its end-of-image marker")
				}
				for _, m := range markers(out) {
					if m != 0xDB && m != 0xC4 && m != 0xC0 && m != 0xC1 && m != 0xDA {
						t.Errorf("segment %#x written", m)
					}
				}
				dqts := bytes.Count(out[:bytes.Index(out, []byte{0xFF, 0xDA})], []byte{0xFF, 0xDB})
				if tables := 2; tc.grey && dqts != 1 || !tc.grey && dqts > tables {
					t.Errorf("%d quantisation table segments", dqts)
				}
				got, err := jpeg.Decode(bytes.NewReader(out))
				if err != nil {
					t.Fatal(err)
				}
				if got.Bounds() != image.Rect(0, 0, tc.vw, tc.vh) {
					t.Fatalf("bounds %v", got.Bounds())
				}
				// Inside, away from the edge blocks, the image is the same.
				want, err := jpegcodec.DecodeGrayScaled(in, 8, nil)
				if err != nil {
					t.Fatal(err)
				}
				have, err := jpegcodec.DecodeGrayScaled(out, 8, nil)
				if err != nil {
					t.Fatal(err)
				}
				tol := 0
				if !jpegcodec.Native() {
					tol = 32 // decoded and encoded again: generation loss on sharp edges
				}
				for y := range 24 {
					for x := range 40 {
						if d := int(have.GrayAt(x, y).Y) - int(want.GrayAt(x, y).Y); d < -tol || d > tol {
							t.Fatalf("pixel (%d,%d) %d, was %d", x, y, have.GrayAt(x, y).Y, want.GrayAt(x, y).Y)
						}
					}
				}
				// Declared 64×48 again, the padding repeats the nearest
				// visible pixel (or, in a padding block, its neighbour's
				// mean), not the checkerboard.
				revealed := bytes.Clone(out)
				sof := bytes.Index(revealed, []byte{0xFF, 0xC0})
				if sof < 0 {
					sof = bytes.Index(revealed, []byte{0xFF, 0xC1})
				}
				binary.BigEndian.PutUint16(revealed[sof+5:], 48)
				binary.BigEndian.PutUint16(revealed[sof+7:], 64)
				full, err := jpeg.Decode(bytes.NewReader(revealed))
				if err != nil {
					t.Fatal(err)
				}
				fg := jpegcodec.Gray(full)
				for y := range 48 {
					for x := range 64 {
						if x < tc.vw && y < tc.vh {
							continue
						}
						edge := int(fg.GrayAt(min(x, tc.vw-1), min(y, tc.vh-1)).Y)
						if d := int(fg.GrayAt(x, y).Y) - edge; d < -16 || d > 16 {
							t.Fatalf("hidden pixel (%d,%d) is %d, the edge %d", x, y, fg.GrayAt(x, y).Y, edge)
						}
					}
				}
			})
		}
	})
}

func TestCanonicalCorrupt(t *testing.T) {
	data := encodeGo(t, testImages()["grey"])
	backends(t, func(t *testing.T) {
		for name, d := range map[string][]byte{"truncated": data[:len(data)/2], "empty": {}, "not jpeg": []byte("GIF89a")} {
			if err := jpegcodec.Canonical(io.Discard, d, 90); !errors.Is(err, jpegcodec.ErrCorrupt) {
				t.Errorf("%s: %v, want ErrCorrupt", name, err)
			}
		}
	})
}

// pageLike draws w×h of dark strokes on light, slightly noisy paper: the
// kind of block a scanned page has, where the inverse DCT has work to do.
func pageLike(w, h int, colour bool) image.Image {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := 235 + (x*7919+y*104729)%13
			if (y/9)%3 != 2 && ((x/3+y/4)%5 == 0 || (x*x+y)%29 < 3) {
				v = 20 + (x+y)%40
			}
			g.Pix[y*g.Stride+x] = uint8(v)
		}
	}
	if !colour {
		return g
	}
	c := image.NewRGBA(g.Rect)
	for i, v := range g.Pix {
		copy(c.Pix[4*i:], []byte{v, uint8(int(v) * 9 / 10), 255 - v/3, 255})
	}
	return c
}

// TestCanonicalGray: one reading of a JPEG gives the canonical stream
// Canonical writes and the luminance DecodeGrayScaled gives at every
// scale, byte for byte.
func TestCanonicalGray(t *testing.T) {
	inputs := map[string][]byte{}
	for _, colour := range []bool{false, true} {
		for _, size := range [][2]int{{301, 197}, {256, 128}, {17, 9}} {
			img := pageLike(size[0], size[1], colour)
			name := fmt.Sprintf("%dx%d colour=%v", size[0], size[1], colour)
			inputs[name+" image/jpeg"] = encodeGo(t, img)
			var b bytes.Buffer
			if err := jpegcodec.Encode(&b, img, 85); err != nil {
				t.Fatal(err)
			}
			inputs[name+" "+jpegcodec.Backend()] = b.Bytes()
		}
	}
	if path, err := exec.LookPath("jpegtran"); err == nil {
		for _, name := range slices.Collect(maps.Keys(inputs)) {
			cmd := exec.Command(path, "-progressive")
			cmd.Stdin = bytes.NewReader(inputs[name])
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			inputs[name+" progressive"] = out
		}
	}
	backends(t, func(t *testing.T) {
		for name, data := range inputs {
			var want bytes.Buffer
			if err := jpegcodec.Canonical(&want, data, 90); err != nil {
				t.Fatal(err)
			}
			for num := 1; num <= 8; num++ {
				ref, err := jpegcodec.DecodeGrayScaled(data, num, nil)
				if err != nil {
					t.Fatal(err)
				}
				var have bytes.Buffer
				dst := make([]byte, 0, 320*200)
				g, err := jpegcodec.CanonicalGray(&have, data, num, dst, 90)
				if err != nil {
					t.Fatalf("%s at %d/8: %v", name, num, err)
				}
				if !bytes.Equal(have.Bytes(), want.Bytes()) {
					t.Errorf("%s at %d/8: canonical stream differs from Canonical's", name, num)
				}
				if g.Rect != ref.Rect {
					t.Fatalf("%s at %d/8: %v, DecodeGrayScaled %v", name, num, g.Rect, ref.Rect)
				}
				if jpegcodec.Native() && len(g.Pix) > 0 && &g.Pix[0] != &dst[:1][0] {
					t.Errorf("%s: dst not reused", name)
				}
				if !bytes.Equal(g.Pix, ref.Pix) {
					off := 0
					for i := range g.Pix {
						if g.Pix[i] != ref.Pix[i] {
							off++
						}
					}
					t.Errorf("%s at %d/8: %d of %d samples differ from DecodeGrayScaled's", name, num, off, len(g.Pix))
				}
			}
		}
	})
}
