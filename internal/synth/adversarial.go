package synth

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/draw"
	"strings"

	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/internal/rawpdf"
)

// Mask is a masking rectangle of a submission: page (1-based), kind (name
// or employer) and rectangle in displayed-page fractions.
type Mask struct {
	Page int
	Kind string
	Rect Rect
}

// AdversarialCase is an application form whose file carries the applicant's
// identity somewhere a careless redaction tool keeps it — metadata, a
// thumbnail, a text layer, an annotation, an old revision — with the masks
// the applicant drew. The pipeline must either build a packet that is
// clean, or reject the file with the code in Reject.
type AdversarialCase struct {
	Name  string
	File  []byte
	Masks []Mask
	// Reject is the finding code the file must be rejected with, or ""
	// when a clean packet must be built from it.
	Reject string
}

// Adversarial makes the corpus for an identity, deterministically.
func Adversarial(id Identity) ([]AdversarialCase, error) {
	o := Options{}
	p1, err := ApplicationForm(id, 1, o)
	if err != nil {
		return nil, err
	}
	p2, err := ApplicationForm(id, 2, o)
	if err != nil {
		return nil, err
	}
	masks := func(pages ...Page) []Mask {
		var out []Mask
		for i, p := range pages {
			for _, r := range p.Name {
				out = append(out, Mask{i + 1, "name", r})
			}
			for _, r := range p.Employer {
				out = append(out, Mask{i + 1, "employer", r})
			}
		}
		return out
	}
	j1, err := EncodeJPEG(p1.Image, sampleQuality)
	if err != nil {
		return nil, err
	}
	j2, err := EncodeJPEG(p2.Image, sampleQuality)
	if err != nil {
		return nil, err
	}
	scan, err := ScanPDF([][]byte{j1, j2}, ScanPDFOptions{})
	if err != nil {
		return nil, err
	}
	both := masks(p1, p2)

	var cases []AdversarialCase
	add := func(name string, file []byte, m []Mask, reject string, err error) error {
		if err != nil {
			return fmt.Errorf("synth: adversarial %s: %w", name, err)
		}
		cases = append(cases, AdversarialCase{Name: name, File: file, Masks: m, Reject: reject})
		return nil
	}
	build := []func() error{
		func() error {
			thumb, err := EncodeJPEG(shrink(p1.Image, 8), 70)
			if err != nil {
				return err
			}
			return add("EXIF Artist, description and a thumbnail of the unmasked page; XMP", exifJPEG(j1, id, thumb), masks(p1), "", nil)
		},
		func() error {
			png, err := EncodePNG(p1.Image)
			return add("PNG tEXt and iTXt chunks", pngText(png, id), masks(p1), "", err)
		},
		func() error {
			f, err := editPDF(scan, func(e *rawpdf.Editor) error {
				info := e.Add([]byte(fmt.Sprintf("<</Author %s /Title %s /Producer (Scanner)>>", hexText(id.Name), hexText(id.Employer+" 申报表"))))
				e.SetTrailer(fmt.Sprintf(" /Info %d 0 R", info))
				xmp := e.AddStream("/Type /Metadata /Subtype /XML", []byte(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><dc:creator>`+id.Name+`</dc:creator><pdf:Producer>`+id.Employer+`</pdf:Producer></rdf:RDF></x:xmpmeta>`))
				return e.Replace(e.Root(), "/Type /Catalog", fmt.Sprintf("/Type /Catalog /Metadata %d 0 R", xmp))
			})
			return add("PDF Info and XMP metadata", f, both, "", err)
		},
		func() error {
			f, err := textLayer(scan, id, 3, false)
			return add("invisible OCR text layer (render mode 3)", f, both, "", err)
		},
		func() error {
			f, err := textLayer(scan, id, 3, true)
			return add("name split across operators, UTF-16 through a ToUnicode map, invisible", f, both, "", err)
		},
		func() error {
			f, err := textLayer(scan, id, 0, true)
			// Visible text puts the name and employer on the page away from
			// the masks drawn over the scanned ones: the text-layer check
			// sees it before any pixels are made.
			return add("visible text layer over the scan", f, both, "identity_unmasked", err)
		},
		func() error {
			f, err := editPDF(scan, func(e *rawpdf.Editor) error {
				pages, err := e.Pages()
				if err != nil {
					return err
				}
				note := e.Add([]byte("<</Type /Annot /Subtype /Text /Rect [20 20 40 40] /Contents " + hexText("申请人："+id.Name) + ">>"))
				free := e.Add([]byte("<</Type /Annot /Subtype /FreeText /Rect [20 60 300 80] /DA (/Helv 9 Tf 0 g) /Contents " + hexText(id.Employer) + ">>"))
				field := e.Add([]byte("<</Type /Annot /Subtype /Widget /FT /Tx /T (name) /V " + hexText(id.Name) + " /Rect [20 100 200 120]>>"))
				if err := e.Replace(pages[0], "/Type /Page", fmt.Sprintf("/Type /Page /Annots [%d 0 R %d 0 R %d 0 R]", note, free, field)); err != nil {
					return err
				}
				ef := e.AddStream("/Type /EmbeddedFile", []byte("原件："+id.Name+" "+id.Employer))
				fs := e.Add([]byte(fmt.Sprintf("<</Type /Filespec /F (original.txt) /EF <</F %d 0 R>>>>", ef)))
				return e.Replace(e.Root(), "/Type /Catalog", fmt.Sprintf("/Type /Catalog /AcroForm <</Fields [%d 0 R]>> /Names <</EmbeddedFiles <</Names [(original.txt) %d 0 R]>>>>", field, fs))
			})
			return add("annotations, a FreeText note, a form field value and a file attachment", f, both, "", err)
		},
		func() error {
			f, err := editPDF(scan, func(e *rawpdf.Editor) error {
				pages, err := e.Pages()
				if err != nil {
					return err
				}
				js := e.Add([]byte("<</S /JavaScript /JS (app.alert\\('" + strings.Repeat("x", 3) + "'\\))>>"))
				outline := e.Add([]byte("<</Type /Outlines /First 0 0 R /Last 0 0 R /Count 1>>"))
				item := e.Add([]byte(fmt.Sprintf("<</Title %s /Parent %d 0 R /Dest [%d 0 R /Fit]>>", hexText(id.Name+"的申报表"), outline, pages[0])))
				e.Set(outline, []byte(fmt.Sprintf("<</Type /Outlines /First %d 0 R /Last %d 0 R /Count 1>>", item, item)))
				return e.Replace(e.Root(), "/Type /Catalog", fmt.Sprintf("/Type /Catalog /OpenAction %d 0 R /Outlines %d 0 R", js, outline))
			})
			return add("document JavaScript and a bookmark titled with the name", f, both, "", err)
		},
		func() error {
			f, err := oldRevision(scan, p1, both)
			return add("incremental update whose older revision has the unmasked page", f, both, "", err)
		},
		func() error {
			turned, err := EncodeJPEG(turnLeft(p1.Image), sampleQuality)
			if err != nil {
				return err
			}
			f, err := ScanPDF([][]byte{turned, j2}, ScanPDFOptions{Rotate: []int{90}})
			return add("page with /Rotate 90 and masks in displayed coordinates", f, both, "", err)
		},
		func() error {
			// Its CJK font is not embedded and the renderer has none of its
			// own to put in its place: the page renders blank.
			return add("digitally produced text PDF", typedPDF(id), []Mask{{1, "name", Rect{0.1, 0.1, 0.3, 0.15}}, {1, "employer", Rect{0.1, 0.2, 0.6, 0.25}}}, "blank_page", nil)
		},
	}
	for _, b := range build {
		if err := b(); err != nil {
			return nil, err
		}
	}
	return cases, nil
}

// hexText is a PDF text string in UTF-16BE.
var hexText = pdfkit.TextString

func editPDF(pdf []byte, edit func(*rawpdf.Editor) error) ([]byte, error) {
	e, err := rawpdf.Edit(pdf)
	if err != nil {
		return nil, err
	}
	if err := edit(e); err != nil {
		return nil, err
	}
	return e.Bytes(), nil
}

// shrink scales an image down by an integer factor, as a thumbnail.
func shrink(src *image.Gray, f int) *image.Gray {
	b := src.Bounds()
	dst := image.NewGray(image.Rect(0, 0, b.Dx()/f, b.Dy()/f))
	for y := range dst.Rect.Dy() {
		for x := range dst.Rect.Dx() {
			dst.Pix[y*dst.Stride+x] = src.Pix[(y*f)*src.Stride+x*f]
		}
	}
	return dst
}

// exifJPEG inserts what cameras and scanning apps write: an EXIF block with
// Artist and ImageDescription and, in IFD1, a thumbnail of the page as it
// was before masking; and an XMP packet naming the creator.
func exifJPEG(jpg []byte, id Identity, thumb []byte) []byte {
	artist := []byte(id.Name + "\x00")
	desc := []byte(id.Employer + "\x00")
	le := binary.LittleEndian
	var t bytes.Buffer
	t.WriteString("II*\x00")
	binary.Write(&t, le, uint32(8))
	// IFD0 at 8: 2 entries, then next-IFD offset.
	ifd0 := 8
	ifd1 := ifd0 + 2 + 2*12 + 4
	data := ifd1 + 2 + 2*12 + 4
	artistOff := data
	descOff := artistOff + len(artist)
	thumbOff := descOff + len(desc)
	binary.Write(&t, le, uint16(2))
	binary.Write(&t, le, []uint16{0x010E, 2})
	binary.Write(&t, le, []uint32{uint32(len(desc)), uint32(descOff)})
	binary.Write(&t, le, []uint16{0x013B, 2})
	binary.Write(&t, le, []uint32{uint32(len(artist)), uint32(artistOff)})
	binary.Write(&t, le, uint32(ifd1))
	// IFD1: the thumbnail (JPEGInterchangeFormat and its length).
	binary.Write(&t, le, uint16(2))
	binary.Write(&t, le, []uint16{0x0201, 4})
	binary.Write(&t, le, []uint32{1, uint32(thumbOff)})
	binary.Write(&t, le, []uint16{0x0202, 4})
	binary.Write(&t, le, []uint32{1, uint32(len(thumb))})
	binary.Write(&t, le, uint32(0))
	t.Write(artist)
	t.Write(desc)
	t.Write(thumb)
	exif := append([]byte("Exif\x00\x00"), t.Bytes()...)
	xmp := []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><dc:creator>" + id.Name + "</dc:creator></x:xmpmeta>")
	var b bytes.Buffer
	b.Write(jpg[:2])
	for _, seg := range [][]byte{exif, xmp} {
		b.Write([]byte{0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)})
		b.Write(seg)
	}
	b.Write(jpg[2:])
	return b.Bytes()
}

// pngText adds tEXt and iTXt chunks naming the applicant before IEND.
func pngText(png []byte, id Identity) []byte {
	chunk := func(typ string, body []byte) []byte {
		var c bytes.Buffer
		binary.Write(&c, binary.BigEndian, uint32(len(body)))
		c.WriteString(typ)
		c.Write(body)
		binary.Write(&c, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), body...)))
		return c.Bytes()
	}
	end := len(png) - 12 // IEND
	var b bytes.Buffer
	b.Write(png[:end])
	b.Write(chunk("tEXt", []byte("Author\x00"+"Zhang San")))
	b.Write(chunk("iTXt", []byte("Description\x00\x00\x00zh\x00\x00"+id.Name+"，"+id.Employer)))
	b.Write(png[end:])
	return b.Bytes()
}

// textLayer adds a text layer to every page of a scanned PDF, as OCR
// software does, drawing the name and employer in rendering mode tr with a
// font whose ToUnicode map gives them as UTF-16; split shows each string in
// two operators.
func textLayer(scan []byte, id Identity, tr int, split bool) ([]byte, error) {
	return editPDF(scan, func(e *rawpdf.Editor) error {
		pages, err := e.Pages()
		if err != nil {
			return err
		}
		// Codes are the characters' UTF-16 values; the ToUnicode map says so.
		var cmap strings.Builder
		runes := []rune(id.Name + id.Employer)
		fmt.Fprintf(&cmap, "/CIDInit /ProcSet findresource begin 12 dict begin begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange %d beginbfchar\n", len(runes))
		for _, r := range runes {
			fmt.Fprintf(&cmap, "<%04X> <%04X>\n", r, r)
		}
		cmap.WriteString("endbfchar endcmap CMapName currentdict /CMap defineresource pop end end\n")
		tu := e.AddStream("", []byte(cmap.String()))
		font := e.Add([]byte(fmt.Sprintf("<</Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H /ToUnicode %d 0 R /DescendantFonts [<</Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo <</Registry (Adobe) /Ordering (Identity) /Supplement 0>>>>]>>", tu)))
		show := func(s string) string {
			var parts []string
			rs := []rune(s)
			cut := len(rs)
			if split {
				cut = len(rs) / 2
			}
			for _, piece := range [][]rune{rs[:cut], rs[cut:]} {
				if len(piece) == 0 {
					continue
				}
				var hex strings.Builder
				for _, r := range piece {
					fmt.Fprintf(&hex, "%04X", r)
				}
				parts = append(parts, "<"+hex.String()+"> Tj")
			}
			return strings.Join(parts, " ")
		}
		ops := fmt.Sprintf("BT %d Tr /OCR 10 Tf 120 700 Td %s 0 -20 Td %s ET", tr, show(id.Name), show(id.Employer))
		for _, pg := range pages {
			c := e.AddStream("", []byte(ops))
			old, err := e.Ref(pg, "/Contents")
			if err != nil {
				return err
			}
			if err := e.Replace(pg, fmt.Sprintf("/Contents %d 0 R", old), fmt.Sprintf("/Contents [%d 0 R %d 0 R]", old, c)); err != nil {
				return err
			}
			if err := e.Replace(pg, "/Resources <<", fmt.Sprintf("/Resources <</Font <</OCR %d 0 R>> ", font)); err != nil {
				return err
			}
		}
		return nil
	})
}

// oldRevision appends a second revision to a scanned PDF in which the
// applicant's editor replaced page 1's image with one where the identity is
// blacked out — leaving the unmasked original in the file's first revision.
func oldRevision(scan []byte, p1 Page, masks []Mask) ([]byte, error) {
	blacked := image.NewGray(p1.Image.Rect)
	copy(blacked.Pix, p1.Image.Pix)
	w, h := float64(blacked.Rect.Dx()), float64(blacked.Rect.Dy())
	for _, m := range masks {
		if m.Page != 1 {
			continue
		}
		r := image.Rect(int(m.Rect[0]*w), int(m.Rect[1]*h), int(m.Rect[2]*w)+1, int(m.Rect[3]*h)+1)
		draw.Draw(blacked, r, image.Black, image.Point{}, draw.Src)
	}
	jpg, err := EncodeJPEG(blacked, sampleQuality)
	if err != nil {
		return nil, err
	}
	e, err := rawpdf.Edit(scan)
	if err != nil {
		return nil, err
	}
	pages, err := e.Pages()
	if err != nil {
		return nil, err
	}
	im, err := e.Ref(pages[0], "/Im0")
	if err != nil {
		return nil, err
	}
	old := string(e.Object(im))
	dict := old[2:strings.Index(old, " /Length")]
	sx := bytes.LastIndex(scan, []byte("startxref"))
	prev := string(bytes.Fields(scan[sx+9:])[0])
	var b bytes.Buffer
	b.Write(scan)
	off := b.Len()
	fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", im, rawpdf.StreamBody(dict, jpg))
	x := b.Len()
	size := 0
	if m := bytes.Index(scan[bytes.LastIndex(scan, []byte("trailer")):], []byte("/Size ")); m >= 0 {
		fmt.Sscanf(string(scan[bytes.LastIndex(scan, []byte("trailer"))+m+6:]), "%d", &size)
	}
	fmt.Fprintf(&b, "xref\n%d 1\n%010d 00000 n\r\ntrailer\n<</Size %d /Root %d 0 R /Prev %s>>\nstartxref\n%d\n%%%%EOF\n", im, off, size, e.Root(), prev, x)
	return b.Bytes(), nil
}

// typedPDF is an application form typed in a word processor: real text,
// no scan.
func typedPDF(id Identity) []byte {
	var b rawpdf.Builder
	var cmap strings.Builder
	runes := []rune("姓名工作单位：" + id.Name + id.Employer)
	fmt.Fprintf(&cmap, "begincmap %d beginbfchar\n", len(runes))
	for _, r := range runes {
		fmt.Fprintf(&cmap, "<%04X> <%04X>\n", r, r)
	}
	cmap.WriteString("endbfchar endcmap\n")
	tu := b.Stream("", []byte(cmap.String()))
	font := b.Add(fmt.Sprintf("<</Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H /ToUnicode %d 0 R /DescendantFonts [<</Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo <</Registry (Adobe) /Ordering (Identity) /Supplement 0>>>>]>>", tu))
	hex := func(s string) string {
		var h strings.Builder
		for _, r := range s {
			fmt.Fprintf(&h, "%04X", r)
		}
		return "<" + h.String() + ">"
	}
	content := fmt.Sprintf("BT /F1 14 Tf 72 760 Td %s Tj 0 -24 Td %s Tj ET", hex("姓名："+id.Name), hex("工作单位："+id.Employer))
	return b.Bytes([]rawpdf.Page{{MediaBox: "0 0 595 842", Content: content, Resources: fmt.Sprintf("<</Font <</F1 %d 0 R>>>>", font)}}, "")
}
