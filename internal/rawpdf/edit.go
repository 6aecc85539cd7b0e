package rawpdf

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Editor changes a PDF with a classic cross-reference table (as blindpack
// writes them) object by object and lays it out again as one revision, so
// that a test can inject exactly one thing into an otherwise good file.
type Editor struct {
	header  []byte
	objs    map[int][]byte // bodies, between "n 0 obj\n" and "\nendobj"
	root    int
	trailer string // extra trailer entries
}

var objHeader = regexp.MustCompile(`(?m)^(\d+) 0 obj\n`)

// Edit parses pdf for editing.
func Edit(pdf []byte) (*Editor, error) {
	e := &Editor{objs: map[int][]byte{}}
	first := objHeader.FindIndex(pdf)
	if first == nil {
		return nil, errors.New("rawpdf: no objects")
	}
	e.header = append([]byte(nil), pdf[:first[0]]...)
	for _, m := range objHeader.FindAllSubmatchIndex(pdf, -1) {
		n, _ := strconv.Atoi(string(pdf[m[2]:m[3]]))
		start := m[1]
		// A stream's data may hold "endobj"; find the end after "endstream".
		from := start
		if i := bytes.Index(pdf[start:], []byte("\nstream\n")); i >= 0 {
			if j := bytes.Index(pdf[start:], []byte("\nendobj")); j < 0 || i < j {
				k := bytes.Index(pdf[start+i:], []byte("\nendstream"))
				if k < 0 {
					return nil, fmt.Errorf("rawpdf: object %d: unterminated stream", n)
				}
				from = start + i + k
			}
		}
		end := bytes.Index(pdf[from:], []byte("\nendobj"))
		if end < 0 {
			return nil, fmt.Errorf("rawpdf: object %d has no endobj", n)
		}
		e.objs[n] = append([]byte(nil), pdf[start:from+end]...)
	}
	m := regexp.MustCompile(`/Root (\d+) 0 R`).FindSubmatch(pdf[bytes.LastIndex(pdf, []byte("trailer")):])
	if m == nil {
		return nil, errors.New("rawpdf: no /Root in the trailer")
	}
	e.root, _ = strconv.Atoi(string(m[1]))
	return e, nil
}

// Root is the catalog's object number.
func (e *Editor) Root() int { return e.root }

// Object returns an object's body.
func (e *Editor) Object(n int) []byte { return e.objs[n] }

// Set replaces an object's body.
func (e *Editor) Set(n int, body []byte) { e.objs[n] = body }

// Add adds an object and returns its number.
func (e *Editor) Add(body []byte) int {
	n := 1
	for k := range e.objs {
		n = max(n, k+1)
	}
	e.objs[n] = body
	return n
}

// AddStream adds an uncompressed stream.
func (e *Editor) AddStream(dict string, data []byte) int {
	return e.Add(StreamBody(dict, data))
}

// StreamBody is the body of an uncompressed stream object.
func StreamBody(dict string, data []byte) []byte {
	return append([]byte(fmt.Sprintf("<<%s /Length %d>>\nstream\n", dict, len(data))), append(data, "\nendstream"...)...)
}

// SetTrailer adds entries to the trailer, e.g. " /Info 40 0 R".
func (e *Editor) SetTrailer(extra string) { e.trailer = extra }

// Replace does a textual replacement in an object's body and fails when
// the old text is not there.
func (e *Editor) Replace(n int, old, new string) error {
	if !bytes.Contains(e.objs[n], []byte(old)) {
		return fmt.Errorf("rawpdf: object %d has no %q", n, old)
	}
	e.objs[n] = bytes.Replace(e.objs[n], []byte(old), []byte(new), 1)
	return nil
}

// Ref finds "/key N 0 R" in an object and returns N.
func (e *Editor) Ref(n int, key string) (int, error) {
	m := regexp.MustCompile(regexp.QuoteMeta(key) + ` (\d+) 0 R`).FindSubmatch(e.objs[n])
	if m == nil {
		return 0, fmt.Errorf("rawpdf: object %d has no %s reference", n, key)
	}
	return strconv.Atoi(string(m[1]))
}

// Pages lists the page objects in order.
func (e *Editor) Pages() ([]int, error) {
	pages, err := e.Ref(e.root, "/Pages")
	if err != nil {
		return nil, err
	}
	m := regexp.MustCompile(`/Kids \[([^\]]*)\]`).FindSubmatch(e.objs[pages])
	if m == nil {
		return nil, errors.New("rawpdf: no /Kids")
	}
	var out []int
	for _, f := range strings.Fields(string(m[1])) {
		if n, err := strconv.Atoi(f); err == nil && f != "0" {
			out = append(out, n)
		}
	}
	return out, nil
}

// Bytes lays the document out as one revision with a fresh xref table.
func (e *Editor) Bytes() []byte {
	nums := make([]int, 0, len(e.objs))
	for n := range e.objs {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	size := nums[len(nums)-1] + 1
	var b bytes.Buffer
	b.Write(e.header)
	offsets := make([]int, size)
	for _, n := range nums {
		offsets[n] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, e.objs[n])
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", size)
	for n := 1; n < size; n++ {
		if _, ok := e.objs[n]; ok {
			fmt.Fprintf(&b, "%010d 00000 n\r\n", offsets[n])
		} else {
			b.WriteString("0000000000 65535 f\r\n")
		}
	}
	fmt.Fprintf(&b, "trailer\n<</Size %d /Root %d 0 R%s>>\nstartxref\n%d\n%%%%EOF\n", size, e.root, e.trailer, xref)
	return b.Bytes()
}
