package scan

import (
	"encoding/binary"
	"image"
	"image/color"
	"image/draw"

	"github.com/blindpack/blindpack/pipeline/finding"
)

// The image formats beyond JPEG and PNG — TIFF, HEIC, WebP and BMP — are
// read the same way: their headers are walked here, every size and count
// checked against the limits, and their pages are decoded to pixels only
// when asked (Page.Decode). Nothing of their metadata (EXIF, XMP, ICC
// profiles, thumbnails, TIFF tags) is kept: a page is its pixels.

// sniffImage recognises the formats of this file by their first bytes.
func sniffImage(data []byte) Kind {
	switch {
	case len(data) >= 8 && (string(data[:4]) == "II*\x00" || string(data[:4]) == "MM\x00*" ||
		string(data[:4]) == "II+\x00" || string(data[:4]) == "MM\x00+"):
		return TIFF
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return WebP
	case isHEIF(data):
		return HEIC
	case isBMP(data):
		return BMP
	}
	return Unknown
}

// isHEIF: an ISO base media file whose brands say it holds HEIF images.
// AVIF files are HEIF too, and are recognised so that they are refused for
// their encoding, which says more than "not a format we know".
func isHEIF(data []byte) bool {
	if len(data) < 16 || string(data[4:8]) != "ftyp" {
		return false
	}
	n := int(binary.BigEndian.Uint32(data))
	if n < 16 || n > len(data) || n > 4096 {
		return false
	}
	for i := 8; i+4 <= n; i += 4 {
		if i == 12 {
			continue // minor version
		}
		switch string(data[i : i+4]) {
		case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif", "avis", "mif2":
			return true
		}
	}
	return false
}

// isBMP: "BM" and a known DIB header size, so that text starting "BM" is
// not taken for a bitmap.
func isBMP(data []byte) bool {
	if len(data) < 26 || data[0] != 'B' || data[1] != 'M' {
		return false
	}
	switch binary.LittleEndian.Uint32(data[14:]) {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// openImage reads the headers of a TIFF, HEIC, WebP or BMP file into its
// pages, each checked against the limits before anything is decoded.
func openImage(kind Kind, data []byte, lim Limits) ([]*Page, error) {
	var pages []*Page
	var err error
	switch kind {
	case TIFF:
		pages, err = openTIFF(data, lim)
	case HEIC:
		var p *Page
		p, err = openHEIC(data, lim)
		pages = []*Page{p}
	case WebP:
		var p *Page
		p, err = openWebP(data, lim)
		pages = []*Page{p}
	case BMP:
		var p *Page
		p, err = openBMP(data, lim)
		pages = []*Page{p}
	default:
		return nil, finding.Errorf(finding.UnsupportedFormat, 0, "", nil)
	}
	if err != nil {
		return nil, err
	}
	return pages, nil
}

// newPixelPage is a page of an image file that exists only as pixels once
// decoded: sized as A4, placed on all of it.
func newPixelPage(n, w, h int, o Orientation) *Page {
	p := &Page{Number: n, Encoding: EncPixels, Width: w, Height: h, Orientation: o, Placement: [4]float64{0, 0, 1, 1}}
	p.WidthPt, p.HeightPt = fitA4(p.displayedSize())
	return p
}

// opaque returns img as one of the types the rest of the pipeline reads in
// place — *image.Gray, *image.YCbCr, *image.CMYK or an opaque *image.RGBA —
// laid on white paper where it is transparent, as a viewer shows it, and
// grey when it has no colour: a grey page then stays grey in the packet
// and is measured without a copy.
func opaque(img image.Image) image.Image {
	switch m := img.(type) {
	case *image.Gray, *image.YCbCr, *image.CMYK:
		return m
	case *image.Gray16:
		out := image.NewGray(m.Bounds())
		draw.Draw(out, out.Bounds(), m, m.Bounds().Min, draw.Src)
		return out
	case *image.Paletted:
		grey := true
		for _, c := range m.Palette {
			r, g, b, a := c.RGBA()
			if r != g || g != b || a != 0xffff {
				grey = false
				break
			}
		}
		if grey {
			out := image.NewGray(m.Bounds())
			var lut [256]uint8
			for i, c := range m.Palette {
				lut[i] = color.GrayModel.Convert(c).(color.Gray).Y
			}
			for y := range m.Rect.Dy() {
				src := m.Pix[y*m.Stride:][:m.Rect.Dx()]
				dst := out.Pix[y*out.Stride:][:m.Rect.Dx()]
				for x, v := range src {
					dst[x] = lut[v]
				}
			}
			return out
		}
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Over)
	if g := greyOf(out); g != nil {
		return g
	}
	return out
}

// greyOf returns the grey image m shows when every pixel of it is grey,
// nil otherwise.
func greyOf(m *image.RGBA) *image.Gray {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	for y := range h {
		row := m.Pix[y*m.Stride:][:4*w]
		for x := 0; x < len(row); x += 4 {
			if row[x] != row[x+1] || row[x+1] != row[x+2] {
				return nil
			}
		}
	}
	g := image.NewGray(m.Rect)
	for y := range h {
		row := m.Pix[y*m.Stride:][:4*w]
		dst := g.Pix[y*g.Stride:][:w]
		for x := range dst {
			dst[x] = row[4*x]
		}
	}
	return g
}

// imageErr maps a decoder's complaint to a finding: damaged data is
// corrupt_file, a valid feature we do not read is unsupported.
func imageErr(page int, err error, unsupported bool, what string) error {
	if unsupported {
		return finding.Errorf(finding.UnsupportedImageEncoding, page, what, err)
	}
	return finding.Errorf(finding.CorruptFile, page, "", err)
}
