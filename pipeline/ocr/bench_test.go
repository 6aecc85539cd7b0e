package ocr_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline/ocr"
)

// BenchmarkCheckPacketPage is the cost of reading one packet page as a
// worker does — render with pdftoppm, prepare, Tesseract, match — for the
// two densest page kinds, scanned at 150 and 300 ppi and rendered at 150
// and 300 dpi. One page takes about a second, so run it with
// -benchtime=3x.
func BenchmarkCheckPacketPage(b *testing.B) {
	engine := requireTesseract(b)
	measureFontOnce.Do(func() { measureFont, measureFontErr = loadFont() })
	if measureFontErr != nil {
		b.Fatal(measureFontErr)
	}
	id := measureIDs[0]
	for _, kind := range []pageKind{measureKinds[0], measureKinds[2]} {
		for _, ppi := range []int{150, 300} {
			p, err := kind.draw(id, synth.Options{PPI: ppi})
			if err != nil {
				b.Fatal(err)
			}
			var masks []ocr.Rect
			for _, r := range append(p.Name, p.Employer...) {
				masks = append(masks, ocr.Rect(r))
			}
			pdf, err := onePagePacket(p, masks, 85)
			if err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(b.TempDir(), "packet.pdf")
			if err := os.WriteFile(path, pdf, 0o600); err != nil {
				b.Fatal(err)
			}
			for _, dpi := range []int{150, 300} {
				b.Run(fmt.Sprintf("%s/scan%d/render%d", kind.name, ppi, dpi), func(b *testing.B) {
					for b.Loop() {
						if _, _, err := ocr.CheckPacket(context.Background(), path,
							[]ocr.PacketPage{{PacketPage: 2, Page: 1, Masks: masks}},
							ocr.Identity{Name: id.Name, Employer: id.Employer}, ocr.PacketOptions{Engine: engine, DPI: dpi}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
