package synth

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
)

// EncodeJPEG encodes img as a baseline JPEG, the way most scanners and
// phones deliver uploads; a gray image gives a one-component JPEG.
func EncodeJPEG(img image.Image, quality int) ([]byte, error) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("synth: encode jpeg: %w", err)
	}
	return b.Bytes(), nil
}

// EncodePNG encodes img as PNG with the best compression, since fixtures
// are committed; an *image.Gray gives an 8-bit gray PNG.
func EncodePNG(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	e := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := e.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("synth: encode png: %w", err)
	}
	return b.Bytes(), nil
}
