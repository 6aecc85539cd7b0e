package result

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strings"
	"unicode/utf8"

	"golang.org/x/image/vector"

	"github.com/blindpack/blindpack/internal/pdfkit"
)

// SealSpec says what the round seal shows.
type SealSpec struct {
	// Name runs along the top of the seal, inside the ring: the issuing
	// authority's full name.
	Name string
	// Code runs along the bottom (印章编码); optional.
	Code string
	// Diameter in millimetres; 0 means 42, the common size of an
	// authority's official seal.
	Diameter float64
}

// Seal is a round seal drawn from vector shapes: the same shapes are drawn
// into the page and rasterised for the signature's visible appearance, so
// the two coincide. All lengths are millimetres, origin at the centre, y up.
type Seal struct {
	Diameter float64
	plain    []outline // ring and star
	glyphs   []outline // the characters, drawn thickened by bold
	bold     float64   // mm added around each glyph, since seal type is heavier than book type
}

type point struct{ x, y float64 }

// seg is one outline segment: 'M'ove, 'L'ine, 'Q'uadratic or 'C'ubic,
// with its control and end points in p.
type seg struct {
	op byte
	p  [3]point
}

type outline []seg

func (o outline) transform(f func(point) point) outline {
	out := make(outline, len(o))
	for i, s := range o {
		out[i] = seg{op: s.op, p: [3]point{f(s.p[0]), f(s.p[1]), f(s.p[2])}}
	}
	return out
}

// circle approximates a circle by four cubic arcs, counter-clockwise or
// clockwise; a clockwise circle inside a counter-clockwise one is a hole.
func circle(r float64, clockwise bool) outline {
	const k = 0.5522847498307936
	s := 1.0
	if clockwise {
		s = -1
	}
	o := outline{{op: 'M', p: [3]point{{r, 0}}}}
	for i := 0; i < 4; i++ {
		a0, a1 := s*float64(i)*math.Pi/2, s*float64(i+1)*math.Pi/2
		c0, s0, c1, s1 := math.Cos(a0), math.Sin(a0), math.Cos(a1), math.Sin(a1)
		o = append(o, seg{op: 'C', p: [3]point{
			{r * (c0 - s*k*s0), r * (s0 + s*k*c0)},
			{r * (c1 + s*k*s1), r * (s1 - s*k*c1)},
			{r * c1, r * s1},
		}})
	}
	return o
}

// star is a regular five-pointed star of circumradius r, point up,
// counter-clockwise.
func star(r float64) outline {
	inner := r * math.Sin(math.Pi/10) / math.Sin(7*math.Pi/10) // the pentagram's own proportion
	var o outline
	for i := 0; i < 10; i++ {
		rad := r
		if i%2 == 1 {
			rad = inner
		}
		a := math.Pi/2 + float64(i)*math.Pi/5
		op := byte('L')
		if i == 0 {
			op = 'M'
		}
		o = append(o, seg{op: op, p: [3]point{{rad * math.Cos(a), rad * math.Sin(a)}}})
	}
	return o
}

// glyphSource gives character outlines, in ems with y up, and advances.
type glyphSource struct {
	f       *pdfkit.Font
	descent float64 // ems below the baseline of the em box
}

func newGlyphSource(f *pdfkit.Font) *glyphSource {
	d := f.Descent(1)
	if d <= 0 || d > 0.4 {
		d = 0.12 // the usual ideographic em box
	}
	return &glyphSource{f: f, descent: d}
}

// glyph returns the outline of r in ems (y up, baseline at 0) as
// segments, and its advance in ems.
func (g *glyphSource) glyph(r rune) (outline, float64, error) {
	gl, err := g.f.Outline(r)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: seal character %q: %v", ErrConfig, r, err)
	}
	var o outline
	gl.Walk(
		func(x, y float64) { o = append(o, seg{op: 'M', p: [3]point{{x, y}}}) },
		func(x, y float64) { o = append(o, seg{op: 'L', p: [3]point{{x, y}}}) },
		func(cx, cy, x, y float64) { o = append(o, seg{op: 'Q', p: [3]point{{cx, cy}, {x, y}}}) })
	return o, gl.Advance, nil
}

// NewSeal lays out a seal. Proportions follow common practice for a 42 mm
// official seal: a 1.2 mm ring, a star 14 mm across, the name in tall
// characters along up to 250° of the top, all scaled with the diameter.
func NewSeal(spec SealSpec, f *pdfkit.Font) (*Seal, error) {
	d := spec.Diameter
	if d == 0 {
		d = 42
	}
	if d < 20 || d > 60 {
		return nil, fmt.Errorf("%w: seal diameter %g mm out of 20–60 mm", ErrConfig, d)
	}
	if utf8.RuneCountInString(spec.Name) == 0 {
		return nil, fmt.Errorf("%w: seal without a name", ErrConfig)
	}
	gs := newGlyphSource(f)
	k := d / 42
	outer := d / 2
	inner := outer - 1.2*k
	s := &Seal{Diameter: d, bold: 0.06 * k}
	s.plain = append(s.plain, append(circle(outer, false), circle(inner, true)...), star(7*k))

	// The name: tall characters standing on an arc, tops outward, read
	// clockwise. Long names get narrower characters rather than a wider
	// arc; brackets take half a character's room, as they do in print.
	name := []rune(spec.Name)
	weight := func(r rune) float64 {
		if strings.ContainsRune("（）()·、", r) {
			return 0.5
		}
		return 1
	}
	n := 0.0
	for _, r := range name {
		n += weight(r)
	}
	h := 6.2 * k
	if n > 14 {
		h = 5.6 * k
	}
	top := inner - 0.8*k
	base := top - h
	mid := base + h/2
	step := 0.82 * h / mid // natural width, in radians at mid-height
	const maxSpan = 270 * math.Pi / 180
	if n*step > maxSpan {
		step = maxSpan / n
	}
	w := math.Min(0.82*h, 0.92*step*mid)
	at := -n / 2 * step
	for _, r := range name {
		cell := weight(r) * step
		phi := at + cell/2
		at += cell
		sin, cos := math.Sin(phi), math.Cos(phi)
		o, err := s.placeGlyph(gs, r, w*weight(r), h, func(u, v float64) point {
			return point{(base+v)*sin + u*cos, (base+v)*cos - u*sin}
		})
		if err != nil {
			return nil, err
		}
		s.glyphs = append(s.glyphs, o...)
	}

	// The code: small upright digits along the bottom, read left to right,
	// tops towards the centre.
	if code := []rune(spec.Code); len(code) > 0 {
		ch, cw := 2.6*k, 1.5*k
		cbase := inner - 0.8*k
		cstep := 1.2 * cw / (cbase - ch/2)
		cn := float64(len(code))
		for i, r := range code {
			psi := (float64(i) + 0.5 - cn/2) * cstep
			sin, cos := math.Sin(psi), math.Cos(psi)
			o, err := s.placeGlyph(gs, r, cw, ch, func(u, v float64) point {
				return point{(cbase-v)*sin + u*cos, -(cbase-v)*cos + u*sin}
			})
			if err != nil {
				return nil, err
			}
			s.glyphs = append(s.glyphs, o...)
		}
	}
	return s, nil
}

// placeGlyph scales the em box of r to w × h millimetres, centred on u = 0
// and standing on v = 0, and maps it through place.
func (s *Seal) placeGlyph(gs *glyphSource, r rune, w, h float64, place func(u, v float64) point) ([]outline, error) {
	o, adv, err := gs.glyph(r)
	if err != nil {
		return nil, err
	}
	if adv <= 0 {
		adv = 1
	}
	// A half-width glyph (a digit) keeps its proportion within the cell.
	sx := w / adv
	if adv < 0.75 {
		sx = w / 0.6
	}
	var out []outline
	var cur outline
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur.transform(func(p point) point {
				return place((p.x-adv/2)*sx, (p.y+gs.descent)*h)
			}))
		}
		cur = nil
	}
	for _, sg := range o {
		if sg.op == 'M' {
			flush()
		}
		cur = append(cur, sg)
	}
	flush()
	return out, nil
}

// Draw paints the seal into a page centred on (cx, cy), in points.
func (s *Seal) Draw(c *pdfkit.Canvas, cx, cy float64, col pdfkit.Color) {
	pt := func(p point) point { return point{cx + p.x*mmToPt, cy + p.y*mmToPt} }
	plain, glyphs := &pdfkit.Path{}, &pdfkit.Path{}
	for _, o := range s.plain {
		addPath(plain, o.transform(pt))
	}
	for _, o := range s.glyphs {
		addPath(glyphs, o.transform(pt))
	}
	c.FillPath(plain, col, false)
	c.FillPath(glyphs, col, false)
	// Stroking the outline thickens strokes by half the width on each side.
	c.StrokePath(glyphs, 2*s.bold*mmToPt, col)
}

func addPath(p *pdfkit.Path, o outline) {
	for _, s := range o {
		switch s.op {
		case 'M':
			p.MoveTo(s.p[0].x, s.p[0].y)
		case 'L':
			p.LineTo(s.p[0].x, s.p[0].y)
		case 'Q':
			p.QuadTo(s.p[0].x, s.p[0].y, s.p[1].x, s.p[1].y)
		case 'C':
			p.CurveTo(s.p[0].x, s.p[0].y, s.p[1].x, s.p[1].y, s.p[2].x, s.p[2].y)
		}
	}
	p.Close()
}

// Image rasterises the seal at dpi on a transparent square. Coverage is
// thresholded to fully opaque or fully clear: PDF readers blend an image
// and its soft mask with premultiplied colour, which would give soft edges
// a dark fringe; at print resolution the hard edge does not show.
func (s *Seal) Image(dpi float64, col color.NRGBA) *image.NRGBA {
	px := int(math.Ceil(s.Diameter / 25.4 * dpi))
	scale := float64(px) / s.Diameter
	r := s.Diameter / 2
	toPx := func(p point) point { return point{(p.x + r) * scale, (r - p.y) * scale} }
	mask := image.NewAlpha(image.Rect(0, 0, px, px))
	paint := func(os []outline, dx, dy float64) {
		z := vector.NewRasterizer(px, px)
		for _, o := range os {
			rasterize(z, o.transform(func(p point) point { return toPx(point{p.x + dx, p.y + dy}) }))
		}
		z.DrawOp = draw.Over
		z.Draw(mask, mask.Bounds(), image.Opaque, image.Point{})
	}
	paint(s.plain, 0, 0)
	// Thicken glyphs as Draw does, by painting them displaced around a
	// circle of radius bold.
	paint(s.glyphs, 0, 0)
	for i := 0; i < 12; i++ {
		a := float64(i) * math.Pi / 6
		paint(s.glyphs, s.bold*math.Cos(a), s.bold*math.Sin(a))
	}
	img := image.NewNRGBA(mask.Bounds())
	for i, a := range mask.Pix {
		if a >= 128 {
			img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = col.R, col.G, col.B, 255
		}
	}
	return img
}

func rasterize(z *vector.Rasterizer, o outline) {
	f := func(v float64) float32 { return float32(v) }
	for _, s := range o {
		switch s.op {
		case 'M':
			z.ClosePath()
			z.MoveTo(f(s.p[0].x), f(s.p[0].y))
		case 'L':
			z.LineTo(f(s.p[0].x), f(s.p[0].y))
		case 'Q':
			z.QuadTo(f(s.p[0].x), f(s.p[0].y), f(s.p[1].x), f(s.p[1].y))
		case 'C':
			z.CubeTo(f(s.p[0].x), f(s.p[0].y), f(s.p[1].x), f(s.p[1].y), f(s.p[2].x), f(s.p[2].y))
		}
	}
	z.ClosePath()
}

// PNG encodes Image as PNG.
func (s *Seal) PNG(dpi float64, col color.NRGBA) ([]byte, error) {
	var b bytes.Buffer
	if err := png.Encode(&b, s.Image(dpi, col)); err != nil {
		return nil, fmt.Errorf("result: encode seal: %w", err)
	}
	return b.Bytes(), nil
}
