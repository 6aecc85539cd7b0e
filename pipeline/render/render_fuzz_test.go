package render

import (
	"context"
	"errors"
	"image"
	"math"
	"testing"
	"time"
)

// FuzzRender draws page 1 of arbitrary small files at a low resolution
// under a short deadline. Whatever the bytes, Render returns a page or an
// error wrapping ErrPage: any other error would be taken for the
// renderer's own failure and retried for ever.
func FuzzRender(f *testing.F) {
	f.Add(typedPage())
	f.Add(onePage("/MediaBox [0 0 595 842] /CropBox [50 600 400 800] /Rotate 90", "BT /F1 24 Tf 100 700 Td (Hello) Tj ET"))
	f.Add(onePage("/MediaBox [0 0 200 200] /UserUnit 2", "0 0 m 100 100 l S 1 0 0 rg 10 10 50 50 re f"))
	f.Add([]byte("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj"))
	r := renderer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		p, err := r.Render(context.Background(), data, 1, Options{PPI: 36, MaxPixels: 1 << 20, Timeout: 2 * time.Second})
		if err != nil {
			if !errors.Is(err, ErrPage) {
				t.Fatalf("error not the page's: %v", err)
			}
			return
		}
		b := p.Image.Bounds()
		if b.Dx() != int(math.Round(p.WidthPt*36/72)) || b.Dy() != int(math.Round(p.HeightPt*36/72)) || int64(b.Dx())*int64(b.Dy()) > 1<<20 {
			t.Fatalf("image %v for a %v×%v pt page", b, p.WidthPt, p.HeightPt)
		}
		switch p.Image.(type) {
		case *image.Gray, *image.RGBA:
		default:
			t.Fatalf("image is %T", p.Image)
		}
		for _, g := range p.Glyphs {
			for _, v := range g.Box {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("glyph %q box %v outside the page", g.Char, g.Box)
				}
			}
		}
	})
}
