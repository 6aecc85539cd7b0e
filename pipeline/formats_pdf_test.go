package pipeline_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blindpack/blindpack/internal/pdfcheck"
	"github.com/blindpack/blindpack/internal/rawpdf"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/mask"
	"github.com/blindpack/blindpack/pipeline/scan"
)

// soffice converts a file in dir to PDF with LibreOffice, as an applicant
// exporting from a word processor does, in a private profile so parallel
// tests do not share one.
func soffice(t *testing.T, dir, file string) []byte {
	t.Helper()
	testenv.Tool(t, "soffice")
	profile := "file://" + filepath.Join(t.TempDir(), "profile")
	cmd := exec.Command("soffice", "-env:UserInstallation="+profile, "--headless", "--convert-to", "pdf", "--outdir", dir, file)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
	pdf := strings.TrimSuffix(file, filepath.Ext(file)) + ".pdf"
	data, err := os.ReadFile(filepath.Join(dir, pdf))
	if err != nil {
		t.Fatalf("soffice made no PDF: %v", err)
	}
	return data
}

// output runs a tool and returns its standard output.
func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	testenv.Tool(t, name)
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}

var (
	bboxPage = regexp.MustCompile(`<page width="([0-9.]+)" height="([0-9.]+)">`)
	bboxWord = regexp.MustCompile(`<word xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)">([^<]*)</word>`)
)

// wordMasks finds, with poppler's pdftotext -bbox (not blindpack's own
// reader), the words of page 1 that are the name or the employer, and
// returns a mask over each, a little larger than the word.
func wordMasks(t *testing.T, path string, id pipeline.Identity) []pipeline.Mask {
	t.Helper()
	out := output(t, "pdftotext", "-f", "1", "-l", "1", "-bbox", path, "-")
	pm := bboxPage.FindStringSubmatch(out)
	if pm == nil {
		t.Fatalf("pdftotext -bbox: no page in\n%s", out)
	}
	num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	pw, ph := num(pm[1]), num(pm[2])
	var masks []pipeline.Mask
	for _, w := range bboxWord.FindAllStringSubmatch(out, -1) {
		kind := map[string]string{id.Name: "name", id.Employer: "employer"}[w[5]]
		if kind == "" {
			continue
		}
		const pad = 3 // points
		masks = append(masks, pipeline.Mask{Page: 1, Kind: kind, Rect: [4]float64{
			(num(w[1]) - pad) / pw, (num(w[2]) - pad) / ph, (num(w[3]) + pad) / pw, (num(w[4]) + pad) / ph}})
	}
	if len(masks) < 2 {
		t.Fatalf("pdftotext finds %d of the identity's words in the upload", len(masks))
	}
	return masks
}

// noUploadFonts: pdffonts lists none of the upload's fonts in the packet.
func noUploadFonts(t *testing.T, path string, uploadFonts []string) {
	t.Helper()
	for _, name := range fontNames(t, path) {
		if slices.Contains(uploadFonts, name) {
			t.Errorf("pdffonts lists the upload's font %s in the packet", name)
		}
	}
}

// typedSummary writes a work summary with the identity on its first lines
// and n numbered lines of Chinese and English after them as summary.txt in
// dir, and returns LibreOffice's PDF of it (summary.pdf).
func typedSummary(t *testing.T, dir string, id pipeline.Identity, n int) []byte {
	t.Helper()
	var doc strings.Builder
	fmt.Fprintf(&doc, "个人专业技术工作总结\n\n姓名： %s \n工作单位： %s \n\n", id.Name, id.Employer)
	for i := range n {
		fmt.Fprintf(&doc, "%d. 负责桥梁结构设计与施工图审查，完成项目技术方案的编制和论证工作。Structural design review, item %d.\n", i+1, i+1)
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.txt"), []byte(doc.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return soffice(t, dir, "summary.txt")
}

// fontNames lists the fonts pdffonts finds in a PDF.
func fontNames(t *testing.T, path string) []string {
	t.Helper()
	var names []string
	for i, line := range strings.Split(output(t, "pdffonts", path), "\n") {
		if f := strings.Fields(line); i >= 2 && len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

// TestTypedPDFFromLibreOffice: a work summary typed in a word processor and
// exported to PDF by LibreOffice (fonts embedded, Chinese and English
// text), with the name and employer masked where pdftotext finds them, is
// accepted. The packet's page is pixels blindpack drew: pdffonts lists none
// of the upload's fonts, pdftotext finds nothing on the material's page,
// qpdf --check passes, and the masks are black in a pdftoppm render and in
// the stored image. scan reads the upload's text layer into Page.Text with
// the name inside its mask.
func TestTypedPDFFromLibreOffice(t *testing.T) {
	p := newPipeline(t)
	dir, sub := sample(t, "eng-intermediate")
	id := sub.Identity
	in := typedSummary(t, dir, id, 25)
	upload := filepath.Join(dir, "summary.pdf")
	uploadFonts := fontNames(t, upload)
	if len(uploadFonts) == 0 {
		t.Fatal("the upload has no fonts: not a typed PDF")
	}
	masks := wordMasks(t, upload, id)

	// The text layer scan gives the identity check.
	f, err := scan.Open(in, scan.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	page, err := f.Page(1)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, g := range page.Text {
		text.WriteRune(g.Char)
	}
	at := strings.Index(text.String(), id.Name)
	if at < 0 {
		t.Fatalf("Page.Text lacks the name: %q", text.String())
	}
	first := []rune(text.String()[:at])
	nameGlyph := page.Text[len(first)].Box
	inMask := false
	for _, mk := range masks {
		r := mk.Rect
		inMask = inMask || (mk.Kind == "name" && nameGlyph[0] >= r[0] && nameGlyph[1] >= r[1] && nameGlyph[2] <= r[2] && nameGlyph[3] <= r[3])
	}
	if !inMask {
		t.Errorf("the name's first glyph %v is not inside the name's mask %v", nameGlyph, masks)
	}

	m := material(sub, "performance_summary")
	m.File, m.Masks = "summary.pdf", masks
	rep, pdf := process(t, p, dir, sub)
	path := checkClean(t, rep, pdf, sub)
	noUploadFonts(t, path, uploadFonts)
	for _, e := range rep.Packet.Index {
		if e.Type != "performance_summary" {
			continue
		}
		for _, pp := range e.Pages {
			if s := strings.TrimSpace(pdfcheck.Text(t, path, pp[1], pp[1])); s != "" && strings.Contains(s, "Structural") {
				t.Errorf("pdftotext finds the upload's text on packet page %d: %q", pp[1], s)
			}
		}
	}
}

// scanPage draws the work summary page the scan-like PDFs are built from:
// grey, 150 ppi, A4, and the masks over its name and employer.
func scanPage(t *testing.T, id pipeline.Identity) (*image.Gray, []pipeline.Mask) {
	t.Helper()
	page, err := synth.PerformanceSummary(synth.Identity{Name: id.Name, Employer: id.Employer}, 1, 1, synth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var masks []pipeline.Mask
	for _, r := range page.Name {
		masks = append(masks, pipeline.Mask{Page: 1, Kind: "name", Rect: mask.Rect(r)})
	}
	for _, r := range page.Employer {
		masks = append(masks, pipeline.Mask{Page: 1, Kind: "employer", Rect: mask.Rect(r)})
	}
	return page.Image, masks
}

func jpegOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	data, err := synth.EncodeJPEG(img, 85)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRenderedScanPDFsFromTools: scans as phone apps, scanners and office
// printers write them — a full-page JPEG with the app's visible footer
// (img2pdf, then qpdf --overlay of a LibreOffice-made footer), a page in
// three stacked JPEG strips, an MRC page (JPEG background under a 1-bit
// /ImageMask of the text), a page whose soft mask hides part of its image,
// and an image larger than the page box — are drawn, not extracted. Each is
// accepted with its masks black in pdftoppm renders and in the stored
// image; pdffonts and pdftotext find nothing of the upload; qpdf --check
// passes; the stored image is the visible page at 200 ppi.
func TestRenderedScanPDFsFromTools(t *testing.T) {
	p := newPipeline(t)
	_, base := sample(t, "eng-intermediate")
	grey, masks := scanPage(t, base.Identity)
	w, h := grey.Bounds().Dx(), grey.Bounds().Dy()
	const footer = "CamScanner footer 扫描全能王"
	type tc struct {
		name string
		// make writes out.pdf in dir and returns the masks for it.
		make func(t *testing.T, dir string) []pipeline.Mask
		// hidden is a region of the page, in fractions, that the upload's
		// image has ink in but a viewer does not show.
		hidden [4]float64
		// shown is a region, in fractions, that a viewer shows dark but
		// the upload's image has not (an annotation).
		shown [4]float64
	}
	cases := []tc{
		{"phone-app scan with a visible text footer (img2pdf, LibreOffice, qpdf --overlay)", func(t *testing.T, dir string) []pipeline.Mask {
			os.WriteFile(filepath.Join(dir, "scan.jpg"), jpegOf(t, grey), 0o644)
			sh(t, dir, "img2pdf", "--pagesize", "A4", "-o", "scan.pdf", "scan.jpg")
			os.WriteFile(filepath.Join(dir, "footer.txt"), []byte(footer+"\n"), 0o644)
			soffice(t, dir, "footer.txt")
			sh(t, dir, "qpdf", "scan.pdf", "--overlay", "footer.pdf", "--", "out.pdf")
			return masks
		}, [4]float64{}, [4]float64{}},
		{"scanner page in three stacked JPEG strips", func(t *testing.T, dir string) []pipeline.Mask {
			var b rawpdf.Builder
			var content, xobj strings.Builder
			for i := range 3 {
				y0, y1 := i*h/3, (i+1)*h/3
				strip := grey.SubImage(image.Rect(0, y0, w, y1))
				im := b.Stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode", w, y1-y0), jpegOf(t, strip))
				fmt.Fprintf(&xobj, "/S%d %d 0 R ", i, im)
				top := 842 * float64(y0) / float64(h)
				ht := 842 * float64(y1-y0) / float64(h)
				fmt.Fprintf(&content, "q 595 0 0 %.4f 0 %.4f cm /S%d Do Q\n", ht, 842-top-ht, i)
			}
			os.WriteFile(filepath.Join(dir, "out.pdf"), b.Bytes([]rawpdf.Page{{MediaBox: "0 0 595 842", Content: content.String(),
				Resources: "<</XObject <<" + xobj.String() + ">>>>"}}, ""), 0o644)
			return masks
		}, [4]float64{}, [4]float64{}},
		{"scan with a stamp annotation over it (a PDF editor's stamp: /Annots with an appearance)", func(t *testing.T, dir string) []pipeline.Mask {
			var b rawpdf.Builder
			im := b.Stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode", w, h), jpegOf(t, grey))
			ap := b.Stream("/Type /XObject /Subtype /Form /BBox [0 0 100 40]", []byte("0 0 0.6 rg 0 0 100 40 re f"))
			stamp := b.Add(fmt.Sprintf("<</Type /Annot /Subtype /Stamp /Rect [440 20 540 60] /F 4 /AP <</N %d 0 R>>>>", ap))
			os.WriteFile(filepath.Join(dir, "out.pdf"), b.Bytes([]rawpdf.Page{{MediaBox: "0 0 595 842", Content: "q 595 0 0 842 0 0 cm /Im0 Do Q",
				Resources: fmt.Sprintf("<</XObject <</Im0 %d 0 R>>>>", im), Extra: fmt.Sprintf(" /Annots [%d 0 R]", stamp)}}, ""), 0o644)
			return masks
		}, [4]float64{}, [4]float64{445.0 / 595, 1 - 55.0/842, 535.0 / 595, 1 - 25.0/842}},
		{"JPEG 2000 scan (ImageMagick to .jp2, img2pdf: /JPXDecode)", func(t *testing.T, dir string) []pipeline.Mask {
			os.WriteFile(filepath.Join(dir, "scan.jpg"), jpegOf(t, grey), 0o644)
			sh(t, dir, "convert", "scan.jpg", "-quality", "40", "scan.jp2")
			sh(t, dir, "img2pdf", "--pagesize", "A4", "-o", "out.pdf", "scan.jp2")
			if raw, _ := os.ReadFile(filepath.Join(dir, "out.pdf")); !bytes.Contains(raw, []byte("/JPXDecode")) {
				t.Fatal("img2pdf wrote no /JPXDecode image")
			}
			return masks
		}, [4]float64{}, [4]float64{}},
		{"office printer MRC page: JPEG background, 1-bit /ImageMask text", func(t *testing.T, dir string) []pipeline.Mask {
			bg := image.NewRGBA(grey.Bounds())
			bits := make([]byte, (w+7)/8*h)
			for y := range h {
				for x := range w {
					v := grey.GrayAt(x, y).Y
					// The background keeps only a tint; the text goes to the mask.
					bg.Set(x, y, color.RGBA{250, 245, uint8(200 + int(v)/5), 255})
					if v < 128 {
						bits[y*((w+7)/8)+x/8] |= 0x80 >> (x % 8) // 1 = paint with the fill colour
					}
				}
			}
			var b rawpdf.Builder
			back := b.Stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", w, h), jpegOf(t, bg))
			text := b.Flate(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ImageMask true /BitsPerComponent 1 /Decode [1 0]", w, h), bits)
			os.WriteFile(filepath.Join(dir, "out.pdf"), b.Bytes([]rawpdf.Page{{MediaBox: "0 0 595 842",
				Content:   "q 595 0 0 842 0 0 cm /B Do Q q 0 0 0 rg 595 0 0 842 0 0 cm /T Do Q",
				Resources: fmt.Sprintf("<</XObject <</B %d 0 R /T %d 0 R>>>>", back, text)}}, ""), 0o644)
			return masks
		}, [4]float64{}, [4]float64{}},
		{"soft mask hiding the top of the image", func(t *testing.T, dir string) []pipeline.Mask {
			alpha := make([]byte, w*h)
			for i := range alpha {
				if i/w >= h/8 {
					alpha[i] = 255
				}
			}
			var b rawpdf.Builder
			sm := b.Flate(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8", w, h), alpha)
			im := b.Stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /SMask %d 0 R", w, h, sm), jpegOf(t, grey))
			os.WriteFile(filepath.Join(dir, "out.pdf"), b.Bytes([]rawpdf.Page{{MediaBox: "0 0 595 842",
				Content: "q 595 0 0 842 0 0 cm /Im0 Do Q", Resources: fmt.Sprintf("<</XObject <</Im0 %d 0 R>>>>", im)}}, ""), 0o644)
			return masks
		}, [4]float64{0.05, 0.01, 0.95, 1.0/8 - 0.01}, [4]float64{}},
		{"image larger than the page box, its margins cut off", func(t *testing.T, dir string) []pipeline.Mask {
			var b rawpdf.Builder
			im := b.Stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode", w, h), jpegOf(t, grey))
			// 10% larger about the centre: what lies outside is not shown.
			os.WriteFile(filepath.Join(dir, "out.pdf"), b.Bytes([]rawpdf.Page{{MediaBox: "0 0 595 842",
				Content: "q 654.5 0 0 926.2 -29.75 -42.1 cm /Im0 Do Q", Resources: fmt.Sprintf("<</XObject <</Im0 %d 0 R>>>>", im)}}, ""), 0o644)
			var out []pipeline.Mask
			for _, mk := range masks {
				r := mk.Rect
				for i := range r {
					r[i] = (r[i]-0.5)*1.1 + 0.5
				}
				mk.Rect = r
				out = append(out, mk)
			}
			return out
		}, [4]float64{}, [4]float64{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir, sub := sample(t, "eng-intermediate")
			mks := c.make(t, dir)
			upload := filepath.Join(dir, "out.pdf")
			uploadFonts := fontNames(t, upload)
			m := material(sub, "performance_summary")
			m.File, m.Masks = "out.pdf", mks
			rep, pdf := process(t, p, dir, sub)
			path := checkClean(t, rep, pdf, sub)
			noUploadFonts(t, path, uploadFonts)
			var pages [][2]int
			for _, e := range rep.Packet.Index {
				if e.Type == "performance_summary" {
					pages = e.Pages
				}
			}
			if len(pages) != 1 {
				t.Fatalf("%d pages in the packet, want 1", len(pages))
			}
			pg := pages[0][1]
			text := pdfcheck.Text(t, path, pg, pg)
			if strings.Contains(text, "CamScanner") || strings.Contains(text, "扫描全能王") {
				t.Errorf("pdftotext finds the upload's footer on the packet page: %q", text)
			}
			for _, im := range pdfcheck.Images(t, path) {
				// 595×842 pt (or img2pdf's 595.28×841.89) at 200 ppi.
				if im.Page == pg && (im.Width < 1653 || im.Width > 1654 || im.Height != 2339) {
					t.Errorf("stored image %v, want the visible A4 page at 200 ppi (1653×2339)", im)
				}
			}
			if c.hidden != ([4]float64{}) {
				if mean, _ := pdfcheck.Dark(grey, c.hidden, 0); mean > 250 {
					t.Fatalf("the upload's image has no ink in the hidden region (mean %.0f)", mean)
				}
				shown := pdfcheck.Render(t, path, pg, 50)
				if mean, _ := pdfcheck.Dark(shown, c.hidden, 0); mean < 250 {
					t.Errorf("the region the soft mask hides renders with mean %.0f in the packet, want white", mean)
				}
			}
			if c.shown != ([4]float64{}) {
				if mean, _ := pdfcheck.Dark(grey, c.shown, 0); mean < 200 {
					t.Fatalf("the upload's image is dark where the annotation goes (mean %.0f)", mean)
				}
				if mean, _ := pdfcheck.Dark(pdfcheck.Render(t, path, pg, 50), c.shown, 0); mean > 120 {
					t.Errorf("the annotation's region renders with mean %.0f in the packet, want it drawn dark", mean)
				}
			}
		})
	}
}

// TestRenderFailureIsAFinding: a page the renderer cannot finish in its
// deadline (here a deadline no page can meet) is the file's failure: the
// submission is rejected with render_failed in Chinese and English, and the
// run goes on.
func TestRenderFailureIsAFinding(t *testing.T) {
	p, err := pipeline.New(pipeline.Config{AnonSecret: []byte("test-secret-0123456789"), Font: newPipelineFont(t),
		Limits: scan.Limits{RenderTimeout: time.Nanosecond}})
	if err != nil {
		t.Fatal(err)
	}
	dir, sub := sample(t, "eng-intermediate")
	var b rawpdf.Builder
	font := b.Add("<</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>")
	m := material(sub, "performance_summary")
	m.File, m.Masks = "typed.pdf", nil
	os.WriteFile(filepath.Join(dir, m.File), b.Bytes([]rawpdf.Page{{MediaBox: "0 0 595 842",
		Content: "BT /F1 24 Tf 72 700 Td (Work summary) Tj ET", Resources: fmt.Sprintf("<</Font <</F1 %d 0 R>>>>", font)}}, ""), 0o644)
	rep, _ := process(t, p, dir, sub)
	var found bool
	for _, f := range rep.Findings {
		if f.Code == finding.RenderFailed {
			found = true
			if f.MessageZH == "" || f.MessageEN == "" || strings.Contains(f.MessageEN, "{") || f.Page != 1 {
				t.Errorf("finding %+v", f)
			}
		}
	}
	if rep.Status != pipeline.Rejected || !found {
		t.Fatalf("status %s, findings %+v; want rejected with render_failed", rep.Status, rep.Findings)
	}
}
