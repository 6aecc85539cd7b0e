package synth

import (
	"hash/fnv"
	"image"
	"math"
	"math/rand/v2"
)

// rng returns the random source for one page of one kind. It depends on the
// seed, the kind and the page only — never on the identity — so that a page
// drawn without its identity has the same text and the same noise.
func rng(o Options, kind string, page int) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(kind))
	return rand.New(rand.NewPCG(o.Seed, h.Sum64()^uint64(page)*0x9e3779b97f4a7c15))
}

// scanify makes a clean rendering look scanned: soft optics, uneven
// lighting towards the edges, a few specks of dust and a sprinkle of grain.
// Dense grain is left out on purpose: it would make PNG fixtures four times
// larger without making them any more realistic for the pipeline's checks.
func (c *canvas) scanify(r *rand.Rand) {
	img := c.img
	soften(img)
	b := img.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	// A lamp a little off centre, as flatbed scanners have.
	cx, cy := 0.45+0.1*r.Float64(), 0.45+0.1*r.Float64()
	tilt := 0.012 * (r.Float64() - 0.5)
	shade := make([]float64, b.Dx())
	for y := 0; y < b.Dy(); y++ {
		dy := float64(y)/h - cy
		for x := range shade {
			dx := float64(x)/w - cx
			shade[x] = 1 - 0.03*(dx*dx+dy*dy) + tilt*(float64(x)/w-0.5)
		}
		row := img.Pix[y*img.Stride : y*img.Stride+b.Dx()]
		for x, v := range row {
			row[x] = uint8(math.Min(255, math.Round(float64(v)*shade[x])))
		}
	}
	// Grain: one pixel in 256 nudged by up to three levels.
	for range len(img.Pix) / 256 {
		p := r.IntN(len(img.Pix))
		d := r.IntN(7) - 3
		img.Pix[p] = uint8(min(255, max(0, int(img.Pix[p])+d)))
	}
	// Dust: a few dozen small grey dots, the same number per area at any
	// resolution.
	n := int(c.w * c.h / 1200)
	for range n {
		x, y := r.Float64()*c.w, r.Float64()*c.h
		rad := 0.08 + 0.15*r.Float64()
		g := uint8(110 + r.IntN(100))
		c.dot(x, y, rad, g)
	}
}

// soften blurs by a 3×3 binomial kernel, about what a scanner's optics do
// at 150 ppi. It also keeps JPEG fixtures a quarter smaller.
func soften(img *image.Gray) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w < 3 || h < 3 {
		return
	}
	tmp := make([]uint8, w*h)
	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+w]
		for x := range w {
			l, r := max(x-1, 0), min(x+1, w-1)
			tmp[y*w+x] = uint8((int(row[l]) + 2*int(row[x]) + int(row[r]) + 2) / 4)
		}
	}
	for y := range h {
		u, d := max(y-1, 0), min(y+1, h-1)
		row := img.Pix[y*img.Stride : y*img.Stride+w]
		for x := range w {
			row[x] = uint8((int(tmp[u*w+x]) + 2*int(tmp[y*w+x]) + int(tmp[d*w+x]) + 2) / 4)
		}
	}
}

// dot darkens a small disc to at most grey level g.
func (c *canvas) dot(cx, cy, r float64, g uint8) {
	b := c.img.Bounds()
	px0, px1 := int((cx-r)*c.scale), int((cx+r)*c.scale)+1
	py0, py1 := int((cy-r)*c.scale), int((cy+r)*c.scale)+1
	for py := max(py0, b.Min.Y); py < min(py1, b.Max.Y); py++ {
		for px := max(px0, b.Min.X); px < min(px1, b.Max.X); px++ {
			dx := (float64(px)+0.5)/c.scale - cx
			dy := (float64(py)+0.5)/c.scale - cy
			if dx*dx+dy*dy <= r*r || (px == int(cx*c.scale) && py == int(cy*c.scale)) {
				i := c.img.PixOffset(px, py)
				c.img.Pix[i] = min(c.img.Pix[i], g)
			}
		}
	}
}

// finish applies the scan look and returns the page, or the first error met
// while drawing it. The noise has its own random source so that changing a
// page's text does not move its dust.
func (c *canvas) finish(kind string, page int) (Page, error) {
	if c.err != nil {
		return Page{}, c.err
	}
	c.scanify(rng(c.opt, kind+"/scan", page))
	return c.page, nil
}
