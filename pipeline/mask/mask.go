package mask

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/blindpack/blindpack/pipeline/scan"
)

// Rect is a masking rectangle [x0, y0, x1, y1] in fractions of the displayed
// page, origin at the top left.
type Rect [4]float64

// Valid reports whether r lies within the page and has an area.
func (r Rect) Valid() bool {
	for _, v := range r {
		if math.IsNaN(v) || v < 0 || v > 1 {
			return false
		}
	}
	return r[0] < r[2] && r[1] < r[3]
}

// Stored maps r to pixels of the page's stored image, rounded outward: a
// pixel even partly under the mask is masked. The result is clipped to the
// image and may be empty when the mask lies on the page's margin, off the
// image.
func Stored(p *scan.Page, r Rect) image.Rectangle {
	pl := p.Placement
	pw, ph := pl[2]-pl[0], pl[3]-pl[1]
	// A page without pixels (scan.Open returns none) has nothing to mask,
	// and image.Rect would turn a negative size into a positive one.
	if pw <= 0 || ph <= 0 || p.Width <= 0 || p.Height <= 0 {
		return image.Rectangle{}
	}
	// Displayed page fractions → fractions of the displayed image.
	u0, v0 := (r[0]-pl[0])/pw, (r[1]-pl[1])/ph
	u1, v1 := (r[2]-pl[0])/pw, (r[3]-pl[1])/ph
	s0, t0 := p.Orientation.ToStored(u0, v0)
	s1, t1 := p.Orientation.ToStored(u1, v1)
	w, h := float64(p.Width), float64(p.Height)
	// A tiny epsilon keeps a boundary that falls exactly on a pixel edge
	// from being pushed out by floating-point noise.
	const eps = 1e-9
	px0 := int(math.Floor(math.Min(s0, s1)*w + eps))
	py0 := int(math.Floor(math.Min(t0, t1)*h + eps))
	px1 := int(math.Ceil(math.Max(s0, s1)*w - eps))
	py1 := int(math.Ceil(math.Max(t0, t1)*h - eps))
	return image.Rect(px0, py0, px1, py1).Intersect(image.Rect(0, 0, p.Width, p.Height))
}

// StoredAll is Stored of each of rs, in order.
func StoredAll(p *scan.Page, rs []Rect) []image.Rectangle {
	out := make([]image.Rectangle, 0, len(rs))
	for _, r := range rs {
		out = append(out, Stored(p, r))
	}
	return out
}

// Burn paints rects black in img and returns the image it painted, which is
// img itself when that is one of the writable 8-bit types and a normalised
// copy otherwise.
func Burn(img image.Image, rects []image.Rectangle) image.Image {
	out := Normalize(img)
	for _, r := range rects {
		r = r.Intersect(out.Bounds())
		if r.Empty() {
			continue
		}
		switch m := out.(type) {
		case *image.Gray:
			draw.Draw(m, r, image.Black, image.Point{}, draw.Src)
		case *image.RGBA:
			draw.Draw(m, r, image.NewUniform(color.RGBA{0, 0, 0, 255}), image.Point{}, draw.Src)
		case *image.CMYK:
			draw.Draw(m, r, image.NewUniform(color.CMYK{0, 0, 0, 255}), image.Point{}, draw.Src)
		case *image.YCbCr:
			burnYCbCr(m, r)
		}
	}
	return out
}

// burnYCbCr sets luma to black and chroma to neutral. A chroma sample shared
// with pixels just outside r turns them grey, never reveals anything.
func burnYCbCr(m *image.YCbCr, r image.Rectangle) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		i := m.YOffset(r.Min.X, y)
		clear(m.Y[i : i+r.Dx()])
		for x := r.Min.X; x < r.Max.X; x++ {
			c := m.COffset(x, y)
			m.Cb[c], m.Cr[c] = 128, 128
		}
	}
}

// Normalize returns img as one of *image.Gray, *image.YCbCr, *image.RGBA or
// *image.CMYK, converting anything else: 16-bit samples are reduced to 8,
// palettes expanded, and transparency flattened onto white paper, as the
// page would look printed.
func Normalize(img image.Image) image.Image {
	switch m := img.(type) {
	case *image.Gray, *image.YCbCr, *image.RGBA, *image.CMYK:
		return m
	case *image.Gray16:
		out := image.NewGray(m.Bounds())
		for i := range out.Pix {
			out.Pix[i] = m.Pix[2*i]
		}
		if m.Stride != 2*out.Stride {
			draw.Draw(out, out.Bounds(), m, m.Bounds().Min, draw.Src)
		}
		return out
	}
	b := img.Bounds()
	out := image.NewRGBA(b)
	draw.Draw(out, b, image.White, image.Point{}, draw.Src)
	draw.Draw(out, b, img, b.Min, draw.Over)
	return out
}
