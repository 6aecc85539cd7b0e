package scan

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"time"

	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// Kind is a file format, decided by content.
type Kind string

// The formats blindpack reads.
const (
	JPEG    Kind = "jpeg"
	PNG     Kind = "png"
	PDF     Kind = "pdf"
	TIFF    Kind = "tiff"
	HEIC    Kind = "heic"
	WebP    Kind = "webp"
	BMP     Kind = "bmp"
	Unknown Kind = ""
)

// Sniff decides a file's format from its first bytes. A PDF may have up to
// 1 KiB of junk before its header, as PDF readers allow.
func Sniff(data []byte) Kind {
	switch {
	case len(data) >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF:
		return JPEG
	case bytes.HasPrefix(data, pngSignature):
		return PNG
	case bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")):
		return PDF
	}
	return sniffImage(data) // the formats of image.go
}

// Limits bound what one uploaded file may cost. The zero value means the
// defaults, which fit A4 and A3 scans up to 600 ppi.
type Limits struct {
	// MaxFileBytes is the largest file accepted (default 50 MiB).
	MaxFileBytes int64
	// MaxPages is the most pages one file may have (default 300).
	MaxPages int
	// MaxPagePixels is the most pixels one page image may have
	// (default 80 million; A3 at 600 ppi is 70 million).
	MaxPagePixels int64
	// MaxDecodeBytes bounds how far a PDF's compressed streams may expand
	// while it is read (default 256 MiB), the defence against PDF bombs.
	MaxDecodeBytes int64
	// RenderPPI is the resolution a PDF page that is not one scanned image
	// is drawn at (default 200: sharp for 10.5-pt text, a quarter of the
	// pixels of 400); a page too large for MaxPagePixels or the renderer's
	// cap is drawn at less.
	RenderPPI float64
	// RenderTimeout is the deadline for drawing one such page (default
	// 30 s); a page that passes it gets render_failed.
	RenderTimeout time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = 50 << 20
	}
	if l.MaxPages <= 0 {
		l.MaxPages = 300
	}
	if l.MaxPagePixels <= 0 {
		l.MaxPagePixels = 80_000_000
	}
	if l.MaxDecodeBytes <= 0 {
		l.MaxDecodeBytes = 256 << 20
	}
	if l.RenderPPI <= 0 {
		l.RenderPPI = 200
	}
	if l.RenderTimeout <= 0 {
		l.RenderTimeout = 30 * time.Second
	}
	return l
}

// maxSide bounds either dimension; PDF and JPEG cannot exceed 65535 anyway.
const maxSide = 30000

// Encoding is how a page's image is stored.
type Encoding int

// Page image encodings.
const (
	// EncJPEG: Page.JPEG holds the JPEG, stripped of metadata.
	EncJPEG Encoding = iota + 1
	// EncPNG: Page.PNG holds PNG image data that PDF can read as it is.
	EncPNG
	// EncPixels: the image exists only as decoded pixels.
	EncPixels
)

// Page is one page of an uploaded file.
type Page struct {
	// Number is 1-based within the file.
	Number   int
	Encoding Encoding
	JPEG     []byte
	JPEGInfo JPEGInfo
	PNG      PNGInfo
	// Width and Height are the stored image's size in pixels.
	Width, Height int
	// Orientation turns the stored image into the displayed one.
	Orientation Orientation
	// Placement is where the displayed image lies on the displayed page,
	// as fractions [x0, y0, x1, y1] from the top left; [0 0 1 1] for a page
	// that is all image, which is every image file and most scans.
	Placement [4]float64
	// WidthPt and HeightPt are the displayed page's size in points.
	WidthPt, HeightPt float64

	// Photographic says that the page's pixels came from a lossy or
	// photographic source (HEIC, lossy WebP, JPEG-in-TIFF, a colour image
	// file): when they are re-encoded for the packet, JPEG suits them, and a
	// lossless copy would be many times larger.
	Photographic bool

	// Text is the page's text layer, one glyph per character in reading
	// order, on the displayed page; nil when the page has none (every image
	// file, most scans). The identity check searches it exactly, before any
	// pixels are made.
	Text []Glyph

	raw       []byte                      // the original image file, for decoding
	pixels    image.Image                 // decoded samples for EncPixels
	decode    func() (image.Image, error) // how a page of image.go's formats is decoded
	canonical *canonicalJPEG              // the rewrite MeasureRewritePage or MeasureMaskPage made, for CanonicalJPEG or MaskedJPEG
}

// ErrEngine is wrapped by the errors of a decoding or rendering engine that
// failed for reasons of its own (a sandboxed module that did not compile or
// start, the machine out of memory): not a finding, because the same file
// may well open on a retry or on another worker, and an applicant must not
// lose a return to it. Every other error of Open, Page and Decode is the
// file's.
var ErrEngine = errors.New("scan: decoding engine failed")

// Glyph is one character of a page's text layer and its box on the
// displayed page (after CropBox and /Rotate), as fractions [x0, y0, x1, y1]
// from the top left: the frame of mask.Rect, so a glyph and a mask compare
// directly. A space between words is a glyph too, with an empty box.
type Glyph struct {
	Char rune
	Box  [4]float64
}

// File is an opened upload.
type File struct {
	Kind   Kind
	limits Limits
	pages  int
	images []*Page // image files: one page each, a TIFF one per image
	pdf    *pdfFile
}

// Open checks an uploaded file and prepares to read its pages. Bad input
// returns a *finding.Error.
func Open(data []byte, lim Limits) (*File, error) {
	lim = lim.withDefaults()
	if len(data) == 0 {
		return nil, finding.Errorf(finding.EmptyFile, 0, "", nil)
	}
	if int64(len(data)) > lim.MaxFileBytes {
		return nil, finding.Errorf(finding.FileTooLarge, 0, fmt.Sprintf("%.1f MiB > %d MiB", float64(len(data))/(1<<20), lim.MaxFileBytes>>20), nil)
	}
	f := &File{Kind: Sniff(data), limits: lim}
	var err error
	var single *Page
	switch f.Kind {
	case JPEG:
		single, err = openJPEG(data, lim)
	case PNG:
		single, err = openPNG(data, lim)
	case PDF:
		f.pdf, err = openPDF(data, lim)
	case TIFF, HEIC, WebP, BMP:
		f.images, err = openImage(f.Kind, data, lim)
	default:
		return nil, finding.Errorf(finding.UnsupportedFormat, 0, "", nil)
	}
	if err != nil {
		return nil, err
	}
	if single != nil {
		f.images = []*Page{single}
	}
	if f.pdf != nil {
		f.pages = f.pdf.numPages
	} else {
		f.pages = len(f.images)
	}
	if f.pages > lim.MaxPages {
		return nil, finding.Errorf(finding.TooManyPages, 0, fmt.Sprintf("%d > %d", f.pages, lim.MaxPages), nil)
	}
	return f, nil
}

// NumPages is the number of pages in the file.
func (f *File) NumPages() int { return f.pages }

// TextNeed says how much of a rendered page's text layer Page reads. The
// zero value reads every character with its box.
type TextNeed struct {
	// Skip reads none: Page.Text stays nil (for a page nobody searches).
	Skip bool
	// Boxes, when not nil, is given the page's text (one rune a glyph)
	// and returns the ranges [start, end) of it whose glyphs need their
	// boxes; the others keep an empty box. Reading a box costs the
	// renderer a call per character, so a caller looking for a few words
	// (identity.Matcher.Ranges) asks for theirs only.
	Boxes func(text []rune) [][2]int
}

// SetTextNeed sets what Page reads of the text layer of the PDF pages it
// renders from now on (other pages have none, or none worth reading).
func (f *File) SetTextNeed(n TextNeed) {
	if f.pdf != nil {
		f.pdf.text = n
	}
}

// Page returns page n (1-based). Its pixels are not decoded yet.
func (f *File) Page(n int) (*Page, error) {
	if n < 1 || n > f.pages {
		return nil, fmt.Errorf("scan: page %d of %d", n, f.pages)
	}
	if f.pdf == nil {
		return f.images[n-1], nil
	}
	return f.pdf.page(n, f.limits)
}

func checkPixels(w, h int, lim Limits, page int) error {
	if w <= 0 || h <= 0 {
		return finding.Errorf(finding.CorruptFile, page, "", errors.New("image has no pixels"))
	}
	if w > maxSide || h > maxSide || int64(w)*int64(h) > lim.MaxPagePixels {
		return finding.Errorf(finding.ImageTooLarge, page, fmt.Sprintf("%d×%d", w, h), nil)
	}
	return nil
}

// jpegErr makes StripJPEG's refusal of a JPEG on page n a finding, the
// same for a JPEG file and one inside a PDF.
func jpegErr(err error, n int) error {
	var u unsupportedJPEGError
	var c tooComplexError
	switch {
	case errors.As(err, &u):
		return finding.Errorf(finding.UnsupportedImageEncoding, n, string(u), err)
	case errors.As(err, &c):
		return finding.Errorf(finding.ImageTooComplex, n, string(c), err)
	}
	return finding.Errorf(finding.CorruptFile, n, "", err)
}

func openJPEG(data []byte, lim Limits) (*Page, error) {
	stripped, info, err := StripJPEG(data)
	if err != nil {
		return nil, jpegErr(err, 1)
	}
	if err := checkPixels(info.Width, info.Height, lim, 1); err != nil {
		return nil, err
	}
	if info.OrientationConflict != "" {
		return nil, finding.Errorf(finding.AmbiguousOrientation, 1, info.OrientationConflict, nil)
	}
	p := &Page{Number: 1, Encoding: EncJPEG, JPEG: stripped, JPEGInfo: info, Width: info.Width, Height: info.Height,
		Orientation: info.Orientation, Placement: [4]float64{0, 0, 1, 1}, raw: stripped}
	p.WidthPt, p.HeightPt = fitA4(p.displayedSize())
	return p, nil
}

func openPNG(data []byte, lim Limits) (*Page, error) {
	info, err := ParsePNG(data)
	var c tooComplexError
	if errors.As(err, &c) {
		return nil, finding.Errorf(finding.ImageTooComplex, 1, string(c), err)
	} else if err != nil {
		return nil, finding.Errorf(finding.CorruptFile, 1, "", err)
	}
	if err := checkPixels(info.Width, info.Height, lim, 1); err != nil {
		return nil, err
	}
	p := &Page{Number: 1, Encoding: EncPixels, PNG: info, Width: info.Width, Height: info.Height,
		Orientation: 1, Placement: [4]float64{0, 0, 1, 1}, raw: data}
	if info.passThrough() {
		p.Encoding = EncPNG
	}
	p.WidthPt, p.HeightPt = fitA4(p.displayedSize())
	return p, nil
}

func (p *Page) displayedSize() (int, int) {
	if p.Orientation.Swapped() {
		return p.Height, p.Width
	}
	return p.Width, p.Height
}

// A4 in points.
const (
	a4Short = 595.276
	a4Long  = 841.89
)

// fitA4 sizes a page for an image file, which says nothing reliable about
// its physical size: the largest A4 page (portrait or landscape, as the
// image is) that keeps the image's proportions.
func fitA4(w, h int) (float64, float64) {
	short, long := a4Short, a4Long
	if w > h {
		short, long = long, short // landscape: width is the long side
	}
	ratio := float64(h) / float64(w)
	width, height := short, short*ratio
	if height > long {
		width, height = long/ratio, long
	}
	return width, height
}

// Decode returns the stored image's pixels: *image.Gray, *image.YCbCr,
// *image.CMYK, *image.RGBA or *image.NRGBA (a colour JPEG is *image.RGBA
// when libjpeg-turbo decodes it, *image.YCbCr when image/jpeg does; see
// package jpegcodec). The image is decoded on each
// call; callers keep it only as long as they need it.
func (p *Page) Decode() (image.Image, error) {
	var img image.Image
	var err error
	switch {
	case p.pixels != nil:
		return p.pixels, nil
	case p.decode != nil:
		img, err = p.decode()
		var fe *finding.Error
		if errors.As(err, &fe) {
			return nil, err
		}
	case p.Encoding == EncJPEG:
		img, err = jpegcodec.Decode(p.JPEG)
	default:
		img, err = png.Decode(bytes.NewReader(p.raw))
	}
	if err != nil {
		return nil, finding.Errorf(finding.CorruptFile, p.Number, "", err)
	}
	if b := img.Bounds(); b.Dx() != p.Width || b.Dy() != p.Height {
		return nil, finding.Errorf(finding.CorruptFile, p.Number, "", fmt.Errorf("decoded %v, header says %dx%d", b, p.Width, p.Height))
	}
	return img, nil
}
