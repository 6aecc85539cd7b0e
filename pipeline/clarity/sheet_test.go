package clarity

import (
	"image"
	"image/color"
	"image/draw"
	"slices"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/blindpack/blindpack/internal/synth"
)

// framed lays a 150-ppi work-summary page, shrunk to scale, turned by angle
// degrees and moved by (dx, dy) pixels, on a desk of grey level desk in a
// frame the page's size: the geometry of a phone photo without its light.
func framed(t *testing.T, scale, angle float64, dx, dy int, desk uint8) *image.Gray {
	t.Helper()
	page, err := synth.PerformanceSummary(synth.Identity{Name: "赵新民", Employer: "新疆天润建设工程有限公司"}, 1, 1, synth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := page.Image.Bounds()
	small := imaging.Resize(page.Image, int(float64(b.Dx())*scale), 0, imaging.Lanczos)
	turned := imaging.Rotate(small, angle, color.Gray{desk})
	frame := imaging.New(b.Dx(), b.Dy(), color.Gray{desk})
	at := image.Pt((b.Dx()-turned.Bounds().Dx())/2+dx, (b.Dy()-turned.Bounds().Dy())/2+dy)
	frame = imaging.Paste(frame, turned, at)
	out := image.NewGray(frame.Bounds())
	draw.Draw(out, out.Bounds(), frame, image.Point{}, draw.Src)
	return out
}

// TestSheetGeometry: the skew the finder measures follows the sheet's turn,
// a sheet inside the frame is not cut, a sheet whose top runs out of the
// frame with its title is, and a scan (no desk) has no sheet at all.
func TestSheetGeometry(t *testing.T) {
	for _, c := range []struct {
		name          string
		img           *image.Gray
		photo         bool
		minSkew, maxS float64
		cut           bool
	}{
		{"scan", framed(t, 1, 0, 0, 0, 255), false, 0, 0, false},
		{"square on", framed(t, 0.7, 0, 0, 0, 70), true, 0, 1.5, false},
		{"turned 6°", framed(t, 0.7, 6, 0, 0, 70), true, 4.5, 7.5, false},
		{"turned 20°", framed(t, 0.6, 20, 0, 0, 70), true, 18, 22, false},
		{"top cut", framed(t, 0.8, 1, 0, -420, 70), true, 0, 3, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := measureAt(c.img, 150)
			if m.Photo != c.photo || m.Skew < c.minSkew || m.Skew > c.maxS || (m.CutOff > 3) != c.cut {
				t.Errorf("photo %v skew %.1f° cut %.1f%% (sheet %.0f%%); want photo %v, skew %.1f–%.1f°, cut %v",
					m.Photo, m.Skew, m.CutOff, m.SheetPercent, c.photo, c.minSkew, c.maxS, c.cut)
			}
		})
	}
}

// BenchmarkFindSheet is what looking for the sheet costs on a 150-ppi A4
// working image's tiles (the rest of the measure is BenchmarkMeasure's).
func BenchmarkFindSheet(b *testing.B) {
	img := framed(&testing.T{}, 0.7, 5, 0, 0, 70)
	buf := new(workBuf)
	var m Measures
	measureAt(img, 150)
	buf.measure(img.Pix, img.Rect.Dx(), img.Rect.Dy(), &m) // fills the tiles
	tw, th := (img.Rect.Dx()+tileSize-1)/tileSize, (img.Rect.Dy()+tileSize-1)/tileSize
	tiles := slices.Clone(buf.tiles)
	b.ReportAllocs()
	for b.Loop() {
		buf.findSheet(tiles, tw, th, img.Rect.Dx(), img.Rect.Dy(), &m)
	}
}
