package verify_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/internal/rawpdf"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/verify"
)

// The mutation test takes a good packet, injects each kind of leak that
// real redaction tools have shipped, and requires the verifier — and the
// `blindpack verify` command — to name it. The injections are object-level
// edits of the finished file, laid out again as a single revision, so that
// each mutant differs from the good packet by exactly one thing.

// utf16Hex is a PDF text string, as our writer makes them.
var utf16Hex = pdfkit.TextString

// packetMap locates things in a packet for the edits.
type packetMap struct {
	pages  []int
	masked int // packet page (1-based) of the first page with masks
}

func (pm packetMap) page(n int) int { return pm.pages[n-1] }

func (pm packetMap) image(t *testing.T, e *rawpdf.Editor, n int) int {
	t.Helper()
	im, err := e.Ref(pm.page(n), "/Im0")
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// addAnnot puts an annotation on page n.
func addAnnot(t *testing.T, e *rawpdf.Editor, pm packetMap, n int, annot string) {
	a := e.Add([]byte(annot))
	must(t, e.Replace(pm.page(n), "/Type /Page", fmt.Sprintf("/Type /Page /Annots [%d 0 R]", a)))
}

// addContent appends a content stream to page n.
func addContent(t *testing.T, e *rawpdf.Editor, pm packetMap, n int, ops string) {
	c := e.AddStream("", []byte(ops))
	old, err := e.Ref(pm.page(n), "/Contents")
	must(t, err)
	must(t, e.Replace(pm.page(n), fmt.Sprintf("/Contents %d 0 R", old), fmt.Sprintf("/Contents [%d 0 R %d 0 R]", old, c)))
}

type mutation struct {
	name string
	edit func(t *testing.T, e *rawpdf.Editor, pm packetMap)
	// raw, when set, changes the laid-out bytes instead.
	raw  func(t *testing.T, pdf []byte) []byte
	want []finding.Code
}

func mutations(sub *pipeline.Submission, unmaskedJPEG []byte) []mutation {
	name, employer := sub.Identity.Name, sub.Identity.Employer
	return []mutation{
		{name: "Info Author", want: []finding.Code{finding.MetadataPresent, finding.IdentityLeak},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				info := e.Add([]byte("<</Author " + utf16Hex(name) + " /Producer (scanner)>>"))
				e.SetTrailer(fmt.Sprintf(" /Info %d 0 R", info))
			}},
		{name: "XMP metadata", want: []finding.Code{finding.MetadataPresent, finding.IdentityLeak},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				xmp := e.AddStream("/Type /Metadata /Subtype /XML", []byte(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>`+name+`</dc:creator></x:xmpmeta>`))
				must(t, e.Replace(e.Root(), "/Type /Catalog", fmt.Sprintf("/Type /Catalog /Metadata %d 0 R", xmp)))
			}},
		{name: "text annotation", want: []finding.Code{finding.AnnotationPresent, finding.IdentityLeak},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				addAnnot(t, e, pm, 2, "<</Type /Annot /Subtype /Text /Rect [10 10 30 30] /Contents "+utf16Hex("提交人："+name)+">>")
			}},
		{name: "FreeText note", want: []finding.Code{finding.AnnotationPresent, finding.IdentityLeak},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				addAnnot(t, e, pm, 3, "<</Type /Annot /Subtype /FreeText /Rect [10 10 300 30] /DA (/Helv 10 Tf 0 g) /Contents "+utf16Hex(employer)+">>")
			}},
		{name: "form field value", want: []finding.Code{finding.FormPresent, finding.IdentityLeak},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				f := e.Add([]byte("<</FT /Tx /T (applicant) /V " + utf16Hex(name) + ">>"))
				must(t, e.Replace(e.Root(), "/Type /Catalog", fmt.Sprintf("/Type /Catalog /AcroForm <</Fields [%d 0 R]>>", f)))
			}},
		{name: "file attachment", want: []finding.Code{finding.AttachmentPresent, finding.IdentityLeak},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				ef := e.AddStream("/Type /EmbeddedFile", []byte("申请人 "+name+"\n单位 "+employer))
				fs := e.Add([]byte(fmt.Sprintf("<</Type /Filespec /F (original.txt) /EF <</F %d 0 R>>>>", ef)))
				must(t, e.Replace(e.Root(), "/Type /Catalog", fmt.Sprintf("/Type /Catalog /Names <</EmbeddedFiles <</Names [(original.txt) %d 0 R]>>>>", fs)))
			}},
		{name: "document JavaScript", want: []finding.Code{finding.JavaScriptPresent},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				js := e.Add([]byte("<</S /JavaScript /JS (app.alert\\('hi'\\))>>"))
				must(t, e.Replace(e.Root(), "/Type /Catalog", fmt.Sprintf("/Type /Catalog /OpenAction %d 0 R", js)))
			}},
		{name: "bookmark titled with the name", want: []finding.Code{finding.IdentityLeak, finding.ForeignContent},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				ol, err := e.Ref(e.Root(), "/Outlines")
				must(t, err)
				first, err := e.Ref(ol, "/First")
				must(t, err)
				body := string(e.Object(first))
				i, j := strings.Index(body, "/Title <"), strings.Index(body, "> /Parent")
				e.Set(first, []byte(body[:i]+"/Title "+utf16Hex(name+"的材料")+body[j+1:]))
			}},
		{name: "optional content layer", want: []finding.Code{finding.OptionalContentPresent},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				ocg := e.Add([]byte("<</Type /OCG /Name (layer)>>"))
				must(t, e.Replace(e.Root(), "/Type /Catalog", fmt.Sprintf("/Type /Catalog /OCProperties <</OCGs [%d 0 R] /D <</ON [%d 0 R]>>>>", ocg, ocg)))
			}},
		{name: "unmasked image swapped in", want: []finding.Code{finding.MaskNotApplied},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				im := pm.image(t, e, pm.masked)
				dict := string(e.Object(im))
				dict = dict[2:strings.Index(dict, " /Length")]
				e.Set(im, rawpdf.StreamBody(dict, unmaskedJPEG))
			}},
		{name: "EXIF segment back in a JPEG", want: []finding.Code{finding.ImageMetadata},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				editJPEG(t, e, pm, func(jpg []byte) []byte {
					return insertSegment(jpg, 0xE1, []byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00"))
				})
			}},
		{name: "name after a JPEG's end", want: []finding.Code{finding.NoncanonicalImage, finding.IdentityLeak},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				editJPEG(t, e, pm, func(jpg []byte) []byte { return append(jpg, []byte("scanned for "+name)...) })
			}},
		{name: "name in an unused quantisation table", want: []finding.Code{finding.NoncanonicalImage, finding.IdentityLeak},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				table := append([]byte{0x03}, append([]byte(name), make([]byte, 64)...)[:64]...)
				editJPEG(t, e, pm, func(jpg []byte) []byte { return insertSegment(jpg, 0xDB, table) })
			}},
		{name: "unused Huffman table", want: []finding.Code{finding.NoncanonicalImage},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				// Class 1 (AC), id 3: two codes of one bit.
				table := append([]byte{0x13, 2}, append(make([]byte, 15), 0x01, 0x02)...)
				editJPEG(t, e, pm, func(jpg []byte) []byte { return insertSegment(jpg, 0xC4, table) })
			}},
		{name: "restart interval segment", want: []finding.Code{finding.NoncanonicalImage},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				editJPEG(t, e, pm, func(jpg []byte) []byte { return insertSegment(jpg, 0xDD, []byte{0, 0}) })
			}},
		{name: "second frame header", want: []finding.Code{finding.NoncanonicalImage},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				editJPEG(t, e, pm, func(jpg []byte) []byte {
					sof := bytes.Index(jpg, []byte{0xFF, 0xC0})
					n := int(binary.BigEndian.Uint16(jpg[sof+2:]))
					return slices.Concat(jpg[:sof+2+n], jpg[sof:])
				})
			}},
		{name: "rows below the image's declared height", want: []finding.Code{finding.NoncanonicalImage},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				// The stream's frame is taller than the image the page shows.
				im := pm.image(t, e, pm.masked)
				dict := string(e.Object(im))
				i := strings.Index(dict, "/Height ") + 8
				j := i + strings.IndexByte(dict[i:], ' ')
				var h int
				fmt.Sscan(dict[i:j], &h)
				must(t, e.Replace(im, dict[i-8:j], fmt.Sprintf("/Height %d", h-5)))
			}},
		{name: "pixels in a JPEG's padding blocks", want: []finding.Code{finding.NoncanonicalImage},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				// A colour JPEG (image/jpeg, 4:2:0) black where it shows and
				// a checkerboard in the luminance block column of its last
				// MCU column that lies wholly outside its declared width.
				im := pm.image(t, e, pm.masked)
				dict := string(e.Object(im))
				dict = dict[2:strings.Index(dict, " /Length")]
				var w, h int
				fmt.Sscan(dict[strings.Index(dict, "/Width ")+7:], &w)
				fmt.Sscan(dict[strings.Index(dict, "/Height ")+8:], &h)
				if (w+7)/8%2 == 0 {
					w -= 8 // an odd number of blocks: the last MCU has a padding column
				}
				img := image.NewRGBA(image.Rect(0, 0, (w+15)/16*16, h))
				for y := range h {
					for x := range img.Rect.Dx() {
						v := uint8(0)
						if x >= w {
							v = uint8((x + y) % 2 * 255)
						}
						copy(img.Pix[img.PixOffset(x, y):], []byte{v, v, v, 255})
					}
				}
				var b bytes.Buffer
				must(t, jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}))
				jpg := b.Bytes()
				binary.BigEndian.PutUint16(jpg[bytes.Index(jpg, []byte{0xFF, 0xC0})+7:], uint16(w))
				dict = regexp.MustCompile(`/Width \d+`).ReplaceAllString(dict, fmt.Sprintf("/Width %d", w))
				dict = regexp.MustCompile(`/ColorSpace /Device\w+`).ReplaceAllString(dict, "/ColorSpace /DeviceRGB")
				e.Set(im, rawpdf.StreamBody(dict, jpg))
			}},
		{name: "name after a zlib image stream", want: []finding.Code{finding.NoncanonicalImage, finding.IdentityLeak},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				setFlateImage(t, e, pm, "", []byte(name))
			}},
		{name: "PNG predictors in a zlib image stream", want: []finding.Code{finding.NoncanonicalImage},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				setFlateImage(t, e, pm, " /DecodeParms <</Predictor 15 /Colors 1 /Columns 8>>", nil)
			}},
		{name: "name split across text operators through ToUnicode", want: []finding.Code{finding.IdentityLeak},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				// A font whose ToUnicode maps unused codes to the name, shown
				// in two pieces, as an OCR text layer would.
				font, err := e.Ref(pm.page(2), "/F0")
				must(t, err)
				var cmap, codes strings.Builder
				fmt.Fprintf(&cmap, "begincmap\n%d beginbfchar\n", len([]rune(name)))
				for i, r := range []rune(name) {
					fmt.Fprintf(&cmap, "<%04X> <%04X>\n", 0xF000+i, r)
					fmt.Fprintf(&codes, "%04X", 0xF000+i)
				}
				cmap.WriteString("endbfchar\nendcmap\n")
				tu := e.AddStream("", []byte(cmap.String()))
				old, err := e.Ref(font, "/ToUnicode")
				must(t, err)
				must(t, e.Replace(font, fmt.Sprintf("/ToUnicode %d 0 R", old), fmt.Sprintf("/ToUnicode %d 0 R", tu)))
				c := codes.String()
				addContent(t, e, pm, 2, fmt.Sprintf("BT /F0 9 Tf 1 0 0 1 50 50 Tm <%s> Tj 1 0 0 1 60 50 Tm <%s> Tj ET", c[:4], c[4:]))
			}},
		{name: "name as UTF-16LE in an unreferenced stream", want: []finding.Code{finding.IdentityLeak},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				var le []byte
				for _, u := range utf16.Encode([]rune(employer)) {
					le = append(le, byte(u), byte(u>>8))
				}
				e.AddStream("", le)
			}},
		{name: "name in GB18030 after the end of file", want: []finding.Code{finding.TrailingData, finding.IdentityLeak},
			raw: func(t *testing.T, pdf []byte) []byte {
				gb, _ := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(name))
				return append(append(append([]byte{}, pdf...), "% "...), gb...)
			}},
		{name: "incremental update", want: []finding.Code{finding.IncrementalUpdate},
			raw: func(t *testing.T, pdf []byte) []byte {
				// A second revision replacing the catalog, as editors append.
				e, err := rawpdf.Edit(pdf)
				must(t, err)
				sx := bytes.LastIndex(pdf, []byte("startxref"))
				prev := string(bytes.Fields(pdf[sx+9:])[0])
				var b bytes.Buffer
				b.Write(pdf)
				off := b.Len()
				fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", e.Root(), e.Object(e.Root()))
				x := b.Len()
				fmt.Fprintf(&b, "xref\n%d 1\n%010d 00000 n\r\ntrailer\n<</Size %d /Root %d 0 R /Prev %s>>\nstartxref\n%d\n%%%%EOF\n", e.Root(), off, e.Root()+1, e.Root(), prev, x)
				return b.Bytes()
			}},
		{name: "foreign drawing operator", want: []finding.Code{finding.ForeignContent},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				addContent(t, e, pm, 3, "0 0 m 100 100 l 50 50 20 20 10 10 c h B")
			}},
		{name: "form XObject on a page", want: []finding.Code{finding.ForeignContent},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				fx := e.AddStream("/Type /XObject /Subtype /Form /BBox [0 0 10 10]", []byte("0 0 10 10 re f"))
				must(t, e.Replace(pm.page(2), "/XObject <<", fmt.Sprintf("/XObject <</Fx %d 0 R ", fx)))
				addContent(t, e, pm, 2, "/Fx Do")
			}},
		{name: "link with a URI action", want: []finding.Code{finding.AnnotationPresent, finding.JavaScriptPresent},
			edit: func(t *testing.T, e *rawpdf.Editor, pm packetMap) {
				addAnnot(t, e, pm, 1, "<</Type /Annot /Subtype /Link /Rect [0 0 50 50] /A <</S /URI /URI (https://example.com/track)>>>>")
			}},
	}
}

// editJPEG changes the JPEG of the first masked page.
func editJPEG(t *testing.T, e *rawpdf.Editor, pm packetMap, f func([]byte) []byte) {
	t.Helper()
	im := pm.image(t, e, pm.masked)
	body := e.Object(im)
	start := bytes.Index(body, []byte("stream\n")) + 7
	end := bytes.LastIndex(body, []byte("\nendstream"))
	dict := string(body[2:bytes.Index(body, []byte(" /Length"))])
	e.Set(im, rawpdf.StreamBody(dict, f(bytes.Clone(body[start:end]))))
}

// insertSegment puts a marker segment right after a JPEG's start of image.
func insertSegment(jpg []byte, marker byte, body []byte) []byte {
	seg := append([]byte{0xFF, marker, byte((len(body) + 2) >> 8), byte(len(body) + 2)}, body...)
	return slices.Concat(jpg[:2], seg, jpg[2:])
}

// setFlateImage replaces the first masked page's image with a black grey
// 8×8 Flate image, extra added to its dictionary and after its zlib data.
func setFlateImage(t *testing.T, e *rawpdf.Editor, pm packetMap, extra string, after []byte) {
	t.Helper()
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 64))
	must(t, zw.Close())
	z.Write(after)
	e.Set(pm.image(t, e, pm.masked), rawpdf.StreamBody("/Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode"+extra, z.Bytes()))
}

func TestMutationsAreCaught(t *testing.T) {
	sub, rep, pdf := packet(t, "eng-intermediate")
	exp := expect(sub, rep)
	e, err := rawpdf.Edit(pdf)
	must(t, err)
	pages, err := e.Pages()
	must(t, err)
	pm := packetMap{pages: pages, masked: 1 << 30}
	for p := range exp.Masks {
		pm.masked = min(pm.masked, p)
	}
	// The editor itself changes nothing a verifier cares about.
	if probs, err := verify.Packet(context.Background(), bytes.NewReader(e.Bytes()), int64(len(e.Bytes())), exp); err != nil || len(probs) > 0 {
		t.Fatalf("round trip through the editor: %v", probs)
	}
	unmasked := sourceJPEG(t, sub, rep, pm.masked)
	bin := buildCLI(t)
	subPath, repPath := filepath.Join(t.TempDir(), "s.json"), filepath.Join(t.TempDir(), "r.json")
	doc, _ := sub.Marshal()
	must(t, os.WriteFile(subPath, doc, 0o644))
	must(t, os.WriteFile(repPath, rep.Marshal(), 0o644))
	for _, m := range mutations(sub, unmasked) {
		t.Run(m.name, func(t *testing.T) {
			var out []byte
			if m.raw != nil {
				out = m.raw(t, pdf)
			} else {
				e, err := rawpdf.Edit(pdf)
				must(t, err)
				m.edit(t, e, pm)
				out = e.Bytes()
			}
			probs, err := verify.Packet(context.Background(), bytes.NewReader(out), int64(len(out)), exp)
			if err != nil {
				t.Fatal(err)
			}
			var got []finding.Code
			for _, p := range probs {
				got = append(got, p.Code)
				if strings.Contains(p.Where, sub.Identity.Name) || strings.Contains(p.Where, sub.Identity.Employer) {
					t.Errorf("problem %v quotes the identity", p)
				}
			}
			for _, w := range m.want {
				if !slices.Contains(got, w) {
					t.Errorf("verifier missed %s; it found %v", w, probs)
				}
			}
			path := filepath.Join(t.TempDir(), "mutated.pdf")
			must(t, os.WriteFile(path, out, 0o644))
			if err := exec.Command(bin, "verify", path, "--submission", subPath, "--report", repPath).Run(); err == nil {
				t.Error("blindpack verify exits 0 on the mutated packet")
			}
		})
	}
}

// sourceJPEG returns the original, unmasked JPEG behind a packet page.
func sourceJPEG(t *testing.T, sub *pipeline.Submission, rep *pipeline.Report, packetPage int) []byte {
	t.Helper()
	for _, e := range rep.Packet.Index {
		for _, pp := range e.Pages {
			if pp[1] != packetPage {
				continue
			}
			data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "samples", "eng-intermediate", sub.Materials[e.Material].File))
			must(t, err)
			if data[0] == 0xFF {
				return data
			}
			// A scanned PDF: the first JPEG in it is page 1.
			start := bytes.Index(data, []byte{0xFF, 0xD8, 0xFF})
			end := bytes.Index(data[start:], []byte("\nendstream"))
			return data[start : start+end]
		}
	}
	t.Fatal("no source page")
	return nil
}

// buildCLI builds the blindpack command for the test.
func buildCLI(t *testing.T) string {
	t.Helper()
	testenv.Tool(t, "go")
	bin := filepath.Join(t.TempDir(), "blindpack")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/blindpack").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}
