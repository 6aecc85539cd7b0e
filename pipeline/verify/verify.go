package verify

import (
	"bytes"
	"fmt"
	"io"
	"sort"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

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

// Packet checks a finished packet and returns every problem found, in a
// stable order. No problems means the packet may be published.
func Packet(r io.ReaderAt, size int64, exp Expect) []Problem {
	data := make([]byte, size)
	if _, err := r.ReadAt(data, 0); err != nil && err != io.EOF {
		return []Problem{{Code: finding.UnverifiablePacket, Where: "read: " + err.Error()}}
	}
	v := &verifier{data: data, exp: exp, needles: identityNeedles(exp.Identity), seen: map[Problem]bool{}}
	v.run()
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
	data     []byte
	exp      Expect
	needles  needles
	ctx      *model.Context
	problems []Problem
	seen     map[Problem]bool
}

func (v *verifier) add(code finding.Code, page int, where string, a ...any) {
	p := Problem{Code: code, Page: page, Where: fmt.Sprintf(where, a...)}
	if !v.seen[p] {
		v.seen[p] = true
		v.problems = append(v.problems, p)
	}
}

func (v *verifier) run() {
	v.rawChecks()
	if err := v.parse(); err != nil {
		v.add(finding.UnverifiablePacket, 0, "%v", err)
		return
	}
	v.objects()
	v.catalog()
	v.pages()
}

// rawChecks look at the file as bytes: revisions, data after the end, and
// the identity anywhere at all, comments and dead space included.
func (v *verifier) rawChecks() {
	if n := bytes.Count(v.data, []byte("startxref")); n != 1 {
		v.add(finding.IncrementalUpdate, 0, "%d cross-reference sections", n)
	}
	if end := bytes.LastIndex(v.data, []byte("%%EOF")); end < 0 {
		v.add(finding.UnverifiablePacket, 0, "no end-of-file marker")
	} else if len(bytes.TrimSpace(v.data[end+5:])) > 0 {
		v.add(finding.TrailingData, 0, "%d bytes after %%%%EOF", len(v.data)-end-5)
	}
	if findAny(v.data, v.needles.long) {
		v.add(finding.IdentityLeak, 0, "file bytes")
	}
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
	ctx, err := api.ReadContext(bytes.NewReader(v.data), conf)
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
	} else if err := c.DecodeWithLimit(maxDecode); err != nil {
		v.add(finding.UnverifiablePacket, 0, "%s: %v", where, err)
		return
	} else {
		data = c.Content
	}
	binary := false
	if sub := sd.Dict.Subtype(); sub != nil && *sub == "Image" {
		binary = true
	}
	if sd.Dict["Length1"] != nil || sd.Dict["Length2"] != nil {
		binary = true // a font program
	}
	if binary {
		if findAny(data, v.needles.long) {
			v.add(finding.IdentityLeak, 0, "%s (decoded)", where)
		}
		return
	}
	v.text(data, where+" (decoded)")
}
