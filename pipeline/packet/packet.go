package packet

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"

	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/pipeline/mask"
	"github.com/blindpack/blindpack/pipeline/scan"
	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// Header is what the cover page says about the applicant: nothing that
// identifies them.
type Header struct {
	AnonCode string
	Campaign string
	// SeriesZH, SeriesEN, LevelZH, LevelEN name the series and level.
	SeriesZH, SeriesEN string
	LevelZH, LevelEN   string
}

// Options tune the packet. The zero value is usable but for Font.
type Options struct {
	// Font sets the cover, watermark and page labels.
	Font *pdfkit.Font
	// JPEGQuality is used to encode again the masked pages masked in
	// their pixels (default 90): JPEG pages whose masks cannot go into
	// their coefficients (scan.MeasureMaskPage), and photographic pages.
	JPEGQuality int
	// Watermark is the stamp over every page; default
	// "<campaign>年度职称评审专用 · <anon code>".
	Watermark string
}

// Entry is one material in the packet's index.
type Entry struct {
	// Material is the 0-based position in the submission.
	Material int
	Type     string
	TitleZH  string
	TitleEN  string
	// Pages pairs each source page (1-based) with its packet page (1-based,
	// the cover being page 1).
	Pages [][2]int
}

// Result describes a finished packet.
type Result struct {
	Pages int
	Index []Entry
	Bytes int64
	// SHA256 is the digest of the packet's bytes, as written.
	SHA256 []byte
}

// Builder writes a packet page by page.
type Builder struct {
	doc     *pdfkit.Doc
	hdr     Header
	opts    Options
	cover   int
	index   []Entry
	current *Entry
	// matPages is the page count of the current material, for page labels.
	matPages int
}

// ErrNoFont is returned when Options.Font is missing.
var ErrNoFont = errors.New("packet: no font")

// New starts a packet on w. Nothing of the applicant's identity is passed
// in, so nothing of it can be written.
func New(w io.Writer, hdr Header, opts Options) (*Builder, error) {
	if opts.Font == nil {
		return nil, ErrNoFont
	}
	if opts.JPEGQuality <= 0 || opts.JPEGQuality > 100 {
		opts.JPEGQuality = 90
	}
	if opts.Watermark == "" {
		opts.Watermark = fmt.Sprintf("%s年度职称评审专用 · %s", hdr.Campaign, hdr.AnonCode)
	}
	b := &Builder{doc: pdfkit.New(w), hdr: hdr, opts: opts}
	b.doc.SetLang("zh-CN")
	b.cover = b.doc.ReservePage()
	return b, nil
}

// JPEGQuality is the quality pages masked in their pixels are encoded
// at, and scan.CanonicalJPEG's for unmasked ones.
func (b *Builder) JPEGQuality() int { return b.opts.JPEGQuality }

// BeginMaterial starts the pages of a material with pages pages.
func (b *Builder) BeginMaterial(material int, typ, titleZH, titleEN string, pages int) {
	b.index = append(b.index, Entry{Material: material, Type: typ, TitleZH: titleZH, TitleEN: titleEN})
	b.current = &b.index[len(b.index)-1]
	b.matPages = pages
}

// AddPage adds one page of the current material. img is the page's decoded
// stored image, or nil when the page is a JPEG without masks, which goes in
// rewritten in canonical form (scan.CanonicalJPEG) without being decoded,
// or a JPEG measured by scan.MeasureMaskPage, which goes in as that
// rewrote it, its masks burned into its coefficients (scan.MaskedJPEG).
// Every other page is compressed again from its pixels: a PNG's own data
// never goes in as it is. masks are in displayed-page fractions. A page the
// codec refuses returns a *finding.Error.
func (b *Builder) AddPage(p *scan.Page, img image.Image, masks []mask.Rect) error {
	if b.current == nil {
		return errors.New("packet: AddPage before BeginMaterial")
	}
	var im pdfkit.Image
	var margin []mask.Rect // parts of masks that fall outside the image
	switch {
	case len(masks) == 0 && p.Encoding == scan.EncJPEG:
		// Never the upload's bytes: the JPEG is written again from its
		// coefficients, keeping only what a viewer shows.
		data, info, err := scan.CanonicalJPEG(p, b.opts.JPEGQuality)
		if err != nil {
			return err
		}
		im = b.doc.AddJPEG(data, p.Width, p.Height, colorSpace(info.Components), info.Adobe)
	default:
		rects := mask.StoredAll(p, masks)
		for _, m := range masks {
			if !inside(m, p.Placement) {
				margin = append(margin, m)
			}
		}
		// A JPEG page measured by scan.MeasureMaskPage has the masks
		// burned into its coefficients already.
		if data, info, ok, err := scan.MaskedJPEG(p, rects); ok {
			if err != nil {
				return err
			}
			im = b.doc.AddJPEG(data, p.Width, p.Height, colorSpace(info.Components), info.Adobe)
			break
		}
		if img == nil {
			return errors.New("packet: page needs its pixels")
		}
		burned := mask.Burn(img, rects)
		var err error
		if im, err = b.addPixels(p, burned); err != nil {
			return err
		}
	}

	c := b.doc.NewCanvas()
	c.DrawImage(im, placementMatrix(p))
	for _, m := range margin {
		x0, y0 := m[0]*p.WidthPt, (1-m[3])*p.HeightPt
		c.FillRect(x0, y0, (m[2]-m[0])*p.WidthPt, (m[3]-m[1])*p.HeightPt, pdfkit.Color{})
	}
	source := len(b.current.Pages) + 1
	b.stamp(c, p.WidthPt, p.HeightPt, fmt.Sprintf("%s · %s · 第%d/%d页", b.hdr.AnonCode, b.current.TitleZH, source, b.matPages))
	idx := b.doc.AddPage(p.WidthPt, p.HeightPt, c)
	b.current.Pages = append(b.current.Pages, [2]int{source, idx + 1})
	return b.doc.Err()
}

// addPixels embeds a masked page: JPEG again when it came as JPEG (masked
// scans stay scans, and a lossless copy would be several times larger),
// lossless when it came lossless. Pages decoded from a photographic source
// (HEIC, lossy WebP, JPEG-in-TIFF, colour TIFF or BMP; scan.Page's
// Photographic) go in as JPEG too: a 12-Mpx HEIC as Flate would be about
// 30 MB; grey and bilevel scans (CCITT, LZW grey) stay lossless.
func (b *Builder) addPixels(p *scan.Page, img image.Image) (pdfkit.Image, error) {
	if p.Encoding != scan.EncJPEG && !p.Photographic {
		return b.doc.AddImage(img), nil
	}
	if _, ok := img.(*image.CMYK); ok {
		img = mask.Normalize(toRGBA(img))
	}
	var buf bytes.Buffer
	if err := jpegcodec.Encode(&buf, img, b.opts.JPEGQuality); err != nil {
		return pdfkit.Image{}, fmt.Errorf("packet: encode page: %w", err)
	}
	cs := pdfkit.DeviceRGB
	if _, ok := img.(*image.Gray); ok {
		cs = pdfkit.DeviceGray
	}
	bd := img.Bounds()
	return b.doc.AddJPEG(buf.Bytes(), bd.Dx(), bd.Dy(), cs, false), nil
}

func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(x, y, img.At(x, y))
		}
	}
	return out
}

func colorSpace(components int) pdfkit.ColorSpace {
	switch components {
	case 1:
		return pdfkit.DeviceGray
	case 4:
		return pdfkit.DeviceCMYK
	}
	return pdfkit.DeviceRGB
}

func inside(m mask.Rect, pl [4]float64) bool {
	return m[0] >= pl[0] && m[1] >= pl[1] && m[2] <= pl[2] && m[3] <= pl[3]
}

// placementMatrix maps the image's unit square onto the page so that the
// stored image appears as the person saw it: at its placement, turned by
// its orientation.
func placementMatrix(p *scan.Page) pdfkit.Matrix {
	pl := p.Placement
	// Page points of a stored point (s, t): displayed fractions through the
	// orientation and placement, then PDF's upward y.
	pt := func(s, t float64) (float64, float64) {
		u, v := p.Orientation.ToDisplayed(s, t)
		x := (pl[0] + u*(pl[2]-pl[0])) * p.WidthPt
		y := (1 - (pl[1] + v*(pl[3]-pl[1]))) * p.HeightPt
		return x, y
	}
	// Image space (x, y) is stored (x, 1-y).
	x0, y0 := pt(0, 1)
	x1, y1 := pt(1, 1)
	x2, y2 := pt(0, 0)
	return pdfkit.Matrix{x1 - x0, y1 - y0, x2 - x0, y2 - y0, x0, y0}
}
