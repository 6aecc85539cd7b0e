package verify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"sort"
	"sync/atomic"
	"unicode/utf8"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/pipeline/finding"
)

// Expect is what the packet must be.
type Expect struct {
	Identity Identity
	// Masks lists, by packet page (1-based), the rectangles that must be
	// black: fractions [x0 y0 x1 y1] of the page as displayed, top left
	// origin. Nil skips the pixel check.
	Masks map[int][][4]float64
}

// Problem is one failed check. Where says in which part of the file — an
// object number, a page, "catalog /AcroForm" — and never quotes identity
// text.
type Problem struct {
	Code  finding.Code
	Page  int
	Where string
}

func (p Problem) String() string {
	if p.Page > 0 {
		return fmt.Sprintf("%s (page %d, %s)", p.Code, p.Page, p.Where)
	}
	return fmt.Sprintf("%s (%s)", p.Code, p.Where)
}

// maxDecode bounds one decoded stream; a packet's largest is an image.
const maxDecode = 512 << 20

// slot lets one packet at a time be verified in a process. The verifier's
// PDF model holds every stream of the packet — a 200-page packet of
// 300-ppi scans is 100–150 MB — while building a packet streams it page by
// page in a few tens of megabytes, and stamping a reviewer's copy decodes
// no image; two verifications at once would double a process's peak for a
// step that takes a few percent of the work. Packet is the only way in, so
// the workers' packets and the API's personal copies share it.
var slot = make(chan struct{}, 1)

// busy counts the verifications holding the slot (at most one), queued
// those waiting for it.
var busy, queued atomic.Int64

// Load reports how many packets this process is verifying now (0 or 1) and
// how many verifications wait for their turn: for metrics, and for the
// tests that hold the guard to its promise.
func Load() (running, waiting int) { return int(busy.Load()), int(queued.Load()) }

// Packet checks a finished packet and returns every problem found, in a
// stable order. No problems means the packet may be published. It waits
// for the process's one verification slot (see slot); the error is ctx's
// if ctx ends first.
//
// The file is read through r and never held whole: the byte-level checks
// stream it, and pdfcpu reads it through a section reader, so that a
// 200-page packet costs one copy of its streams (pdfcpu's), not two.
func Packet(ctx context.Context, r io.ReaderAt, size int64, exp Expect) ([]Problem, error) {
	queued.Add(1)
	select {
	case slot <- struct{}{}:
		queued.Add(-1)
	case <-ctx.Done():
		queued.Add(-1)
		return nil, ctx.Err()
	}
	defer func() { <-slot }()
	busy.Add(1)
	defer busy.Add(-1)
	// A collection before and after: the model is read into a heap holding
	// only what is live, and once checked it is garbage at once, so that
	// the heap does not grow to twice a packet's size while it is read and
	// stay there for the next. Each costs a few milliseconds: little is
	// live in between packets.
	runtime.GC()
	defer runtime.GC()
	return check(r, size, exp), nil
}

// check is Packet without the slot.
func check(r io.ReaderAt, size int64, exp Expect) []Problem {
	v := &verifier{r: r, size: size, exp: exp, needles: identityNeedles(exp.Identity), seen: map[Problem]bool{},
		inflated: map[*byte]flateEnd{}, toUnicode: map[int]pdfkit.ToUnicode{}}
	if err := v.run(); err != nil {
		return []Problem{{Code: finding.UnverifiablePacket, Where: "read: " + err.Error()}}
	}
	sort.SliceStable(v.problems, func(i, j int) bool {
		a, b := v.problems[i], v.problems[j]
		if a.Page != b.Page {
			return a.Page < b.Page
		}
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		return a.Where < b.Where
	})
	return v.problems
}

type verifier struct {
	r        io.ReaderAt
	size     int64
	exp      Expect
	needles  needles
	ctx      *model.Context
	problems []Problem
	seen     map[Problem]bool
	// inflated holds how the plain Flate streams that stream inflated
	// ended, by the first byte of their raw data (which every copy of the
	// stream's dictionary shares): imageForm checks an image's form from it
	// instead of inflating the image a second time.
	inflated map[*byte]flateEnd
	// toUnicode holds the ToUnicode CMaps read so far, by object number:
	// the pages of a packet share their fonts, each read once.
	toUnicode map[int]pdfkit.ToUnicode
}

func (v *verifier) add(code finding.Code, page int, where string, a ...any) {
	p := Problem{Code: code, Page: page, Where: fmt.Sprintf(where, a...)}
	if !v.seen[p] {
		v.seen[p] = true
		v.problems = append(v.problems, p)
	}
}

// run verifies; an error means the file could not be read at all.
func (v *verifier) run() error {
	if err := v.rawChecks(); err != nil {
		return err
	}
	if err := v.parse(); err != nil {
		v.add(finding.UnverifiablePacket, 0, "%v", err)
		return nil
	}
	v.objects()
	v.catalog()
	v.pages()
	return nil
}

// rawChunk is how much of the file the byte-level checks read at a time.
const rawChunk = 1 << 20

// scanFile calls f on the file in windows of rawChunk bytes plus overlap
// bytes of the next, so that a match of up to overlap+1 bytes lies whole
// in some window; f must only count matches that start before fresh, the
// part of the window the next one does not repeat. base is the window's
// offset in the file.
func (v *verifier) scanFile(overlap int, f func(win []byte, base int64, fresh int)) error {
	buf := make([]byte, rawChunk+overlap)
	for base := int64(0); base < v.size; base += rawChunk {
		n := int(min(int64(len(buf)), v.size-base))
		if _, err := v.r.ReadAt(buf[:n], base); err != nil && err != io.EOF {
			return err
		}
		f(buf[:n], base, min(n, rawChunk))
	}
	return nil
}

// rawChecks look at the file as bytes: revisions, data after the end, and
// the identity anywhere at all, comments and dead space included.
func (v *verifier) rawChecks() error {
	xrefs, eof := 0, int64(-1)
	leak := false
	overlap := len("startxref") - 1
	for _, n := range v.needles.long {
		overlap = max(overlap, len(n)-1)
	}
	count := func(win []byte, fresh int, pat string, at func(int)) {
		for i := 0; ; {
			j := bytes.Index(win[i:], []byte(pat))
			if j < 0 || i+j >= fresh {
				return
			}
			at(i + j)
			i += j + 1
		}
	}
	err := v.scanFile(overlap, func(win []byte, base int64, fresh int) {
		count(win, fresh, "startxref", func(int) { xrefs++ })
		count(win, fresh, "%%EOF", func(i int) { eof = base + int64(i) })
		if !leak && v.needles.set.in(win) {
			leak = true
		}
	})
	if err != nil {
		return err
	}
	if xrefs != 1 {
		v.add(finding.IncrementalUpdate, 0, "%d cross-reference sections", xrefs)
	}
	if eof < 0 {
		v.add(finding.UnverifiablePacket, 0, "no end-of-file marker")
	} else if trailing, err := v.onlySpaceFrom(eof + 5); err != nil {
		return err
	} else if !trailing {
		v.add(finding.TrailingData, 0, "%d bytes after %%%%EOF", v.size-eof-5)
	}
	if leak {
		v.add(finding.IdentityLeak, 0, "file bytes")
	}
	return nil
}

// onlySpaceFrom reports whether the file holds nothing but white space
// (Unicode's, as bytes.TrimSpace sees it) from off to its end.
func (v *verifier) onlySpaceFrom(off int64) (bool, error) {
	buf := make([]byte, 0, 64<<10)
	for off < v.size || len(buf) > 0 {
		n := int(min(int64(cap(buf)-len(buf)), v.size-off))
		k := len(buf)
		buf = buf[:k+n]
		if _, err := v.r.ReadAt(buf[k:], off); err != nil && err != io.EOF {
			return false, err
		}
		off += int64(n)
		// Keep a rune cut at the window's end for the next one.
		end := len(buf)
		for cut := 1; cut < utf8.UTFMax && cut <= end; cut++ {
			if utf8.RuneStart(buf[end-cut]) {
				if !utf8.FullRune(buf[end-cut:]) && off < v.size {
					end -= cut
				}
				break
			}
		}
		if len(bytes.TrimSpace(buf[:end])) > 0 {
			return false, nil
		}
		buf = buf[:copy(buf, buf[end:])]
		if off >= v.size && len(buf) > 0 {
			return len(bytes.TrimSpace(buf)) == 0, nil
		}
	}
	return true, nil
}

func (v *verifier) parse() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("pdfcpu: %v", r)
		}
	}()
	api.DisableConfigDir()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	ctx, err := api.ReadContext(io.NewSectionReader(v.r, 0, v.size), conf)
	if err != nil {
		return err
	}
	if ctx.XRefTable.Encrypt != nil {
		return fmt.Errorf("encrypted")
	}
	if err := ctx.XRefTable.EnsurePageCount(); err != nil {
		return err
	}
	v.ctx = ctx
	return nil
}

// forbiddenKeys flag a dictionary, wherever it is, by what it may hold.
var forbiddenKeys = map[string]finding.Code{
	"Annots": finding.AnnotationPresent, "AcroForm": finding.FormPresent, "FT": finding.FormPresent,
	"EmbeddedFiles": finding.AttachmentPresent, "EF": finding.AttachmentPresent, "FileAttachment": finding.AttachmentPresent,
	"JS": finding.JavaScriptPresent, "JavaScript": finding.JavaScriptPresent, "AA": finding.JavaScriptPresent,
	"OpenAction": finding.JavaScriptPresent, "URI": finding.JavaScriptPresent, "Launch": finding.JavaScriptPresent,
	"OCProperties": finding.OptionalContentPresent, "OC": finding.OptionalContentPresent,
	"Metadata": finding.MetadataPresent, "PieceInfo": finding.MetadataPresent, "Thumb": finding.MetadataPresent,
	"Threads": finding.ForeignContent, "Collection": finding.AttachmentPresent,
}

// forbiddenTypes flag a dictionary by its /Type or /Subtype.
var forbiddenTypes = map[string]finding.Code{
	"Annot": finding.AnnotationPresent, "Widget": finding.FormPresent, "FreeText": finding.AnnotationPresent,
	"Filespec": finding.AttachmentPresent, "EmbeddedFile": finding.AttachmentPresent,
	"OCG": finding.OptionalContentPresent, "OCMD": finding.OptionalContentPresent,
	"Metadata": finding.MetadataPresent, "XML": finding.MetadataPresent, "Action": finding.JavaScriptPresent,
	"Sig": finding.ForeignContent, "PostScript": finding.ForeignContent,
}

// objects walks every object in the file, referenced or not: dictionaries
// by their keys, strings and names for the identity, streams decoded.
func (v *verifier) objects() {
	xt := v.ctx.XRefTable
	nums := make([]int, 0, len(xt.Table))
	for n := range xt.Table {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	for _, n := range nums {
		e := xt.Table[n]
		if e == nil || e.Free || e.Object == nil {
			continue
		}
		where := fmt.Sprintf("object %d", n)
		v.object(e.Object, where, 0)
		if sd, ok := e.Object.(types.StreamDict); ok {
			v.stream(&sd, where)
		}
	}
}

func (v *verifier) object(o types.Object, where string, depth int) {
	if depth > 32 {
		v.add(finding.ForeignContent, 0, "%s: nesting too deep", where)
		return
	}
	switch o := o.(type) {
	case types.StreamDict:
		v.dict(o.Dict, where, depth)
	case types.Dict:
		v.dict(o, where, depth)
	case types.Array:
		for _, e := range o {
			v.object(e, where, depth+1)
		}
	case types.StringLiteral:
		if b, err := types.Unescape(string(o)); err == nil {
			v.text(b, where)
		}
	case types.HexLiteral:
		if b, err := o.Bytes(); err == nil {
			v.text(b, where)
		}
	case types.Name:
		v.text([]byte(o), where)
	}
}

func (v *verifier) dict(d types.Dict, where string, depth int) {
	for k, val := range d {
		if code, bad := forbiddenKeys[k]; bad {
			v.add(code, 0, "%s /%s", where, k)
		}
		if k == "Type" || k == "Subtype" || k == "S" {
			if n, ok := val.(types.Name); ok {
				if code, bad := forbiddenTypes[string(n)]; bad {
					v.add(code, 0, "%s /%s /%s", where, k, n)
				}
				if k == "S" && (n == "JavaScript" || n == "Launch" || n == "URI" || n == "SubmitForm" || n == "ImportData") {
					v.add(finding.JavaScriptPresent, 0, "%s action /%s", where, n)
				}
			}
		}
		v.text([]byte(k), where)
		v.object(val, where, depth+1)
	}
}

// text checks a string, a name or text extracted from a page: any form of
// the identity, long or short.
func (v *verifier) text(b []byte, where string) {
	if len(b) > 0 && findAny(b, v.needles.short) {
		v.add(finding.IdentityLeak, 0, "%s", where)
	}
}

// stream decodes a stream and searches it. Images and font programs are
// searched for the long forms only: their bytes are not text, and a short
// pattern would match them by chance.
func (v *verifier) stream(sd *types.StreamDict, where string) {
	c := *sd
	c.Content = nil
	var data []byte
	if len(c.FilterPipeline) > 0 && c.FilterPipeline[len(c.FilterPipeline)-1].Name == "DCTDecode" {
		if len(c.FilterPipeline) > 1 {
			v.add(finding.ForeignContent, 0, "%s: filters before DCTDecode", where)
			return
		}
		data = c.Raw
	} else if plainFlate(&c) && len(c.Raw) > 0 {
		var end flateEnd
		var err error
		if data, end, err = inflate(c.Raw, maxDecode, sampleBytes(&c)); err != nil {
			v.add(finding.UnverifiablePacket, 0, "%s: %v", where, err)
			return
		}
		v.inflated[&sd.Raw[0]] = end
	} else if err := c.DecodeWithLimit(maxDecode); err != nil {
		v.add(finding.UnverifiablePacket, 0, "%s: %v", where, err)
		return
	} else {
		data = c.Content
	}
	binary := false
	if sub := sd.Dict.Subtype(); sub != nil && *sub == "Image" {
		binary = true
		if len(c.FilterPipeline) == 1 && c.FilterPipeline[0].Name == "DCTDecode" {
			// A JPEG's bytes stand in the file as they are, and rawChecks
			// has searched every byte of the file for the same forms:
			// searching them again here would only name the object, at a
			// cost on every page of every packet.
			return
		}
	}
	if sd.Dict["Length1"] != nil || sd.Dict["Length2"] != nil {
		binary = true // a font program
	}
	if binary {
		if v.needles.set.in(data) {
			v.add(finding.IdentityLeak, 0, "%s (decoded)", where)
		}
		return
	}
	v.text(data, where+" (decoded)")
}
