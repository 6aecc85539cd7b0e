// Package rawpdf builds PDF files object by object for tests, in shapes no
// writer of blindpack produces: OCR text layers, form XObjects, odd image
// encodings, decompression bombs — the files applicants' tools make and
// attackers craft.
package rawpdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
)

// Builder accumulates objects; Bytes lays them out with a correct xref.
type Builder struct {
	objs []string // objs[i] is the body of object i+1
}

// Add adds an object body and returns its object number.
func (b *Builder) Add(body string) int {
	b.objs = append(b.objs, body)
	return len(b.objs)
}

// Stream adds a stream object with the given dictionary entries (without
// << >> and /Length) and raw data.
func (b *Builder) Stream(dict string, data []byte) int {
	return b.Add(fmt.Sprintf("<<%s /Length %d>>\nstream\n%s\nendstream", dict, len(data), data))
}

// Flate adds data as a Flate-compressed stream.
func (b *Builder) Flate(dict string, data []byte) int {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(data)
	w.Close()
	return b.Stream(dict+" /Filter /FlateDecode", z.Bytes())
}

// Page is a page to lay out.
type Page struct {
	MediaBox  string // e.g. "0 0 595 842"
	Rotate    int
	Content   string
	Resources string // e.g. "<</XObject <</Im0 5 0 R>>>>"
	// Contents, when not zero, is an existing stream object used instead of
	// Content.
	Contents int
	// Extra holds more page-dictionary entries, e.g. "/Annots [7 0 R]".
	Extra string
}

// Bytes lays out the document with the given pages and catalog entries.
func (b *Builder) Bytes(pages []Page, catalogExtra string) []byte {
	pagesObj := b.Add("") // filled in below, once the kids are known
	var kids []string
	for _, p := range pages {
		c := p.Contents
		if c == 0 {
			c = b.Stream("", []byte(p.Content))
		}
		rot := ""
		if p.Rotate != 0 {
			rot = fmt.Sprintf(" /Rotate %d", p.Rotate)
		}
		res := p.Resources
		if res == "" {
			res = "<<>>"
		}
		kids = append(kids, fmt.Sprintf("%d 0 R", b.Add(fmt.Sprintf("<</Type /Page /Parent %d 0 R /MediaBox [%s]%s /Resources %s /Contents %d 0 R%s>>",
			pagesObj, p.MediaBox, rot, res, c, p.Extra))))
	}
	b.objs[pagesObj-1] = fmt.Sprintf("<</Type /Pages /Kids [%s] /Count %d>>", strings.Join(kids, " "), len(kids))
	root := b.Add(fmt.Sprintf("<</Type /Catalog /Pages %d 0 R%s>>", pagesObj, catalogExtra))
	var out bytes.Buffer
	out.WriteString("%PDF-1.7\n")
	offsets := make([]int, len(b.objs))
	for i, o := range b.objs {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f\r\n", len(b.objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n\r\n", off)
	}
	fmt.Fprintf(&out, "trailer\n<</Size %d /Root %d 0 R>>\nstartxref\n%d\n%%%%EOF\n", len(b.objs)+1, root, xref)
	return out.Bytes()
}

// ImagePage is a one-page PDF painting a grey JPEG over the whole A4 page,
// as a scanner writes it, with extra content appended to the page.
func ImagePage(jpg []byte, w, h int, extraContent string) []byte {
	var b Builder
	im := b.Stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode", w, h), jpg)
	font := b.Add("<</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>")
	return b.Bytes([]Page{{MediaBox: "0 0 595 842", Content: "q 595 0 0 842 0 0 cm /Im0 Do Q " + extraContent,
		Resources: fmt.Sprintf("<</XObject <</Im0 %d 0 R>> /Font <</F1 %d 0 R>>>>", im, font)}}, "")
}

// Bomb is a one-page PDF whose page image claims to be 1024×1024 grey
// (1 MiB) but inflates to size bytes of zeros from a few kilobytes.
func Bomb(size int) []byte {
	var b Builder
	im := b.Flate("/Type /XObject /Subtype /Image /Width 1024 /Height 1024 /ColorSpace /DeviceGray /BitsPerComponent 8", make([]byte, size))
	return b.Bytes([]Page{{MediaBox: "0 0 595 842", Content: "q 595 0 0 842 0 0 cm /Im0 Do Q",
		Resources: fmt.Sprintf("<</XObject <</Im0 %d 0 R>>>>", im)}}, "")
}
