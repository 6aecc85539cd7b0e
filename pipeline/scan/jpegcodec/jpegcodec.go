package jpegcodec

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"slices"
	"sync/atomic"
)

// ErrCorrupt is wrapped by the errors of damaged or truncated JPEG data.
var ErrCorrupt = errors.New("jpegcodec: corrupt JPEG")

// pureGo forces the image/jpeg path in a cgo build.
var pureGo atomic.Bool

// SetPureGo makes a cgo build use image/jpeg (true) or libjpeg-turbo
// (false, the default) from now on. It exists so that benchmarks and
// tests can compare the two paths in one binary.
func SetPureGo(v bool) { pureGo.Store(v) }

// Backend names the codec in use: "libjpeg-turbo" or "image/jpeg".
func Backend() string {
	if haveTurbo && !pureGo.Load() {
		return "libjpeg-turbo"
	}
	return "image/jpeg"
}

func useTurbo() bool { return haveTurbo && !pureGo.Load() }

// Decode decodes a whole JPEG: *image.Gray for one component; with
// libjpeg-turbo *image.RGBA for three, and with image/jpeg *image.YCbCr
// (or *image.RGBA for Adobe RGB); *image.CMYK for four, always through
// image/jpeg, which knows the Adobe conventions the rest of blindpack
// relies on.
func Decode(data []byte) (image.Image, error) {
	if useTurbo() {
		img, err := turboDecode(data)
		if !errors.Is(err, errUnsupported) {
			return img, err
		}
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return img, nil
}

// Native reports whether libjpeg-turbo is in use: a cgo build, without
// SetPureGo(true). DecodeGrayScaled then reduces in the DCT domain, and
// package scan uses its C kernels too.
func Native() bool { return useTurbo() }

// DecodeGrayScaled decodes a JPEG's luminance at num/8 of its size (num
// 1–8; the result is ceil(width·num/8) × ceil(height·num/8)), reading all
// of the entropy-coded data. Without libjpeg-turbo, or for a file it
// cannot turn grey (CMYK), it decodes whole and returns the full-size
// luminance: callers check the size they got. The pixels go into dst
// when it has the capacity, so that a caller decoding page after page
// can reuse one buffer.
func DecodeGrayScaled(data []byte, num int, dst []byte) (*image.Gray, error) {
	num = min(8, max(1, num))
	if useTurbo() {
		g, err := turboDecodeGray(data, num, dst)
		if !errors.Is(err, errUnsupported) {
			return g, err
		}
	}
	img, err := Decode(data)
	if err != nil {
		return nil, err
	}
	return Gray(img), nil
}

// DecodeGrayRows is DecodeGrayScaled at full size for the rows of bands
// only ([y0, y1) each, in any order, clipped to the image): with
// libjpeg-turbo the other rows are skipped, not transformed, and hold
// whatever dst held. All of the entropy-coded data is still read, so a
// damaged file is refused as a whole decode refuses it. Without
// libjpeg-turbo, or for a file it cannot turn grey, every row is decoded.
func DecodeGrayRows(data []byte, bands [][2]int, dst []byte) (*image.Gray, error) {
	if useTurbo() {
		g, err := turboDecodeGray(data, 8, dst, bands...)
		if !errors.Is(err, errUnsupported) {
			return g, err
		}
	}
	return DecodeGrayScaled(data, 8, dst)
}

// mergeBands clips bands of rows to [0, h), sorts and merges them; an
// empty result is the last row alone, so that the data is still read to
// its end.
func mergeBands(bands [][2]int, h int) [][2]int {
	var out [][2]int
	for _, b := range bands {
		if b[0] = max(b[0], 0); b[1] > h {
			b[1] = h
		}
		if b[0] < b[1] {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		return [][2]int{{h - 1, h}}
	}
	slices.SortFunc(out, func(a, b [2]int) int { return a[0] - b[0] })
	merged := out[:1]
	for _, b := range out[1:] {
		if last := &merged[len(merged)-1]; b[0] <= last[1] {
			last[1] = max(last[1], b[1])
		} else {
			merged = append(merged, b)
		}
	}
	return merged
}

// Encode writes img as a baseline JPEG of the given quality (1–100),
// with no JFIF, Adobe or any other APPn segment: nothing but what decoding
// needs. *image.Gray gives one component, anything else YCbCr 4:2:0.
func Encode(w io.Writer, img image.Image, quality int) error {
	if useTurbo() {
		err := turboEncode(w, img, quality)
		if !errors.Is(err, errUnsupported) {
			return err
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return fmt.Errorf("jpegcodec: encode: %w", err)
	}
	// image/jpeg fills the padding blocks of a colour image with its edge
	// pixels; libjpeg's form is the one the packet verifier accepts.
	out, err := padLikeLibjpeg(buf.Bytes())
	if err == nil {
		out, err = dropUnusedQuant(out)
	}
	if err != nil {
		return fmt.Errorf("jpegcodec: encode: %w", err)
	}
	_, err = w.Write(out)
	return err
}

// Canonical rewrites a JPEG in blindpack's own form, keeping only what a
// decoder shows: no APPn segment but the Adobe marker some colour
// transforms need, no comment, no table the frame does not use, one
// sequential scan, nothing after the end of the image, and no data in the
// samples beyond the declared width and height.
//
// With libjpeg-turbo it is lossless in the DCT domain (as `jpegtran -copy
// none`, with the standard Huffman tables): every block's coefficients are kept, but for the
// blocks that straddle the image's right or bottom edge, which are decoded,
// have their invisible samples replaced by the last visible row and column,
// and are quantised again (their visible samples may move by a level or
// two); blocks wholly outside the image (padding of the last MCU) become
// DC-only. Without libjpeg-turbo the image is decoded and encoded again at
// quality, which loses a little and turns CMYK into YCbCr.
func Canonical(w io.Writer, data []byte, quality int) error {
	if useTurbo() {
		_, err := turboCanonical(w, data, rewriteStream)
		if !errors.Is(err, errUnsupported) {
			return err
		}
	}
	img, err := Decode(data)
	if err != nil {
		return err
	}
	return Encode(w, img, quality)
}

// CanonicalGray does what Canonical and DecodeGrayScaled do, reading the
// entropy-coded data once for both: with libjpeg-turbo the luminance at
// num/8 of the size is computed from the coefficients that the canonical
// stream is written from (the reduced inverse DCTs the scaled decode uses,
// in floating point: a sample may differ from DecodeGrayScaled's by a
// level). Without libjpeg-turbo, or for a file whose luminance is not a
// component of its own (RGB, CMYK), it calls the two in turn. The canonical
// stream is written to w only when the file decodes.
func CanonicalGray(w io.Writer, data []byte, num int, dst []byte, quality int) (*image.Gray, error) {
	num = min(8, max(1, num))
	if useTurbo() {
		g, _, err := turboCanonicalGray(w, data, num, dst, nil, rewriteStream)
		if !errors.Is(err, errUnsupported) {
			return g, err
		}
	}
	g, err := DecodeGrayScaled(data, num, dst)
	if err != nil {
		return nil, err
	}
	return g, Canonical(w, data, quality)
}

// ErrUnmaskable is CanonicalGrayMasked's answer for a file whose masks it
// cannot burn into the coefficients (no libjpeg-turbo; not grey or YCbCr;
// an unusual sampling): the caller decodes the page, burns the masks into
// its pixels and encodes it again.
var ErrUnmaskable = errors.New("jpegcodec: masks not burnable into this file's coefficients")

// CanonicalGrayMasked is CanonicalGray with masks burned in: rectangles in
// the image's pixels (the parts outside it are ignored). The luminance at
// num/8 is the page's as it came, before the masks. The stream keeps the
// coefficients of every block no mask touches (and copies their
// entropy-coded data where the file is coded canonically); a block a mask
// covers becomes flat black (neutral chroma), and one it covers in part is
// decoded, painted and quantised again with the file's own tables, so the
// page is not encoded a second time. Chroma samples shared with a masked
// pixel turn neutral, as mask.Burn turns them.
func CanonicalGrayMasked(w io.Writer, data []byte, num int, dst []byte, masks []image.Rectangle) (*image.Gray, error) {
	if !useTurbo() {
		return nil, ErrUnmaskable
	}
	g, _, err := turboCanonicalGray(w, data, min(8, max(1, num)), dst, masks, rewriteStream)
	if errors.Is(err, errUnsupported) {
		return nil, ErrUnmaskable
	}
	return g, err
}

// rewritten says which way a rewrite with libjpeg-turbo went.
type rewritten struct {
	streamed bool
	copied   int // MCUs whose entropy-coded data was copied; -1: not the copying path
}

// errUnsupported sends a request libjpeg-turbo cannot serve to image/jpeg.
var errUnsupported = errors.New("jpegcodec: not for libjpeg-turbo")

// Gray returns img's luminance: the Y plane of a *image.YCbCr, the image
// itself for *image.Gray, the JFIF luma of anything else.
func Gray(img image.Image) *image.Gray {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.Gray:
		return m
	case *image.YCbCr:
		g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
		for y := range b.Dy() {
			copy(g.Pix[y*g.Stride:][:b.Dx()], m.Y[m.YOffset(b.Min.X, b.Min.Y+y):])
		}
		return g
	}
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			r, gg, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			g.Pix[y*g.Stride+x] = uint8((19595*r + 38470*gg + 7471*bb + 1<<23) >> 24)
		}
	}
	return g
}
