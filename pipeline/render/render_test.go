package render

import (
	"context"
	"errors"
	"fmt"
	"image"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/blindpack/blindpack/internal/rawpdf"
)

// onePage writes a one-page PDF with a Helvetica font resource F1: page
// holds extra page-dictionary entries, content the content stream.
func onePage(page, content string) []byte {
	return pdfOf([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R " + page + " /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
	})
}

// pdfOf lays out objs as objects 1, 2, … with a cross-reference table;
// object 1 is the catalog.
func pdfOf(objs []string) []byte {
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return []byte(b.String())
}

func renderer(t testing.TB) *Renderer {
	t.Helper()
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// dark reports whether img has a pixel darker than mid-grey inside the
// fractional box (grown by pad pixels).
func dark(img image.Image, box [4]float64, pad int) bool {
	b := img.Bounds()
	x0, y0 := int(box[0]*float64(b.Dx()))-pad, int(box[1]*float64(b.Dy()))-pad
	x1, y1 := int(box[2]*float64(b.Dx()))+pad, int(box[3]*float64(b.Dy()))+pad
	for y := max(y0, 0); y < min(y1, b.Dy()); y++ {
		for x := max(x0, 0); x < min(x1, b.Dx()); x++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
				return true
			}
		}
	}
	return false
}

// TestRenderMapsTextOntoPixels draws a line of text on pages with every
// /Rotate and an offset CropBox, and checks that each glyph's box lies on
// its ink and that no ink lies outside the boxes: the text layer is in the
// frame of the drawn page.
func TestRenderMapsTextOntoPixels(t *testing.T) {
	r := renderer(t)
	const text = "Hello World"
	content := "BT /F1 24 Tf 100 700 Td (" + text + ") Tj ET"
	for _, tt := range []struct {
		name   string
		page   string
		w, h   float64 // displayed size in points
		inside [4]float64
	}{
		{"plain", "/MediaBox [0 0 595 842]", 595, 842, [4]float64{100.0 / 595, 1 - 750.0/842, 230.0 / 595, 1 - 690.0/842}},
		{"rotate 90", "/MediaBox [0 0 595 842] /Rotate 90", 842, 595, [4]float64{}},
		{"rotate 180", "/MediaBox [0 0 595 842] /Rotate 180", 595, 842, [4]float64{}},
		{"rotate 270", "/MediaBox [0 0 595 842] /Rotate 270", 842, 595, [4]float64{}},
		{"crop box", "/MediaBox [0 0 595 842] /CropBox [50 600 400 800]", 350, 200, [4]float64{50.0 / 350, 0, 180.0 / 350, 1}},
		{"crop box and rotate 90", "/MediaBox [0 0 595 842] /CropBox [50 600 400 800] /Rotate 90", 200, 350, [4]float64{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := r.Render(context.Background(), onePage(tt.page, content), 1, Options{PPI: 100})
			if err != nil {
				t.Fatal(err)
			}
			if p.WidthPt != tt.w || p.HeightPt != tt.h {
				t.Fatalf("page is %v×%v pt, want %v×%v", p.WidthPt, p.HeightPt, tt.w, tt.h)
			}
			b := p.Image.Bounds()
			if want := image.Rect(0, 0, int(tt.w*100/72+0.5), int(tt.h*100/72+0.5)); b != want {
				t.Fatalf("image %v, want %v", b, want)
			}
			if _, ok := p.Image.(*image.Gray); !ok {
				t.Errorf("black text on white drawn as %T, want *image.Gray", p.Image)
			}
			var got strings.Builder
			var union [4]float64
			union[0], union[1] = 1, 1
			for _, g := range p.Glyphs {
				got.WriteRune(g.Char)
				if g.Char == ' ' {
					if g.Box != ([4]float64{}) {
						t.Errorf("space has box %v", g.Box)
					}
					continue
				}
				if !dark(p.Image, g.Box, 0) {
					t.Errorf("no ink in the box %v of %q", g.Box, g.Char)
				}
				union = [4]float64{min(union[0], g.Box[0]), min(union[1], g.Box[1]), max(union[2], g.Box[2]), max(union[3], g.Box[3])}
			}
			if got.String() != text {
				t.Fatalf("text layer %q, want %q", got.String(), text)
			}
			const e = 1e-4 // pdfium's device coordinates are integers
			if tt.inside != ([4]float64{}) && (union[0] < tt.inside[0]-e || union[1] < tt.inside[1]-e || union[2] > tt.inside[2]+e || union[3] > tt.inside[3]+e) {
				t.Errorf("text at %v, want within %v", union, tt.inside)
			}
			// No ink outside the glyphs' boxes (a pixel of slack for
			// anti-aliasing).
			ink := func(x0, y0, x1, y1 float64) bool { return dark(p.Image, [4]float64{x0, y0, x1, y1}, 0) }
			px, py := 2/float64(b.Dx()), 2/float64(b.Dy())
			if ink(0, 0, 1, union[1]-py) || ink(0, union[3]+py, 1, 1) || ink(0, 0, union[0]-px, 1) || ink(union[2]+px, 0, 1, 1) {
				t.Errorf("ink outside the text boxes %v", union)
			}
		})
	}
}

// TestRenderOutsideCropBoxIsGone: what lies outside the CropBox is neither
// drawn nor in the text layer.
func TestRenderOutsideCropBoxIsGone(t *testing.T) {
	r := renderer(t)
	pdf := onePage("/MediaBox [0 0 595 842] /CropBox [0 0 595 400]", "BT /F1 24 Tf 100 700 Td (XYZ) Tj ET BT /F1 24 Tf 100 200 Td (Shown) Tj ET")
	p, err := r.Render(context.Background(), pdf, 1, Options{PPI: 72})
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, g := range p.Glyphs {
		got.WriteRune(g.Char)
	}
	if s := strings.TrimSpace(got.String()); s != "Shown" {
		t.Errorf("text layer %q, want only the visible %q", s, "Shown")
	}
}

func TestRenderRefusesBadInput(t *testing.T) {
	r := renderer(t)
	for _, tt := range []struct {
		name string
		pdf  []byte
		n    int
		opt  Options
		want error
	}{
		{"not a PDF", []byte("%PDF-1.4\nnothing here"), 1, Options{}, ErrPage},
		{"no such page", onePage("/MediaBox [0 0 595 842]", ""), 2, Options{}, ErrPage},
		{"too many pixels", onePage("/MediaBox [0 0 14400 14400]", ""), 1, Options{}, ErrTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Render(context.Background(), tt.pdf, tt.n, tt.opt)
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrPage) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestRenderDeadlineStopsAPage draws a page with a million path segments
// under a deadline far shorter than it needs: it is stopped, reported as
// the page's failure, and the next page is drawn by a fresh instance.
func TestRenderDeadlineStopsAPage(t *testing.T) {
	r := renderer(t)
	var c strings.Builder
	for i := range 200_000 {
		fmt.Fprintf(&c, "%d %d m %d %d l S\n", i%500, i%800, (i*7)%500, (i*13)%800)
	}
	start := time.Now()
	_, err := r.Render(context.Background(), onePage("/MediaBox [0 0 595 842]", c.String()), 1, Options{Timeout: 20 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrPage) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	t.Logf("stopped after %v", time.Since(start))
	if _, err := r.Render(context.Background(), onePage("/MediaBox [0 0 595 842]", "BT /F1 24 Tf 100 700 Td (Next) Tj ET"), 1, Options{}); err != nil {
		t.Fatalf("the page after a stopped one: %v", err)
	}
}

// TestRenderCancelledContext: a caller's cancelled context is its error,
// not the page's.
func TestRenderCancelledContext(t *testing.T) {
	r := renderer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.Render(ctx, onePage("/MediaBox [0 0 595 842]", ""), 1, Options{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrPage) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// typedPage is an A4 page of 50 lines of 10-pt text.
func typedPage() []byte {
	var c strings.Builder
	c.WriteString("BT /F1 10 Tf 12 TL 56 780 Td\n")
	for i := range 50 {
		fmt.Fprintf(&c, "(%02d The quick brown fox jumps over the lazy dog; structural design review and drawings.) '\n", i)
	}
	c.WriteString("ET")
	return onePage("/MediaBox [0 0 595 842]", c.String())
}

// BenchmarkRenderTypedPage draws a typed A4 page at 200 ppi: the render
// path's cost per page (report CPU time with -cpu 1). "all boxes" reads
// the text layer with every character's box, "match boxes" the text and
// the boxes of one word (what the identity check asks for), "no text"
// only draws (a material reviewers do not see).
func BenchmarkRenderTypedPage(b *testing.B) {
	r := renderer(b)
	pdf := typedPage()
	for _, bb := range []struct {
		name string
		opt  Options
	}{
		{"all boxes", Options{PPI: 200}},
		{"match boxes", Options{PPI: 200, Boxes: func(text []rune) [][2]int {
			if i := strings.Index(string(text), "lazy"); i >= 0 {
				n := len([]rune(string(text)[:i]))
				return [][2]int{{n, n + 4}}
			}
			return nil
		}}},
		{"no text", Options{PPI: 200, SkipText: true}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Render(context.Background(), pdf, 1, bb.opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestRenderDrawsAnnotations: what a viewer shows of a page's annotations
// — a filled-in form field, a stamp — is drawn and its text read with the
// page's, so a name typed into a form field is seen by the identity check;
// a hidden annotation stays out.
func TestRenderDrawsAnnotations(t *testing.T) {
	var b rawpdf.Builder
	font := b.Add("<</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>")
	field := b.Stream(fmt.Sprintf("/Type /XObject /Subtype /Form /BBox [0 0 200 30] /Resources <</Font <</F1 %d 0 R>>>>", font),
		[]byte("/Tx BMC BT /F1 18 Tf 5 8 Td (Zhang San) Tj ET EMC"))
	ink := b.Stream("/Type /XObject /Subtype /Form /BBox [0 0 200 30]", []byte("0 0 0 rg 0 0 200 30 re f"))
	widget := b.Add(fmt.Sprintf("<</Type /Annot /Subtype /Widget /FT /Tx /T (name) /V (Zhang San) /Rect [100 700 300 730] /F 4 /AP <</N %d 0 R>>>>", field))
	stamp := b.Add(fmt.Sprintf("<</Type /Annot /Subtype /Stamp /Rect [100 400 300 430] /F 4 /AP <</N %d 0 R>>>>", ink))
	hidden := b.Add(fmt.Sprintf("<</Type /Annot /Subtype /Stamp /Rect [100 200 300 230] /F 2 /AP <</N %d 0 R>>>>", ink))
	pdf := b.Bytes([]rawpdf.Page{{MediaBox: "0 0 595 842", Content: "BT /F1 12 Tf 100 800 Td (Form) Tj ET",
		Resources: fmt.Sprintf("<</Font <</F1 %d 0 R>>>>", font), Extra: fmt.Sprintf(" /Annots [%d 0 R %d 0 R %d 0 R]", widget, stamp, hidden)}},
		fmt.Sprintf(" /AcroForm <</Fields [%d 0 R]>>", widget))
	p, err := renderer(t).Render(context.Background(), pdf, 1, Options{PPI: 72})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, g := range p.Glyphs {
		text.WriteRune(g.Char)
		if !unicode.IsSpace(g.Char) && (g.Box[0] < 100.0/595-0.01 || g.Box[3] > 1-700.0/842+0.01) && !strings.Contains("Form", string(g.Char)) {
			t.Errorf("glyph %q at %v, outside the field and the page's line", g.Char, g.Box)
		}
	}
	if !strings.Contains(text.String(), "Zhang San") {
		t.Errorf("the form field's text is not in the text layer: %q", text.String())
	}
	field01 := [4]float64{105.0 / 595, 1 - 725.0/842, 200.0 / 595, 1 - 705.0/842}
	stamp01 := [4]float64{110.0 / 595, 1 - 425.0/842, 290.0 / 595, 1 - 405.0/842}
	hidden01 := [4]float64{100.0 / 595, 1 - 230.0/842, 300.0 / 595, 1 - 200.0/842}
	if !dark(p.Image, field01, 0) || !dark(p.Image, stamp01, 0) {
		t.Error("the form field or the stamp is not drawn")
	}
	if dark(p.Image, hidden01, 2) {
		t.Error("a hidden annotation is drawn")
	}
}
