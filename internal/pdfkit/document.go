package pdfkit

import (
	"fmt"
	"image"
	"io"
	"sort"
	"strings"

	"github.com/klauspost/compress/zlib"
)

// Doc is a PDF document being written to an io.Writer. Pages and images are
// written as they are added; fonts, the page tree and the outline when the
// document is closed. A Doc is not safe for concurrent use.
type Doc struct {
	ow       *objWriter
	pagesRef Ref
	pages    []Ref
	filled   []bool
	fonts    []*docFont
	gstates  map[string]Ref
	outline  []OutlineItem
	lang     string
	info     map[string]string
}

// New starts a document on w.
func New(w io.Writer) *Doc {
	ow := newObjWriter(w)
	return &Doc{ow: ow, pagesRef: ow.reserve(), gstates: map[string]Ref{}}
}

// Image is an image XObject already written to the document.
type Image struct {
	Ref           Ref
	Width, Height int
}

// ColorSpace of an image's samples.
type ColorSpace int

// Color spaces of image samples.
const (
	DeviceGray ColorSpace = 1
	DeviceRGB  ColorSpace = 3
	DeviceCMYK ColorSpace = 4
)

func (c ColorSpace) name() string {
	switch c {
	case DeviceGray:
		return "/DeviceGray"
	case DeviceCMYK:
		return "/DeviceCMYK"
	default:
		return "/DeviceRGB"
	}
}

// AddJPEG embeds JPEG data as it is (DCTDecode): no decoding, no quality
// loss. invertCMYK marks Adobe-style inverted CMYK data, which needs a
// /Decode array to display right.
func (d *Doc) AddJPEG(data []byte, width, height int, cs ColorSpace, invertCMYK bool) Image {
	ref := d.ow.reserve()
	dict := fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent 8 /Filter /DCTDecode",
		width, height, cs.name())
	if cs == DeviceCMYK && invertCMYK {
		dict += " /Decode [1 0 1 0 1 0 1 0]"
	}
	d.ow.stream(ref, dict, data)
	return Image{Ref: ref, Width: width, Height: height}
}

// AddImage embeds decoded pixels losslessly (FlateDecode). A *image.Gray is
// kept grey; anything else becomes 8-bit RGB.
func (d *Doc) AddImage(img image.Image) Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	var cs ColorSpace
	var raw []byte
	switch m := img.(type) {
	case *image.Gray:
		cs = DeviceGray
		if m.Stride == w {
			// Rows that follow each other (a rendered page): compressed
			// where they are.
			raw = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):][:w*h]
			break
		}
		raw = make([]byte, 0, w*h)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			i := m.PixOffset(b.Min.X, y)
			raw = append(raw, m.Pix[i:i+w]...)
		}
	default:
		cs = DeviceRGB
		raw = make([]byte, 0, 3*w*h)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				raw = append(raw, byte(r>>8), byte(g>>8), byte(bl>>8))
			}
		}
	}
	ref := d.ow.reserve()
	// Scans are megapixels of noise: the fastest level is 100× quicker than
	// the best and costs about a fifth more bytes, the right trade when
	// thousands of pages arrive at once.
	d.ow.stream(ref, fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent 8 /Filter /FlateDecode",
		w, h, cs.name()), deflate(raw, zlib.BestSpeed))
	return Image{Ref: ref, Width: w, Height: h}
}

// ReservePage keeps a place in the page order for a page written later with
// SetPage, such as a cover that lists what follows it. It returns the page's
// 0-based index.
func (d *Doc) ReservePage() int {
	d.pages = append(d.pages, d.ow.reserve())
	d.filled = append(d.filled, false)
	return len(d.pages) - 1
}

// AddPage appends a page of width × height points drawn by c and returns its
// 0-based index.
func (d *Doc) AddPage(width, height float64, c *Canvas) int {
	i := d.ReservePage()
	d.SetPage(i, width, height, c)
	return i
}

// SetPage writes the page reserved at index i.
func (d *Doc) SetPage(i int, width, height float64, c *Canvas) {
	if i < 0 || i >= len(d.pages) || d.filled[i] {
		if d.ow.err == nil {
			d.ow.err = fmt.Errorf("pdfkit: page %d is not reserved or already written", i)
		}
		return
	}
	d.filled[i] = true
	content := d.ow.reserve()
	d.ow.flateStream(content, "", c.buf.Bytes())
	d.ow.object(d.pages[i], fmt.Sprintf("<</Type /Page /Parent %s /MediaBox [0 0 %s %s] /Resources %s /Contents %s>>",
		d.pagesRef, Num(width), Num(height), c.resources(), content))
}

// NumPages is the number of pages added or reserved so far.
func (d *Doc) NumPages() int { return len(d.pages) }

// OutlineItem is a bookmark: a title pointing at a 0-based page index.
type OutlineItem struct {
	Title    string
	Page     int
	Children []OutlineItem
}

// SetOutline sets the document's bookmarks, written on Close.
func (d *Doc) SetOutline(items []OutlineItem) { d.outline = items }

// SetLang sets the document's natural language, e.g. "zh-CN".
func (d *Doc) SetLang(lang string) { d.lang = lang }

// SetInfo sets document information entries (e.g. Title). Review packets
// must not have any; result documents may.
func (d *Doc) SetInfo(info map[string]string) { d.info = info }

// Close writes fonts, the page tree, bookmarks, the catalog and the
// cross-reference table. The writer is not closed.
func (d *Doc) Close() error {
	for _, f := range d.fonts {
		if err := f.write(d.ow); err != nil {
			return err
		}
	}
	kids := make([]string, len(d.pages))
	for i, p := range d.pages {
		kids[i] = p.String()
	}
	d.ow.object(d.pagesRef, fmt.Sprintf("<</Type /Pages /Kids [%s] /Count %d>>", strings.Join(kids, " "), len(d.pages)))

	catalog := "/Type /Catalog /Pages " + d.pagesRef.String()
	if len(d.outline) > 0 {
		catalog += " /Outlines " + d.writeOutline().String() + " /PageMode /UseOutlines"
	}
	if d.lang != "" {
		catalog += " /Lang (" + d.lang + ")"
	}
	root := d.ow.reserve()
	d.ow.object(root, "<<"+catalog+">>")
	if len(d.info) > 0 {
		keys := make([]string, 0, len(d.info))
		for k := range d.info {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			b.WriteString(Name(k) + " " + TextString(d.info[k]) + " ")
		}
		info := d.ow.reserve()
		d.ow.object(info, "<<"+strings.TrimSpace(b.String())+">>")
		return d.ow.finishWithInfo(root, info)
	}
	return d.ow.finish(root)
}

// writeOutline writes the outline tree and returns the outline root.
func (d *Doc) writeOutline() Ref {
	root := d.ow.reserve()
	first, last, count := d.writeOutlineLevel(root, d.outline)
	d.ow.object(root, fmt.Sprintf("<</Type /Outlines /First %s /Last %s /Count %d>>", first, last, count))
	return root
}

func (d *Doc) writeOutlineLevel(parent Ref, items []OutlineItem) (first, last Ref, count int) {
	refs := make([]Ref, len(items))
	for i := range items {
		refs[i] = d.ow.reserve()
	}
	for i, it := range items {
		page := it.Page
		if page < 0 || page >= len(d.pages) {
			page = 0
		}
		var b strings.Builder
		fmt.Fprintf(&b, "<</Title %s /Parent %s /Dest [%s /Fit]", TextString(it.Title), parent, d.pages[page])
		if i > 0 {
			fmt.Fprintf(&b, " /Prev %s", refs[i-1])
		}
		if i+1 < len(items) {
			fmt.Fprintf(&b, " /Next %s", refs[i+1])
		}
		if len(it.Children) > 0 {
			f, l, n := d.writeOutlineLevel(refs[i], it.Children)
			fmt.Fprintf(&b, " /First %s /Last %s /Count %d", f, l, n)
			count += n
		}
		b.WriteString(">>")
		d.ow.object(refs[i], b.String())
	}
	return refs[0], refs[len(refs)-1], count + len(items)
}

// extGState returns the graphics state that sets fill and stroke opacity.
func (d *Doc) extGState(alpha float64) Ref {
	key := Num(alpha)
	if r, ok := d.gstates[key]; ok {
		return r
	}
	r := d.ow.reserve()
	d.ow.object(r, fmt.Sprintf("<</Type /ExtGState /ca %s /CA %s>>", key, key))
	d.gstates[key] = r
	return r
}

func (d *Doc) font(f *Font) *docFont {
	for _, df := range d.fonts {
		if df.f == f {
			return df
		}
	}
	df := &docFont{f: f, ref: d.ow.reserve(), used: map[uint16]rune{}}
	d.fonts = append(d.fonts, df)
	return df
}

// Err returns the first error met while writing, if any.
func (d *Doc) Err() error { return d.ow.err }

// Size is the number of bytes written so far.
func (d *Doc) Size() int64 { return d.ow.n }

// SHA256 is the SHA-256 of every byte written so far: after Close, of the
// whole file. The writer computes it anyway (the /ID is the digest of what
// precedes the trailer), so a caller that needs the file's digest need not
// read the file again.
func (d *Doc) SHA256() []byte { return d.ow.sum.Sum(nil) }
