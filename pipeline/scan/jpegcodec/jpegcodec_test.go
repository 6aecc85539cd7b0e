package jpegcodec_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
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
			})
		}
	})
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
