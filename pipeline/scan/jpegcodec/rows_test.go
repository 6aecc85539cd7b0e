//go:build cgo && !purego

package jpegcodec_test

import (
	"bytes"
	"testing"

	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// TestDecodeGrayRows: the rows of the bands are DecodeGrayScaled's at full
// size, bit for bit, for every form of file (skipping whole iMCU rows and
// parts of them, bands across the last row, bands outside the image, none
// inside it); a file damaged anywhere, in a skipped row too, is refused as
// a whole decode refuses it.
func TestDecodeGrayRows(t *testing.T) {
	for name, in := range streamInputs(t) {
		full, err := jpegcodec.DecodeGrayScaled(in.data, 8, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		h := full.Rect.Dy()
		for _, bands := range [][][2]int{
			{{h / 3, h/3 + 5}},
			{{1, 2}, {h - 3, h + 10}},
			{{h/2 + 7, h}, {0, 9}, {h / 4, h/4 + 17}, {h/4 + 3, h / 2}},
			{{-5, 3}},
			{{h + 1, h + 9}},
			{{16, 32}, {48, 64}},
		} {
			dst := bytes.Repeat([]byte{0x5A}, full.Rect.Dx()*h)
			g, err := jpegcodec.DecodeGrayRows(in.data, bands, dst)
			if err != nil {
				t.Fatalf("%s %v: %v", name, bands, err)
			}
			if g.Rect != full.Rect {
				t.Fatalf("%s %v: %v, want %v", name, bands, g.Rect, full.Rect)
			}
			for _, b := range bands {
				for y := max(b[0], 0); y < min(b[1], h); y++ {
					if !bytes.Equal(g.Pix[y*g.Stride:][:g.Rect.Dx()], full.Pix[y*full.Stride:][:full.Rect.Dx()]) {
						t.Fatalf("%s %v: row %d differs from the whole decode's", name, bands, y)
					}
				}
			}
		}
		// Damage: the entropy-coded data cut short, and a byte of it
		// changed, early in the file (in rows the bands skip).
		sos := bytes.LastIndex(in.data, []byte{0xFF, 0xDA})
		for _, bad := range [][]byte{in.data[:sos+(len(in.data)-sos)/2], flipAt(in.data, sos+20)} {
			_, errFull := jpegcodec.DecodeGrayScaled(bad, 8, nil)
			_, errRows := jpegcodec.DecodeGrayRows(bad, [][2]int{{h - 2, h}}, nil)
			if (errFull == nil) != (errRows == nil) {
				t.Errorf("%s, damaged: whole decode %v, rows %v", name, errFull, errRows)
			}
		}
	}
}

func flipAt(data []byte, i int) []byte {
	out := bytes.Clone(data)
	if i < len(out)-2 {
		out[i] ^= 0x5A
	}
	return out
}

// BenchmarkDecodeGrayRows: the verifier's mask check of a masked A4 page
// at 300 ppi, the rows of two masks (a name and an employer, 90 rows each)
// decoded and the rest skipped, against the whole page decoded.
func BenchmarkDecodeGrayRows(b *testing.B) {
	var enc bytes.Buffer
	if err := jpegcodec.Encode(&enc, pageLike(2480, 3508, false), 85); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 2480*3508)
	b.Run("mask-rows", func(b *testing.B) {
		for b.Loop() {
			if _, err := jpegcodec.DecodeGrayRows(enc.Bytes(), [][2]int{{610, 700}, {2790, 2880}}, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			if _, err := jpegcodec.DecodeGrayScaled(enc.Bytes(), 8, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}
