package pipeline_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/internal/pdfcheck"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
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
	var doc strings.Builder
	fmt.Fprintf(&doc, "个人专业技术工作总结\n\n姓名： %s \n工作单位： %s \n\n", id.Name, id.Employer)
	for i := range 25 {
		fmt.Fprintf(&doc, "%d. 负责桥梁结构设计与施工图审查，完成项目技术方案的编制和论证工作。Structural design review, item %d.\n", i+1, i+1)
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.txt"), []byte(doc.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	in := soffice(t, dir, "summary.txt")
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
	if rep.Status != pipeline.Accepted {
		t.Fatalf("status %s: %+v", rep.Status, rep.Findings)
	}
	path := pdfcheck.File(t, pdf)
	pdfcheck.Packet(t, path, sub, rep)
	if carries(pdf, id) {
		t.Error("the packet's bytes hold the identity")
	}
	for _, name := range fontNames(t, path) {
		for _, u := range uploadFonts {
			if name == u {
				t.Errorf("pdffonts lists the upload's font %s in the packet", name)
			}
		}
	}
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
