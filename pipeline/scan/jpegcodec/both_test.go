//go:build cgo && !purego

package jpegcodec_test

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"testing"

	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// TestDecodeBoth: one reading of a grey JPEG gives the samples
// DecodeGrayScaled and Decode give, bit for bit, for every form cjpeg,
// jpegtran and ImageMagick write and the sample uploads (the others go
// through the two calls), and a damaged file fails as they fail.
func TestDecodeBoth(t *testing.T) {
	check := func(name string, data []byte, num int) {
		t.Helper()
		small, img, err := jpegcodec.DecodeBoth(data, num, nil)
		wantSmall, errS := jpegcodec.DecodeGrayScaled(data, num, nil)
		wantImg, errD := jpegcodec.Decode(data)
		if errS != nil || errD != nil {
			if err == nil || !errors.Is(err, jpegcodec.ErrCorrupt) {
				t.Fatalf("%s at %d/8: %v; apart: %v, %v", name, num, err, errS, errD)
			}
			return
		}
		if err != nil {
			t.Fatalf("%s at %d/8: %v", name, num, err)
		}
		if small.Rect != wantSmall.Rect || !bytes.Equal(small.Pix, wantSmall.Pix) {
			t.Fatalf("%s at %d/8: the reduced samples differ from DecodeGrayScaled's", name, num)
		}
		switch w := wantImg.(type) {
		case *image.Gray:
			g, ok := img.(*image.Gray)
			if !ok || g.Rect != w.Rect || !bytes.Equal(g.Pix, w.Pix) {
				t.Fatalf("%s at %d/8: the full-size samples differ from Decode's", name, num)
			}
		case *image.RGBA:
			g, ok := img.(*image.RGBA)
			if !ok || !bytes.Equal(g.Pix, w.Pix) {
				t.Fatalf("%s at %d/8: the colour image differs from Decode's", name, num)
			}
		}
	}
	for name, in := range streamInputs(t) {
		for _, num := range []int{1, 4, 8} {
			check(name, in.data, num)
		}
	}
	data := tool(t, pnm(61, 45, false), "cjpeg", "-quality", "80")
	sos := bytes.Index(data, []byte{0xFF, 0xDA})
	for n := sos; n < len(data); n += 11 {
		check(fmt.Sprintf("cut at %d", n), data[:n], 4)
	}
	for i := sos + 12; i < len(data)-2; i += 7 {
		d := bytes.Clone(data)
		d[i] ^= 0x10
		check(fmt.Sprintf("byte %d changed", i), d, 4)
	}
}

// BenchmarkDecodeBoth: a grey A4 page at 300 ppi measured (half size) and
// decoded whole for its masks, from one reading and by the two calls.
func BenchmarkDecodeBoth(b *testing.B) {
	var enc bytes.Buffer
	if err := jpegcodec.Encode(&enc, pageLike(2480, 3508, false), 85); err != nil {
		b.Fatal(err)
	}
	b.Run("one-reading", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := jpegcodec.DecodeBoth(enc.Bytes(), 4, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("two-calls", func(b *testing.B) {
		for b.Loop() {
			if _, err := jpegcodec.DecodeGrayScaled(enc.Bytes(), 4, nil); err != nil {
				b.Fatal(err)
			}
			if _, err := jpegcodec.Decode(enc.Bytes()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
