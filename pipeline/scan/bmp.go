package scan

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"

	"golang.org/x/image/bmp"

	"github.com/blindpack/blindpack/pipeline/finding"
)

// A BMP is read by golang.org/x/image/bmp: uncompressed 8-bit palette, 24-
// and 32-bit pixels, bottom-up or top-down. Its size comes from the header
// before anything is decoded; a colour bitmap goes into the packet as JPEG,
// a grey one losslessly.

func openBMP(data []byte, lim Limits) (*Page, error) {
	cfg, err := bmp.DecodeConfig(bytes.NewReader(data))
	if errors.Is(err, bmp.ErrUnsupported) {
		return nil, finding.Errorf(finding.UnsupportedImageEncoding, 1, "BMP that is compressed or of 1, 4 or 16 bits", err)
	}
	if err != nil {
		return nil, finding.Errorf(finding.CorruptFile, 1, "", err)
	}
	if err := checkPixels(cfg.Width, cfg.Height, lim, 1); err != nil {
		return nil, err
	}
	p := newPixelPage(1, cfg.Width, cfg.Height, 1)
	_, paletted := cfg.ColorModel.(color.Palette)
	p.Photographic = !paletted
	p.decode = func() (img image.Image, err error) {
		defer func() {
			if r := recover(); r != nil {
				img, err = nil, finding.Errorf(finding.CorruptFile, 1, "", fmt.Errorf("bmp decoder panic: %v", r))
			}
		}()
		img, err = bmp.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, finding.Errorf(finding.CorruptFile, 1, "", err)
		}
		return opaque(img), nil
	}
	return p, nil
}
