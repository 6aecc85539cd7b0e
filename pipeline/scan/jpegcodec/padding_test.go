package jpegcodec

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"testing"
)

// segments returns a one-scan JPEG's DHT bodies, SOF and SOS bodies and
// entropy-coded data, as the packet verifier hands them to CheckPadding.
func segments(t *testing.T, jpg []byte) (dht [][]byte, frame, scan, data []byte) {
	t.Helper()
	for p := 2; p+4 <= len(jpg); {
		m, n := jpg[p+1], int(binary.BigEndian.Uint16(jpg[p+2:]))
		body := jpg[p+4 : p+2+n]
		p += 2 + n
		switch m {
		case 0xC4:
			dht = append(dht, body)
		case 0xC0:
			frame = body
		case 0xDA:
			return dht, frame, body, jpg[p : len(jpg)-2]
		}
	}
	t.Fatal("no scan")
	return
}

// TestPadLikeLibjpeg: image/jpeg's colour output, its padding blocks
// written again, decodes to the same visible pixels and passes
// CheckPadding, which the original, whose padding blocks hold the edge's
// pixels, does not.
func TestPadLikeLibjpeg(t *testing.T) {
	for _, size := range [][2]int{{49, 45}, {61, 33}, {17, 9}, {64, 48}, {40, 8}} {
		img := image.NewRGBA(image.Rect(0, 0, size[0], size[1]))
		for i := range img.Pix {
			img.Pix[i] = uint8(i*i/7 + i)
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
			t.Fatal(err)
		}
		orig := b.Bytes()
		fixed, err := padLikeLibjpeg(orig)
		if err != nil {
			t.Fatalf("%v: %v", size, err)
		}
		padded := (size[0]+7)/8%2 == 1 || (size[1]+7)/8%2 == 1
		if err := CheckPadding(segments(t, fixed)); err != nil {
			t.Errorf("%v: rewritten: %v", size, err)
		}
		if err := CheckPadding(segments(t, orig)); padded != (err != nil) {
			t.Errorf("%v: image/jpeg's own: %v, padding blocks %v", size, err, padded)
		}
		if !padded && !bytes.Equal(fixed, orig) {
			t.Errorf("%v: no padding blocks, yet rewritten", size)
		}
		a, err := jpeg.Decode(bytes.NewReader(orig))
		if err != nil {
			t.Fatal(err)
		}
		z, err := jpeg.Decode(bytes.NewReader(fixed))
		if err != nil {
			t.Fatalf("%v: rewritten: %v", size, err)
		}
		ay, zy := a.(*image.YCbCr), z.(*image.YCbCr)
		for y := range size[1] {
			for x := range size[0] {
				i, c := ay.YOffset(x, y), ay.COffset(x, y)
				if ay.Y[i] != zy.Y[i] || ay.Cb[c] != zy.Cb[c] || ay.Cr[c] != zy.Cr[c] {
					t.Fatalf("%v: visible sample (%d,%d) changed", size, x, y)
				}
			}
		}
	}
}
