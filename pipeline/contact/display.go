package contact

import (
	"image"
	"image/draw"

	"github.com/disintegration/imaging"

	"github.com/blindpack/blindpack/pipeline/scan"
)

// Display draws a decoded stored page image as the page is displayed —
// oriented, placed on the page, fitted in maxW×maxH — with the page's
// masks (displayed fractions) outlined in blue, not burned: it is for an
// administrator checking that each mask covers what it must, so what lies
// under a mask stays visible. It is Thumbnail at any size.
func Display(p *scan.Page, img image.Image, maxW, maxH int, masks [][4]float64) *image.RGBA {
	if p.WidthPt <= 0 || p.HeightPt <= 0 || maxW < 1 || maxH < 1 {
		return image.NewRGBA(image.Rect(0, 0, 1, 1))
	}
	// Shrink first, in the stored orientation: decoding is done, but
	// turning a 300-ppi page is not free.
	side := max(maxW, maxH)
	small := orient(imaging.Fit(img, side, side, imaging.Linear), p.Orientation)
	w, h := maxW, int(float64(maxW)*p.HeightPt/p.WidthPt)
	if h > maxH {
		w, h = int(float64(maxH)*p.WidthPt/p.HeightPt), maxH
	}
	w, h = max(w, 1), max(h, 1)
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	pl := p.Placement
	r := image.Rect(int(pl[0]*float64(w)), int(pl[1]*float64(h)), int(pl[2]*float64(w)), int(pl[3]*float64(h)))
	if r.Dx() > 0 && r.Dy() > 0 {
		draw.Draw(out, r, imaging.Resize(small, r.Dx(), r.Dy(), imaging.Linear), image.Point{}, draw.Over)
	}
	// Lines thick enough to see at a glance, thin enough not to hide
	// the edge of what the mask covers.
	width := max(1, w/300)
	for _, m := range masks {
		mr := image.Rect(int(m[0]*float64(w)), int(m[1]*float64(h)), int(m[2]*float64(w))+1, int(m[3]*float64(h))+1)
		box(out, mr.Inset(-width), blue, width)
	}
	return out
}

// orient turns a stored image into the displayed one (EXIF orientation).
func orient(img image.Image, o scan.Orientation) image.Image {
	switch o {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img)
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return img
}
