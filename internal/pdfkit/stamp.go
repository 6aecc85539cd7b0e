package pdfkit

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// ErrNotStampable is returned (wrapped) by Stamp for a source file that is
// not a single-revision PDF with a classic cross-reference table, as this
// package writes them.
var ErrNotStampable = errors.New("pdfkit: cannot stamp this file")

// Overlay is what Stamp draws over every page of a document.
type Overlay struct {
	// Fonts are the fonts Draw may set text in, and Alphas the opacities
	// it may use other than opaque. They are named before drawing, with
	// names no page of ours uses, because a page's resource names are one
	// namespace shared by its old and new content. Drawing with any other
	// font or opacity, or drawing an image, is an error.
	Fonts  []*Font
	Alphas []float64
	// Draw paints over page i (0-based), whose media box is width × height
	// points; the origin is the box's lower-left corner.
	Draw func(i int, width, height float64, c *Canvas)
	// FileID, when 16 bytes long, is the first element of the trailer's
	// /ID, the file's permanent identifier; by default it is, like the
	// second, a digest of the file's bytes.
	FileID []byte
}

// StampResult describes a stamped file.
type StampResult struct {
	Pages int
	Bytes int64
	// ID is the trailer's /ID, both elements in hex.
	ID [2]string
}

// stampPrefix starts every resource name Stamp adds to a page.
const stampPrefix = "BPStamp"

// Stamp copies the PDF in src (size bytes, written by this package) to w
// with o.Draw painted over every page, as one revision with a new
// cross-reference table: it is not an incremental update, so a reader sees
// no older revision and the packet verifier accepts the file.
//
// It is cheap: every object but the page dictionaries — images, fonts,
// content streams, bookmarks — is copied byte for byte, without decoding
// anything; each page gets one new content stream, drawn after its own
// content (which is wrapped in q … Q so that no state it leaves changes
// the stamp), and one subset font program is added for the whole file.
// The output depends only on the inputs, so stamping the same file the
// same way twice gives the same bytes.
func Stamp(w io.Writer, src io.ReaderAt, size int64, o Overlay) (StampResult, error) {
	if o.Draw == nil {
		return StampResult{}, errors.New("pdfkit: stamp: no Draw function")
	}
	s, err := readSource(src, size)
	if err != nil {
		return StampResult{}, err
	}
	pages, err := s.pageTree()
	if err != nil {
		return StampResult{}, err
	}
	isPage := map[int]bool{}
	for _, p := range pages {
		isPage[p.num] = true
	}

	ow := newObjWriter(w)
	ow.offsets = make([]int64, s.maxObj+1)
	for i := 1; i <= s.maxObj; i++ {
		ow.offsets[i] = -1
	}
	// Every object but the page dictionaries, as it is, in file order.
	for _, sp := range s.spans {
		if isPage[sp.num] {
			continue
		}
		ow.offsets[sp.num] = ow.n
		if err := ow.copyFrom(io.NewSectionReader(src, sp.start, sp.end-sp.start)); err != nil {
			return StampResult{}, err
		}
	}
	for i := 1; i <= s.maxObj; i++ {
		if ow.offsets[i] == -1 && !isPage[i] {
			ow.object(Ref(i), "null") // a free entry of the source stays empty
		}
	}

	d := &Doc{ow: ow, gstates: map[string]Ref{}}
	fontNames := map[*Font]string{}
	for i, f := range o.Fonts {
		if _, dup := fontNames[f]; !dup {
			fontNames[f] = fmt.Sprintf("%sF%d", stampPrefix, i)
			d.font(f) // numbered in the order given
		}
	}
	gsNames := map[string]Ref{}
	for i, a := range o.Alphas {
		gsNames[fmt.Sprintf("%sGS%d", stampPrefix, i)] = d.extGState(a)
	}
	// One shared stream saves the graphics state before a page's own
	// content; the stamp's stream restores it first.
	save := ow.reserve()
	ow.stream(save, "", []byte("q"))

	for i, p := range pages {
		c := d.NewCanvas()
		for f, name := range fontNames {
			c.fontID[f] = name
			c.fonts[name] = d.font(f).ref
		}
		for name, r := range gsNames {
			c.gs[name] = r
		}
		w, h := p.box[2]-p.box[0], p.box[3]-p.box[1]
		o.Draw(i, w, h, c)
		if len(c.xobj) > 0 || len(c.fontID) != len(fontNames) || len(c.gs) != len(gsNames) {
			return StampResult{}, errors.New("pdfkit: stamp: Draw used an image, or a font or opacity not declared in the Overlay")
		}
		var content bytes.Buffer
		content.WriteString("Q\n")
		if p.box[0] != 0 || p.box[1] != 0 {
			fmt.Fprintf(&content, "1 0 0 1 %s %s cm\n", Num(p.box[0]), Num(p.box[1]))
		}
		content.Write(c.buf.Bytes())
		cref := ow.reserve()
		ow.flateStream(cref, "", content.Bytes())
		body, err := s.stampedPage(p, c, save, cref)
		if err != nil {
			return StampResult{}, err
		}
		ow.object(Ref(p.num), body)
	}
	for _, f := range d.fonts {
		if err := f.write(ow); err != nil {
			return StampResult{}, err
		}
	}
	id, err := ow.finishStamped(Ref(s.root), s.info, o.FileID)
	if err != nil {
		return StampResult{}, err
	}
	return StampResult{Pages: len(pages), Bytes: ow.n, ID: id}, nil
}

// copyFrom writes everything r holds.
func (ow *objWriter) copyFrom(r io.Reader) error {
	buf := make([]byte, 64<<10)
	for ow.err == nil {
		n, err := r.Read(buf)
		ow.write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("pdfkit: stamp: read source: %w", err)
		}
	}
	return ow.err
}

// finishStamped writes the cross-reference table and a trailer that keeps
// the source's /Root and /Info; the /ID's first element is fileID when
// given.
func (ow *objWriter) finishStamped(root Ref, info int, fileID []byte) ([2]string, error) {
	for i, off := range ow.offsets[1:] {
		if off < 0 && ow.err == nil {
			ow.err = fmt.Errorf("pdfkit: object %d reserved but never written", i+1)
		}
	}
	if ow.err != nil {
		return [2]string{}, ow.err
	}
	sum := fmt.Sprintf("%x", ow.sum.Sum(nil)[:16])
	id := [2]string{sum, sum}
	if len(fileID) == 16 {
		id[0] = fmt.Sprintf("%x", fileID)
	}
	extra := ""
	if info > 0 {
		extra = " /Info " + Ref(info).String()
	}
	xref := ow.n
	var b bytes.Buffer
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", len(ow.offsets))
	for _, off := range ow.offsets[1:] {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", off)
	}
	fmt.Fprintf(&b, "trailer\n<</Size %d /Root %s%s /ID [<%s> <%s>]>>\nstartxref\n%d\n%%%%EOF\n",
		len(ow.offsets), root, extra, id[0], id[1], xref)
	ow.write(b.Bytes())
	return id, ow.err
}

// source is the structure of the file being stamped.
type source struct {
	r      io.ReaderAt
	size   int64
	spans  []span // in-use objects in file order
	byNum  map[int]span
	maxObj int
	root   int
	info   int
}

// span is where one object lies in the source: from "n 0 obj" to the
// next object (or the cross-reference table).
type span struct {
	num        int
	start, end int64
}

func notStampable(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrNotStampable, fmt.Sprintf(format, a...))
}

// maxXref bounds the cross-reference section read into memory: 20 bytes an
// object, so room for a few hundred thousand objects.
const maxXref = 8 << 20

// readSource reads the cross-reference table and trailer of a
// single-revision file.
func readSource(r io.ReaderAt, size int64) (*source, error) {
	tailLen := min(size, 1024)
	tail := make([]byte, tailLen)
	if _, err := r.ReadAt(tail, size-tailLen); err != nil && err != io.EOF {
		return nil, fmt.Errorf("pdfkit: stamp: read source: %w", err)
	}
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 || !bytes.Contains(tail[i:], []byte("%%EOF")) {
		return nil, notStampable("no startxref at the end")
	}
	f := strings.Fields(string(tail[i+len("startxref"):]))
	if len(f) < 1 {
		return nil, notStampable("no startxref offset")
	}
	xrefAt, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || xrefAt <= 0 || xrefAt >= size || size-xrefAt > maxXref {
		return nil, notStampable("bad startxref offset")
	}
	sec := make([]byte, size-xrefAt)
	if _, err := r.ReadAt(sec, xrefAt); err != nil && err != io.EOF {
		return nil, fmt.Errorf("pdfkit: stamp: read source: %w", err)
	}
	if !bytes.HasPrefix(sec, []byte("xref")) {
		return nil, notStampable("no classic cross-reference table (a cross-reference stream?)")
	}
	s := &source{r: r, size: size, byNum: map[int]span{}}
	p := 4
	line := func() string {
		for p < len(sec) && (sec[p] == '\r' || sec[p] == '\n' || sec[p] == ' ') {
			p++
		}
		start := p
		for p < len(sec) && sec[p] != '\r' && sec[p] != '\n' {
			p++
		}
		return string(sec[start:p])
	}
	offsets := map[int]int64{}
	for {
		save := p
		l := line()
		if strings.HasPrefix(l, "trailer") {
			p = save
			break
		}
		hdr := strings.Fields(l)
		if len(hdr) != 2 {
			return nil, notStampable("bad cross-reference subsection header")
		}
		first, err1 := strconv.Atoi(hdr[0])
		count, err2 := strconv.Atoi(hdr[1])
		if err1 != nil || err2 != nil || first < 0 || count < 0 || count > maxXref/20 {
			return nil, notStampable("bad cross-reference subsection header")
		}
		for k := 0; k < count; k++ {
			e := strings.Fields(line())
			if len(e) != 3 {
				return nil, notStampable("bad cross-reference entry")
			}
			n := first + k
			off, err1 := strconv.ParseInt(e[0], 10, 64)
			gen, err2 := strconv.Atoi(e[1])
			if err1 != nil || err2 != nil {
				return nil, notStampable("bad cross-reference entry")
			}
			switch {
			case e[2] == "f":
				continue
			case e[2] != "n" || gen != 0 || n == 0 || off <= 0 || off >= xrefAt:
				return nil, notStampable("cross-reference entry of object %d", n)
			}
			offsets[n] = off
			s.maxObj = max(s.maxObj, n)
		}
	}
	ti := bytes.Index(sec[p:], []byte("trailer"))
	if ti < 0 {
		return nil, notStampable("no trailer")
	}
	tr := sec[p+ti+len("trailer"):]
	if end := bytes.Index(tr, []byte("startxref")); end >= 0 {
		tr = tr[:end]
	}
	trailer, err := parseObject(tr)
	if err != nil || trailer.kind != 'd' {
		return nil, notStampable("trailer: %v", err)
	}
	for _, k := range []string{"Prev", "Encrypt", "XRefStm"} {
		if _, ok := trailer.get(k); ok {
			return nil, notStampable("trailer has /%s", k)
		}
	}
	root, ok := trailer.get("Root")
	if !ok || root.kind != 'r' {
		return nil, notStampable("trailer without /Root")
	}
	s.root = root.ref
	if info, ok := trailer.get("Info"); ok && info.kind == 'r' {
		s.info = info.ref
	}
	for n, off := range offsets {
		s.spans = append(s.spans, span{num: n, start: off})
	}
	slices.SortFunc(s.spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	for i := range s.spans {
		if i+1 < len(s.spans) {
			s.spans[i].end = s.spans[i+1].start
		} else {
			s.spans[i].end = xrefAt
		}
		if i > 0 && s.spans[i].start == s.spans[i-1].start {
			return nil, notStampable("objects %d and %d share an offset", s.spans[i-1].num, s.spans[i].num)
		}
		s.byNum[s.spans[i].num] = s.spans[i]
	}
	if _, ok := s.byNum[s.root]; !ok {
		return nil, notStampable("no catalog object")
	}
	return s, nil
}

// maxDictObject bounds a catalog, page-tree or page object read to be
// parsed; a page of ours is a few hundred bytes.
const maxDictObject = 1 << 20

// object reads and parses object n, which must not be a stream.
func (s *source) object(n int) (pobj, error) {
	sp, ok := s.byNum[n]
	if !ok {
		return pobj{}, notStampable("object %d is missing", n)
	}
	if sp.end-sp.start > maxDictObject {
		return pobj{}, notStampable("object %d is too large for a dictionary", n)
	}
	b := make([]byte, sp.end-sp.start)
	if _, err := s.r.ReadAt(b, sp.start); err != nil && err != io.EOF {
		return pobj{}, fmt.Errorf("pdfkit: stamp: read object %d: %w", n, err)
	}
	hdr := strconv.Itoa(n) + " 0 obj"
	if !bytes.HasPrefix(b, []byte(hdr)) {
		return pobj{}, notStampable("object %d is not where the table says", n)
	}
	b = b[len(hdr):]
	end := bytes.LastIndex(b, []byte("endobj"))
	if end < 0 {
		return pobj{}, notStampable("object %d has no endobj", n)
	}
	b = b[:end]
	if bytes.Contains(b, []byte("stream")) {
		return pobj{}, notStampable("object %d is a stream", n)
	}
	return parseObject(b)
}

// deref returns the object a reference points to, or o itself.
func (s *source) deref(o pobj) (pobj, error) {
	if o.kind != 'r' {
		return o, nil
	}
	return s.object(o.ref)
}

// srcPage is a leaf of the page tree.
type srcPage struct {
	num       int
	dict      pobj
	box       [4]float64
	resources pobj // the page's, or the inherited ones
}

// pageTree lists the pages in order, with their inherited media box and
// resources resolved.
func (s *source) pageTree() ([]srcPage, error) {
	cat, err := s.object(s.root)
	if err != nil {
		return nil, err
	}
	pr, ok := cat.get("Pages")
	if !ok || pr.kind != 'r' {
		return nil, notStampable("catalog without /Pages")
	}
	var pages []srcPage
	seen := map[int]bool{}
	var walk func(n int, box *[4]float64, res *pobj, depth int) error
	walk = func(n int, box *[4]float64, res *pobj, depth int) error {
		if seen[n] || depth > 32 {
			return notStampable("page tree loops or is too deep")
		}
		seen[n] = true
		node, err := s.object(n)
		if err != nil {
			return err
		}
		if node.kind != 'd' {
			return notStampable("page tree node %d is not a dictionary", n)
		}
		if mb, ok := node.get("MediaBox"); ok {
			mb, err := s.deref(mb)
			if err != nil {
				return err
			}
			var b [4]float64
			if mb.kind != 'a' || len(mb.vals) != 4 {
				return notStampable("page tree node %d: bad /MediaBox", n)
			}
			for i, v := range mb.vals {
				if b[i], ok = v.number(); !ok {
					return notStampable("page tree node %d: bad /MediaBox", n)
				}
			}
			box = &b
		}
		if r, ok := node.get("Resources"); ok {
			r, err := s.deref(r)
			if err != nil {
				return err
			}
			res = &r
		}
		typ, _ := node.get("Type")
		switch typ.name() {
		case "Pages":
			kids, ok := node.get("Kids")
			if !ok || kids.kind != 'a' {
				return notStampable("page tree node %d without /Kids", n)
			}
			for _, k := range kids.vals {
				if k.kind != 'r' {
					return notStampable("page tree node %d: a kid is not a reference", n)
				}
				if err := walk(k.ref, box, res, depth+1); err != nil {
					return err
				}
			}
			return nil
		case "Page":
			if box == nil {
				return notStampable("page %d has no /MediaBox", n)
			}
			if _, ok := node.get("Rotate"); ok {
				return notStampable("page %d is rotated", n)
			}
			p := srcPage{num: n, dict: node, box: *box, resources: dictObj()}
			if res != nil {
				p.resources = res.clone()
			}
			pages = append(pages, p)
			return nil
		}
		return notStampable("page tree node %d has /Type %q", n, typ.name())
	}
	if err := walk(pr.ref, nil, nil, 0); err != nil {
		return nil, err
	}
	if len(pages) == 0 {
		return nil, notStampable("no pages")
	}
	return pages, nil
}

// stampedPage returns the new body of a page: its dictionary with the
// stamp's resources added and its content followed by the stamp's stream.
func (s *source) stampedPage(p srcPage, c *Canvas, save, stamp Ref) (string, error) {
	if p.resources.kind != 'd' {
		return "", notStampable("page %d: /Resources is not a dictionary", p.num)
	}
	res := p.resources.clone()
	for _, group := range []struct {
		key string
		m   map[string]Ref
	}{{"Font", c.fonts}, {"ExtGState", c.gs}} {
		if len(group.m) == 0 {
			continue
		}
		sub := dictObj()
		if o, ok := res.get(group.key); ok {
			o, err := s.deref(o)
			if err != nil {
				return "", err
			}
			if o.kind != 'd' {
				return "", notStampable("page %d: /%s is not a dictionary", p.num, group.key)
			}
			sub = o.clone()
		}
		names := make([]string, 0, len(group.m))
		for n := range group.m {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			if _, taken := sub.get(n); taken {
				return "", notStampable("page %d already has a resource /%s (stamped before?)", p.num, n)
			}
			sub.set(n, refObj(group.m[n]))
		}
		res.set(group.key, sub)
	}
	page := p.dict.clone()
	page.set("Resources", res)
	contents := pobj{kind: 'a'}
	if o, ok := page.get("Contents"); ok {
		contents.vals = append(contents.vals, refObj(save))
		switch o.kind {
		case 'r':
			contents.vals = append(contents.vals, o)
		case 'a':
			contents.vals = append(contents.vals, o.vals...)
		default:
			return "", notStampable("page %d: bad /Contents", p.num)
		}
	}
	contents.vals = append(contents.vals, refObj(stamp))
	if len(contents.vals) == 1 {
		// A page without content of its own has no state to save: the
		// stamp's leading Q needs a q.
		contents.vals = []pobj{refObj(save), refObj(stamp)}
	}
	page.set("Contents", contents)
	return page.String(), nil
}
