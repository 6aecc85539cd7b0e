package scan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"

	"golang.org/x/image/webp"

	"github.com/blindpack/blindpack/pipeline/finding"
)

// A WebP file is a RIFF container: its chunks are walked here (sizes
// checked, animation refused, an EXIF orientation looked at), its size read
// from the bitstream header, and its pixels decoded by golang.org/x/image/webp
// (lossy VP8, lossless VP8L, VP8X with alpha). ICC, EXIF and XMP chunks are
// read past and never kept.
//
// Browsers disagree on whether a WebP's EXIF orientation turns the picture,
// so a WebP that asks for a turn (any EXIF orientation but 1) is refused as
// ambiguous: the applicant cannot have seen one page that all viewers show.

var errWebP = errors.New("malformed WebP")

// maxWebPChunks bounds the chunk walk; a still image has at most six.
const maxWebPChunks = 64

func openWebP(data []byte, lim Limits) (*Page, error) {
	corrupt := func(err error) error { return finding.Errorf(finding.CorruptFile, 1, "", err) }
	if len(data) < 20 {
		return nil, corrupt(fmt.Errorf("%w: truncated header", errWebP))
	}
	riff := int64(binary.LittleEndian.Uint32(data[4:]))
	if riff < 12 || riff+8 > int64(len(data)) {
		return nil, corrupt(fmt.Errorf("%w: RIFF size %d for %d bytes", errWebP, riff, len(data)))
	}
	body := data[12 : riff+8]
	lossy := false
	for n := 0; len(body) > 0; n++ {
		if n == maxWebPChunks || len(body) < 8 {
			return nil, corrupt(fmt.Errorf("%w: chunk %d", errWebP, n))
		}
		id, size := string(body[:4]), int64(binary.LittleEndian.Uint32(body[4:]))
		if size > int64(len(body))-8 {
			return nil, corrupt(fmt.Errorf("%w: chunk %q of %d bytes", errWebP, id, size))
		}
		chunk := body[8 : 8+size]
		switch id {
		case "ANIM", "ANMF":
			return nil, finding.Errorf(finding.UnsupportedImageEncoding, 1, "animated WebP", nil)
		case "VP8 ":
			lossy = true
		case "EXIF":
			tiff := chunk
			if bytes.HasPrefix(tiff, []byte("Exif\x00\x00")) {
				tiff = tiff[6:]
			}
			if o := exifOrientation(tiff); o.valid() && o != 1 {
				return nil, finding.Errorf(finding.AmbiguousOrientation, 1, fmt.Sprintf("WebP EXIF orientation %d", o), nil)
			}
		}
		body = body[min(int64(len(body)), 8+size+size&1):] // chunks are padded to even sizes
	}
	cfg, err := webp.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, corrupt(err)
	}
	if err := checkPixels(cfg.Width, cfg.Height, lim, 1); err != nil {
		return nil, err
	}
	p := newPixelPage(1, cfg.Width, cfg.Height, 1)
	p.Photographic = lossy
	p.decode = func() (img image.Image, err error) {
		defer func() {
			if r := recover(); r != nil {
				img, err = nil, corrupt(fmt.Errorf("webp decoder panic: %v", r))
			}
		}()
		img, err = webp.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, corrupt(err)
		}
		switch m := img.(type) {
		case *image.YCbCr:
			fullRange(m)
		case *image.NYCbCrA:
			fullRange(&m.YCbCr)
		}
		return opaque(img), nil
	}
	return p, nil
}

// fullRange works around a golang.org/x/image/webp bug (v0.48.0): a lossy
// WebP's samples are BT.601 "studio swing" (luma 16–235, chroma 16–240),
// as libwebp decodes them, but x/image/webp hands them out as a Go
// *image.YCbCr, which is JFIF full range (0–255): white paper comes out at
// 235 and black ink at 16, a grey veil over every page. The samples are
// stretched to full range here, in place, so that the conversions of
// image/color give what libwebp's dwebp gives.
func fullRange(m *image.YCbCr) {
	var luma, chroma [256]uint8
	for v := range 256 {
		luma[v] = uint8(min(255, max(0, (float64(v)-16)*255/219+0.5)))
		chroma[v] = uint8(min(255, max(0, (float64(v)-128)*255/224+128.5)))
	}
	for i, v := range m.Y {
		m.Y[i] = luma[v]
	}
	for i, v := range m.Cb {
		m.Cb[i] = chroma[v]
	}
	for i, v := range m.Cr {
		m.Cr[i] = chroma[v]
	}
}
