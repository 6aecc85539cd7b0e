package pipeline_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/blindpack/blindpack/internal/pdfcheck"
	"github.com/blindpack/blindpack/internal/rawpdf"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/render"
)

// cjkBody is the work summary's running text, Chinese only (the font has
// no Latin glyph widths here), one string a line.
var cjkBody = []string{
	"个人专业技术工作总结",
	"本人自参加工作以来一直从事桥梁结构设计与施工图审查工作",
	"负责完成多个项目技术方案的编制论证和现场技术指导",
	"主持编写施工工艺流程三项并在本单位推广应用",
	"参与制定企业技术标准两项解决关键技术难题多项",
	"注重学习新规范新技术积极参加继续教育和业务培训",
	"今后将继续努力提高专业技术水平为企业发展贡献力量",
}

// hexText is s as a PDF hex string of 16-bit code units (UCS-2 for the
// BMP), the codes of the UniGB-UCS2-H and UniGB-UTF16-H CMaps.
func hexText(s string) string {
	var b strings.Builder
	b.WriteByte('<')
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteByte('>')
	return b.String()
}

// nonEmbeddedCJK writes the one-page work summary as the PDF generators
// of Chinese office systems write it when they do not embed the font: a
// Type0 font naming a system font (cmap and CIDFont given), no font
// file. The page also has a line in Helvetica, a standard font every
// reader has. qpdf then rewrites the file (object streams, compressed
// content), as a PDF tool in the applicant's chain would.
func nonEmbeddedCJK(t *testing.T, dir string, id pipeline.Identity, base, cidType, cmap string) {
	t.Helper()
	var b rawpdf.Builder
	desc := b.Add(fmt.Sprintf("<</Type /FontDescriptor /FontName /%s /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93>>", base))
	cid := b.Add(fmt.Sprintf("<</Type /Font /Subtype /%s /BaseFont /%s /CIDSystemInfo <</Registry (Adobe) /Ordering (GB1) /Supplement 2>> /FontDescriptor %d 0 R /DW 1000>>", cidType, base, desc))
	cjk := b.Add(fmt.Sprintf("<</Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /%s /DescendantFonts [%d 0 R]>>", base, cmap, cid))
	helv := b.Add("<</Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding>>")
	var c strings.Builder
	line := func(y float64, s string) { fmt.Fprintf(&c, "BT /F1 12 Tf 72 %.0f Td %s Tj ET\n", y, hexText(s)) }
	line(770, cjkBody[0])
	// Label, a gap, the value: pdftotext sees the value as a word of its own.
	fmt.Fprintf(&c, "BT /F1 12 Tf 72 740 Td %s Tj 48 0 Td %s Tj ET\n", hexText("姓名："), hexText(id.Name))
	fmt.Fprintf(&c, "BT /F1 12 Tf 72 720 Td %s Tj 72 0 Td %s Tj ET\n", hexText("工作单位："), hexText(id.Employer))
	for i, s := range cjkBody[1:] {
		line(690-float64(i)*24, s)
	}
	c.WriteString("BT /F2 11 Tf 72 500 Td (Work summary 2024: structural design review.) Tj ET\n")
	os.WriteFile(filepath.Join(dir, "raw.pdf"), b.Bytes([]rawpdf.Page{{MediaBox: "0 0 595 842", Content: c.String(),
		Resources: fmt.Sprintf("<</Font <</F1 %d 0 R /F2 %d 0 R>>>>", cjk, helv)}}, ""), 0o644)
	sh(t, dir, "qpdf", "--object-streams=generate", "--compress-streams=y", "raw.pdf", "summary.pdf")
}

// TestNonEmbeddedCJKFontIsDrawn: a typed PDF whose Chinese font is not
// embedded (STSong-Light with UniGB-UCS2-H, as iText-based systems write
// it; SimSun as a CIDFontType2 with UniGB-UTF16-H) is drawn with the
// renderer's fallback CJK font: accepted, masked where pdftotext finds
// the name and employer, and in a pdftoppm render of the packet the
// Chinese lines carry as much ink as poppler's own render of the upload
// (poppler finds a system font too), not the blank a renderer without a
// fallback draws.
func TestNonEmbeddedCJKFontIsDrawn(t *testing.T) {
	p := newPipeline(t)
	for _, tt := range []struct{ name, base, cidType, cmap string }{
		{"STSong-Light UniGB-UCS2-H", "STSong-Light", "CIDFontType0", "UniGB-UCS2-H"},
		{"SimSun UniGB-UTF16-H", "SimSun", "CIDFontType2", "UniGB-UTF16-H"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, sub := sample(t, "eng-intermediate")
			id := sub.Identity
			nonEmbeddedCJK(t, dir, id, tt.base, tt.cidType, tt.cmap)
			upload := filepath.Join(dir, "summary.pdf")
			fonts := output(t, "pdffonts", upload)
			if !strings.Contains(fonts, tt.base) || !strings.Contains(fonts, " no ") {
				t.Fatalf("pdffonts: want %s not embedded:\n%s", tt.base, fonts)
			}
			if txt := output(t, "pdftotext", upload, "-"); !strings.Contains(txt, "桥梁结构设计") {
				t.Fatalf("pdftotext does not read the upload's Chinese: %q", txt)
			}
			masks := wordMasks(t, upload, id)
			m := material(sub, "performance_summary")
			m.File, m.Masks = "summary.pdf", masks
			rep, pdf := process(t, p, dir, sub)
			path := checkClean(t, rep, pdf, sub)
			noUploadFonts(t, path, fontNames(t, upload))
			pg := 0
			for _, e := range rep.Packet.Index {
				if e.Type == "performance_summary" {
					pg = e.Pages[0][1]
				}
			}
			// Each body line, below the masked identity, has ink in the
			// packet: a Song face is lighter than poppler's choice, so
			// the measure is generous, but a line drawn blank has none.
			up, pk := pdfcheck.Render(t, upload, 1, 100), pdfcheck.Render(t, path, pg, 100)
			for i, s := range cjkBody[1:] {
				y := 690 - float64(i)*24
				line := [4]float64{72.0 / 595, 1 - (y+11)/842, (72 + 12*float64(len([]rune(s)))) / 595, 1 - (y-3)/842}
				_, lightUp := pdfcheck.Dark(up, line, 0)
				_, lightPk := pdfcheck.Dark(pk, line, 0)
				if 1-lightUp < 0.02 {
					t.Fatalf("poppler draws line %d of the upload with ink %.4f: no CJK font (or poppler-data) on this machine?", i+1, 1-lightUp)
				}
				if 1-lightPk < (1-lightUp)/5 {
					t.Errorf("line %d: ink %.4f in the packet, %.4f in poppler's render of the upload: the text was not drawn", i+1, 1-lightPk, 1-lightUp)
				}
			}
		})
	}
}

// TestNonEmbeddedCJKFontWithoutFallback: on a worker without fallback
// fonts (here the test binary run again with none), the same upload is
// refused with font_not_embedded, in Chinese and English, and no packet
// is written: not accepted with its Chinese text missing.
func TestNonEmbeddedCJKFontWithoutFallback(t *testing.T) {
	if os.Getenv("BLINDPACK_TEST_NO_FONTS") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNonEmbeddedCJKFontWithoutFallback$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "BLINDPACK_TEST_NO_FONTS=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestNonEmbeddedCJKFontWithoutFallback") {
			t.Fatalf("the test without fallback fonts: %v\n%s", err, out)
		}
		return
	}
	render.DefaultFonts = nil // before the renderer's first use in this process
	p := newPipeline(t)
	dir, sub := sample(t, "eng-intermediate")
	nonEmbeddedCJK(t, dir, sub.Identity, "STSong-Light", "CIDFontType0", "UniGB-UCS2-H")
	m := material(sub, "performance_summary")
	m.File, m.Masks = "summary.pdf", wordMasks(t, filepath.Join(dir, "summary.pdf"), sub.Identity)
	rep, _ := process(t, p, dir, sub)
	if rep.Status != pipeline.Rejected || rep.Packet != nil {
		t.Fatalf("status %s, packet %v, findings %+v; want rejected, no packet", rep.Status, rep.Packet, rep.Findings)
	}
	var found bool
	for _, f := range rep.Findings {
		if f.Code == finding.FontNotEmbedded {
			found = true
			if f.Page != 1 || f.Type != "performance_summary" || !strings.Contains(f.MessageZH, "嵌入字体") || !strings.Contains(f.MessageEN, "embed fonts") || strings.Contains(f.MessageZH+f.MessageEN, "{") {
				t.Errorf("finding %+v", f)
			}
		}
	}
	if !found {
		t.Fatalf("findings %+v, want font_not_embedded", rep.Findings)
	}
}
