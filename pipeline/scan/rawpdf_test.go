package scan

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
)

// rawPDF builds test PDFs object by object, for shapes of file that no
// writer of ours produces: OCR layers, forms, bombs, odd image encodings.
type rawPDF struct {
	objs []string // 1-based: objs[i] is object i+1's body
}

func (r *rawPDF) add(body string) int {
	r.objs = append(r.objs, body)
	return len(r.objs)
}

// stream adds a stream object with dict entries and raw data.
func (r *rawPDF) stream(dict string, data []byte) int {
	return r.add(fmt.Sprintf("<<%s /Length %d>>\nstream\n%s\nendstream", dict, len(data), data))
}

func (r *rawPDF) flate(dict string, data []byte) int {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write(data)
	w.Close()
	return r.stream(dict+" /Filter /FlateDecode", b.Bytes())
}

// page adds a page with a content stream and resources; call bytes after.
type rawPage struct {
	mediaBox  string // "0 0 595 842"
	rotate    int
	content   string
	resources string // "<< /XObject << /Im0 5 0 R >> >>"
}

func (r *rawPDF) bytes(pages []rawPage) []byte {
	pagesObj := r.add("") // placeholder, filled below
	var kids []string
	for _, p := range pages {
		c := r.stream("", []byte(p.content))
		rot := ""
		if p.rotate != 0 {
			rot = fmt.Sprintf(" /Rotate %d", p.rotate)
		}
		kids = append(kids, fmt.Sprintf("%d 0 R", r.add(fmt.Sprintf("<</Type /Page /Parent %d 0 R /MediaBox [%s]%s /Resources %s /Contents %d 0 R>>",
			pagesObj, p.mediaBox, rot, p.resources, c))))
	}
	r.objs[pagesObj-1] = fmt.Sprintf("<</Type /Pages /Kids [%s] /Count %d>>", strings.Join(kids, " "), len(kids))
	root := r.add(fmt.Sprintf("<</Type /Catalog /Pages %d 0 R>>", pagesObj))
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offsets := make([]int, len(r.objs))
	for i, o := range r.objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", len(r.objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", off)
	}
	fmt.Fprintf(&b, "trailer\n<</Size %d /Root %d 0 R>>\nstartxref\n%d\n%%%%EOF\n", len(r.objs)+1, root, xref)
	return b.Bytes()
}
