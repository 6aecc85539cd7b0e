package scan

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"sync"

	"github.com/blindpack/blindpack/pipeline/clarity"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// Measure computes the clarity measures of a decoded page image. It reads
// the luminance planes of *image.Gray and *image.YCbCr in place; other
// image types are converted first.
func Measure(img image.Image, p *Page) clarity.Measures {
	lum := clarity.Luminance(img)
	return clarity.Measure(lum, source(p, lum.Rect.Dx(), lum.Rect.Dy()))
}

// MeasurePage computes the clarity measures of a page, decoding only what
// they need. With libjpeg-turbo (see package jpegcodec) a JPEG page's
// luminance is decoded straight at the scale M/8 closest above the
// working resolution — half size for a 300-ppi scan — which reads all of
// the entropy-coded data, and so proves the file whole as a full decode
// does, for about two thirds of the cost, and leaves out the chroma of a
// colour scan altogether. Other pages, and every page without
// libjpeg-turbo, are decoded whole and measured by Measure. Bad data
// returns a *finding.Error.
func MeasurePage(p *Page) (clarity.Measures, error) {
	m, _, err := measurePage(p, measureOnly, 0, nil)
	return m, err
}

// MeasureDecodePage is MeasurePage and Decode, for a page that is to be
// masked in its pixels (one MeasureMaskPage could not take): a JPEG is
// measured from its reduced decode, then decoded whole.
func MeasureDecodePage(p *Page) (clarity.Measures, image.Image, error) {
	return measurePage(p, measureDecode, 0, nil)
}

// MeasureRewritePage is MeasurePage for a JPEG page that is to go into a
// packet without masks: with libjpeg-turbo the page's coefficients are
// read once, for the clarity measures (the same reduced luminance, computed
// from them) and for the page's canonical stream, which the page keeps for
// CanonicalJPEG. quality is CanonicalJPEG's. Other pages, and every page
// without libjpeg-turbo, are measured as MeasurePage does.
func MeasureRewritePage(p *Page, quality int) (clarity.Measures, error) {
	m, _, err := measurePage(p, measureRewrite, quality, nil)
	return m, err
}

// MeasureMaskPage is MeasurePage for a JPEG page that is to go into a
// packet with masks (rectangles of the stored image's pixels, as
// mask.Stored gives them) burned in: with libjpeg-turbo the page's
// coefficients are read once, for the clarity measures of the page as it
// came and for its canonical stream with the masks burned into the
// coefficients of the blocks they touch (jpegcodec.CanonicalGrayMasked),
// which the page keeps for MaskedJPEG. ok is false, with nothing measured,
// for a page whose masks cannot be burned in so (no libjpeg-turbo, a CMYK
// or RGB file, a page decoded its own way, a quantisation too coarse for a
// repainted block to stay black): MeasureDecodePage then, and the masks
// go into its pixels.
func MeasureMaskPage(p *Page, masks []image.Rectangle) (m clarity.Measures, ok bool, err error) {
	if p.Encoding != EncJPEG || p.pixels != nil || p.decode != nil || !jpegcodec.Native() {
		return clarity.Measures{}, false, nil
	}
	m, _, err = measurePage(p, measureMask, 0, masks)
	if errors.Is(err, jpegcodec.ErrUnmaskable) {
		return clarity.Measures{}, false, nil
	}
	return m, err == nil, err
}

// What measurePage does besides measuring.
type measureMode int

const (
	measureOnly    measureMode = iota
	measureRewrite             // the canonical stream, for CanonicalJPEG
	measureDecode              // the page decoded whole too, returned
	measureMask                // the canonical stream with masks burned in, for MaskedJPEG
)

// grayPool holds the buffers a JPEG page's luminance is decoded into at
// reduced size; pooled because a worker measures page after page of the
// same size.
var grayPool = sync.Pool{New: func() any { return new([]uint8) }}

// rewriteRoom is the room a canonical rewrite's output starts with: the
// rewrite of a scan is within a few per cent of it either way, and a
// buffer that had to grow at the end would be allocated and cleared twice.
func rewriteRoom(n int) int { return n + n/16 + 4096 }

func measurePage(p *Page, mode measureMode, quality int, masks []image.Rectangle) (clarity.Measures, image.Image, error) {
	if p.Encoding != EncJPEG || p.pixels != nil || !jpegcodec.Native() {
		img, err := p.Decode()
		if err != nil {
			return clarity.Measures{}, nil, err
		}
		return Measure(img, p), img, nil
	}
	ppiX, ppiY := storedPPI(p, p.Width, p.Height)
	// The smallest M with M/8 of the resolution still at or above the
	// working one: the resampler then only ever shrinks, as it does from a
	// full decode.
	num := min(8, max(1, int(math.Ceil(8*clarity.WorkingPPI/math.Min(ppiX, ppiY)-1e-9))))
	buf := grayPool.Get().(*[]uint8)
	defer grayPool.Put(buf)
	var g *image.Gray
	var img image.Image
	var err error
	switch mode {
	case measureRewrite:
		var out bytes.Buffer
		out.Grow(rewriteRoom(len(p.JPEG)))
		if g, err = jpegcodec.CanonicalGray(&out, p.JPEG, num, *buf, quality); err == nil {
			p.canonical = &canonicalJPEG{quality: quality}
			p.canonical.data, p.canonical.info, p.canonical.err = canonicalForm(p, out.Bytes())
		}
	case measureMask:
		var out bytes.Buffer
		out.Grow(rewriteRoom(len(p.JPEG)))
		if g, err = jpegcodec.CanonicalGrayMasked(&out, p.JPEG, num, *buf, masks); errors.Is(err, jpegcodec.ErrUnmaskable) {
			return clarity.Measures{}, nil, err
		}
		if err == nil {
			p.canonical = &canonicalJPEG{masks: slices.Clone(masks)}
			p.canonical.data, p.canonical.info, p.canonical.err = canonicalForm(p, out.Bytes())
		}
	default:
		g, err = jpegcodec.DecodeGrayScaled(p.JPEG, num, *buf)
	}
	if err != nil {
		return clarity.Measures{}, nil, finding.Errorf(finding.CorruptFile, p.Number, "", err)
	}
	w, h := g.Rect.Dx(), g.Rect.Dy()
	scaled := w == (p.Width*num+7)/8 && h == (p.Height*num+7)/8
	if whole := w == p.Width && h == p.Height; !scaled && !whole { // whole: a CMYK file
		return clarity.Measures{}, nil, finding.Errorf(finding.CorruptFile, p.Number, "", fmt.Errorf("decoded %dx%d at %d/8, header says %dx%d", w, h, num, p.Width, p.Height))
	}
	*buf = g.Pix[:0]
	m := clarity.Measure(g, source(p, p.Width, p.Height))
	if mode == measureDecode {
		if img, err = p.Decode(); err != nil {
			return clarity.Measures{}, nil, err
		}
	}
	return m, img, nil
}

// source describes page p, stored as an image of w × h pixels, to the
// clarity measures.
func source(p *Page, w, h int) clarity.Source {
	ppiX, ppiY := storedPPI(p, w, h)
	var luma *[64]uint16
	if t := p.JPEGInfo.LumaTable; t >= 0 && t <= 3 {
		luma = p.JPEGInfo.Quant[t]
	}
	return clarity.Source{Page: p.Number, Width: w, Height: h, PPIX: ppiX, PPIY: ppiY, LumaTable: luma, ToDisplayed: p.Orientation.ToDisplayed}
}

// storedPPI returns the resolution along the stored image's x and y axes.
// An image file has no reliable physical size: it is taken to be A4 (see
// fitA4).
func storedPPI(p *Page, w, h int) (float64, float64) {
	wPt, hPt := p.WidthPt, p.HeightPt
	if wPt <= 0 || hPt <= 0 {
		dw, dh := w, h
		if p.Orientation.Swapped() {
			dw, dh = h, w
		}
		wPt, hPt = fitA4(dw, dh)
	}
	// The displayed image spans the placement box of the displayed page.
	pl := p.Placement
	if pl[2] <= pl[0] || pl[3] <= pl[1] {
		pl = [4]float64{0, 0, 1, 1}
	}
	inW, inH := (pl[2]-pl[0])*wPt/72, (pl[3]-pl[1])*hPt/72
	if p.Orientation.Swapped() {
		inW, inH = inH, inW
	}
	return float64(w) / inW, float64(h) / inH
}
