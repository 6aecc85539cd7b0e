package synth

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"image/color"
	"image/jpeg"
	"math"
	"strconv"
)

// ScanPDFOptions describe how the imaginary scanner laid out its PDF.
type ScanPDFOptions struct {
	// DPI is the resolution the JPEGs were scanned at; 0 means 150. The
	// MediaBox is the image's size at this resolution, unless A4 is set.
	DPI float64
	// A4 makes every MediaBox A4 (landscape for a landscape image) and
	// stretches the image over it, as scanners with a paper-size setting do.
	A4 bool
	// Rotate is the /Rotate of each page (0, 90, 180 or 270); missing
	// entries are 0. Scanners set it when a page was fed sideways, so the
	// pipeline must honour it: masks are in the coordinates of the page as
	// displayed, after rotation.
	Rotate []int
}

// ScanProducer is the /Producer of every PDF ScanPDF writes. It names no
// person, so a leak check over the packet's metadata has nothing to find in
// it.
const ScanProducer = "SynthScan 1.0"

// ScanPDF writes a minimal PDF the way a document scanner does: one page per
// JPEG, each page drawing its image over the whole MediaBox with the content
// `q W 0 0 H 0 0 cm /Im0 Do Q`, the JPEG embedded unchanged as a DCTDecode
// image. It exists for fixtures only: the pipeline must cope with real
// scanner PDFs, and this is the simplest honest one.
func ScanPDF(pages [][]byte, opts ScanPDFOptions) ([]byte, error) {
	if len(pages) == 0 {
		return nil, errors.New("synth: scan pdf: no pages")
	}
	if len(opts.Rotate) > len(pages) {
		return nil, fmt.Errorf("synth: scan pdf: %d rotations for %d pages", len(opts.Rotate), len(pages))
	}
	dpi := opts.DPI
	if dpi == 0 {
		dpi = 150
	}
	if dpi < 0 {
		return nil, fmt.Errorf("synth: scan pdf: dpi %g", dpi)
	}
	type img struct {
		w, h  int
		space string
		rot   int
	}
	imgs := make([]img, len(pages))
	sum := sha256.New()
	for i, p := range pages {
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(p))
		if err != nil {
			return nil, fmt.Errorf("synth: scan pdf: page %d: %w", i+1, err)
		}
		var space string
		switch cfg.ColorModel {
		case color.GrayModel:
			space = "/DeviceGray"
		case color.YCbCrModel:
			space = "/DeviceRGB"
		default:
			return nil, fmt.Errorf("synth: scan pdf: page %d: only gray and YCbCr JPEGs", i+1)
		}
		rot := 0
		if i < len(opts.Rotate) {
			rot = opts.Rotate[i]
		}
		if rot != 0 && rot != 90 && rot != 180 && rot != 270 {
			return nil, fmt.Errorf("synth: scan pdf: page %d: rotate %d", i+1, rot)
		}
		imgs[i] = img{cfg.Width, cfg.Height, space, rot}
		sum.Write(p)
	}

	var b bytes.Buffer
	var offsets []int // of objects 1..n
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	stream := func(dict string, data []byte) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n<< %s/Length %d >>\nstream\n", len(offsets), dict, len(data))
		b.Write(data)
		b.WriteString("\nendstream\nendobj\n")
	}
	// The second line's bytes above 127 tell tools the file is binary.
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	var kids bytes.Buffer
	for i := range pages {
		if i > 0 {
			kids.WriteByte(' ')
		}
		fmt.Fprintf(&kids, "%d 0 R", 4+3*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids.String(), len(pages)))
	obj("<< /Producer (" + ScanProducer + ") >>")
	for i, im := range imgs {
		w, h := float64(im.w)*72/dpi, float64(im.h)*72/dpi
		if opts.A4 {
			w, h = a4W*72/25.4, a4H*72/25.4
			if im.w > im.h {
				w, h = h, w
			}
		}
		ws, hs := num(w), num(h)
		rot := ""
		if im.rot != 0 {
			rot = fmt.Sprintf(" /Rotate %d", im.rot)
		}
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s]%s /Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>",
			ws, hs, rot, 6+3*i, 5+3*i))
		stream("", []byte("q "+ws+" 0 0 "+hs+" 0 0 cm /Im0 Do Q"))
		stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent 8 /Filter /DCTDecode ",
			im.w, im.h, im.space), pages[i])
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	id := fmt.Sprintf("%x", sum.Sum(nil)[:16])
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n",
		len(offsets)+1, id, id, xref)
	return b.Bytes(), nil
}

// num formats a PDF number with at most two decimals.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}
