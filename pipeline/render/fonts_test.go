package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf16"
)

// cjkPage is an A4 page with a line of Chinese in STSong-Light through
// the UniGB-UCS2-H cmap, the font not embedded (as iText and the Chinese
// office systems built on it write), and a line in Helvetica.
func cjkPage(text string) []byte {
	var hex strings.Builder
	for _, u := range utf16.Encode([]rune(text)) {
		fmt.Fprintf(&hex, "%04X", u)
	}
	content := "BT /F2 36 Tf 100 700 Td <" + hex.String() + "> Tj ET BT /F1 24 Tf 100 600 Td (Latin) Tj ET"
	return pdfOf([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R /F2 6 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [7 0 R] >>",
		"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 8 0 R /DW 1000 >>",
		"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
	})
}

// TestNonEmbeddedCJKFont: the default renderer draws a Chinese font the
// file does not embed with its fallback font (ink in every character's
// box); a renderer without fallback fonts refuses the page with
// ErrFontMissing rather than draw it blank, but draws a page whose only
// font that is not embedded is a Latin standard font.
func TestNonEmbeddedCJKFont(t *testing.T) {
	if newFontFS(DefaultFonts) == nil {
		t.Fatalf("none of %v: apt-get install fonts-wqy-zenhei", DefaultFonts)
	}
	const text = "中文字体未嵌入"
	pdf := cjkPage(text)
	p, err := renderer(t).Render(context.Background(), pdf, 1, Options{PPI: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	n := 0
	for _, g := range p.Glyphs {
		got.WriteRune(g.Char)
		if strings.ContainsRune(text, g.Char) {
			n++
			if !dark(p.Image, g.Box, 0) {
				t.Errorf("no ink in the box %v of %q", g.Box, g.Char)
			}
		}
	}
	if n != len([]rune(text)) {
		t.Fatalf("text layer %q, want %q in it", got.String(), text)
	}

	bare, err := New(Config{NoFonts: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	if _, err := bare.Render(context.Background(), pdf, 1, Options{PPI: 100}); !errors.Is(err, ErrFontMissing) || !errors.Is(err, ErrPage) {
		t.Errorf("without fallback fonts: err = %v, want ErrFontMissing", err)
	}
	if _, err := bare.Render(context.Background(), typedPage(), 1, Options{PPI: 100}); err != nil {
		t.Errorf("without fallback fonts, a Helvetica page: %v", err)
	}
}

// TestFontFSShowsOnlyTheFonts: the module's file system holds the font
// files under usr/share/fonts (two of one name both kept) and nothing
// else of the host.
func TestFontFSShowsOnlyTheFonts(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, p := range []string{"a/font.ttf", "b/font.ttf", "c/other.ttc"} {
		path := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte("font "+p), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	f := newFontFS(append([]string{filepath.Join(dir, "missing.ttf"), dir}, paths...))
	want := []string{fontDir + "/3-font.ttf", fontDir + "/font.ttf", fontDir + "/other.ttc"}
	if err := fstest.TestFS(f, want...); err != nil {
		t.Fatal(err)
	}
	var all []string
	fs.WalkDir(f, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			all = append(all, p)
		}
		return err
	})
	if strings.Join(all, ",") != strings.Join(want, ",") {
		t.Errorf("files %v, want only %v", all, want)
	}
	if data, err := fs.ReadFile(f, fontDir+"/3-font.ttf"); err != nil || string(data) != "font b/font.ttf" {
		t.Errorf("3-font.ttf: %q, %v", data, err)
	}
	for _, p := range []string{"etc/passwd", "usr/share/fonts/../../../etc/passwd", "usr/share/X11/fonts/TTF", "/etc/passwd", fontDir + "/missing.ttf"} {
		if _, err := f.Open(p); err == nil {
			t.Errorf("Open(%q) succeeded", p)
		}
	}
	if newFontFS([]string{filepath.Join(dir, "missing.ttf")}) != nil {
		t.Error("a font file system with no font")
	}
}
