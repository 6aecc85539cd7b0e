package verify

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"image"
	"image/jpeg"
	"slices"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

func TestInvertedCMYK(t *testing.T) {
	ints := func(v ...int) types.Array {
		var a types.Array
		for _, n := range v {
			a = append(a, types.Integer(n))
		}
		return a
	}
	for _, c := range []struct {
		o    types.Object
		want bool
	}{
		{ints(1, 0, 1, 0, 1, 0, 1, 0), true},
		{ints(0, 1, 0, 1, 0, 1, 0, 1), false},
		{ints(1, 0, 1, 0, 1, 0), false},
		{types.Name("Decode"), false},
	} {
		if got := invertedCMYK(c.o); got != c.want {
			t.Errorf("%v: %v, want %v", c.o, got, c.want)
		}
	}
}

func TestFlateForm(t *testing.T) {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 100))
	zw.Close()
	good := z.Bytes()
	for name, c := range map[string]struct {
		data []byte
		n    int64
		ok   bool
	}{
		"exact":         {good, 100, true},
		"short":         {good, 101, false},
		"long":          {good, 99, false},
		"trailing data": {append(bytes.Clone(good), "name"...), 100, false},
		"not zlib":      {[]byte("name"), 100, false},
		"cut short":     {good[:len(good)-6], 100, false},
	} {
		if err := flateForm(c.data, c.n); (err == nil) != c.ok {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// paddedJPEG encodes with image/jpeg a 64×48 colour image, flat where
// visible and a checkerboard from column vw on, and declares it vw wide:
// with vw 49 the last MCU column's second luminance block column lies
// wholly outside the image and carries the checkerboard.
func paddedJPEG(t *testing.T, vw int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			v := uint8(200)
			if x >= vw {
				v = uint8((x + y) % 2 * 255)
			}
			copy(img.Pix[img.PixOffset(x, y):], []byte{v, v, v / 2, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	sof := bytes.Index(data, []byte{0xFF, 0xC0})
	binary.BigEndian.PutUint16(data[sof+7:], uint16(vw))
	return data
}

// TestJPEGPaddingBlocks: the verifier refuses a JPEG whose padding blocks
// carry anything but what libjpeg writes there, or that has data between
// its last block and its end, and accepts what blindpack's codec writes
// with either backend.
func TestJPEGPaddingBlocks(t *testing.T) {
	defer jpegcodec.SetPureGo(false)
	for _, pure := range []bool{false, true} {
		jpegcodec.SetPureGo(pure)
		t.Run(jpegcodec.Backend(), testJPEGPaddingBlocks)
	}
}

func testJPEGPaddingBlocks(t *testing.T) {
	check := func(data []byte, w, h int) []Problem {
		v := &verifier{seen: map[Problem]bool{}}
		v.jpegForm(data, w, h, 3, 1, "Im1")
		return v.problems
	}
	hidden := paddedJPEG(t, 49)
	if probs := check(hidden, 49, 48); len(probs) == 0 || !strings.Contains(probs[0].Where, "padding block") {
		t.Errorf("checkerboard in the padding blocks: %v", probs)
	}
	var canon bytes.Buffer
	if err := jpegcodec.Canonical(&canon, hidden, 90); err != nil {
		t.Fatal(err)
	}
	if probs := check(canon.Bytes(), 49, 48); len(probs) > 0 {
		t.Errorf("Canonical's rewrite refused: %v", probs)
	}
	img := image.NewRGBA(image.Rect(0, 0, 49, 45))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var enc bytes.Buffer
	if err := jpegcodec.Encode(&enc, img, 90); err != nil {
		t.Fatal(err)
	}
	if probs := check(enc.Bytes(), 49, 45); len(probs) > 0 {
		t.Errorf("Encode's output refused: %v", probs)
	}
	// A byte between the last block and the end of the image.
	out := canon.Bytes()
	extra := slices.Concat(out[:len(out)-2], []byte{0x5A}, out[len(out)-2:])
	if probs := check(extra, 49, 48); len(probs) == 0 || !strings.Contains(probs[0].Where, "after the last block") {
		t.Errorf("a byte after the last block: %v", probs)
	}
}
