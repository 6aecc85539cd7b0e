package pdfkit

import (
	"encoding/binary"
	"fmt"
)

// OutlinePoint is a point of a TrueType contour, in ems with y up.
// Between two off-curve points lies an implied on-curve point midway.
type OutlinePoint struct {
	X, Y    float64
	OnCurve bool
}

// GlyphOutline is the shape of one character: closed contours of
// quadratic curves as the font stores them, in ems, baseline at y = 0.
type GlyphOutline struct {
	Contours [][]OutlinePoint
	// Advance is the glyph's advance width in ems.
	Advance float64
}

// Outline returns the outline of r, for drawing a character as a shape
// rather than as text (a seal's lettering, which must not be extracted as
// text). golang.org/x/image/font/sfnt would do, but refuses fonts whose
// tables are not 4-byte aligned, such as Debian's AR PL UMing.
func (f *Font) Outline(r rune) (GlyphOutline, error) {
	g := f.glyph(r)
	if g.gid == 0 {
		return GlyphOutline{}, fmt.Errorf("%w: no glyph for %q", ErrFont, r)
	}
	cs, err := f.contours(g.gid, 0)
	if err != nil {
		return GlyphOutline{}, err
	}
	em := float64(f.unitsPerEm)
	out := GlyphOutline{Advance: float64(f.advance(g.gid)) / em}
	for _, c := range cs {
		pts := make([]OutlinePoint, len(c))
		for i, p := range c {
			pts[i] = OutlinePoint{X: p.X / em, Y: p.Y / em, OnCurve: p.OnCurve}
		}
		out.Contours = append(out.Contours, pts)
	}
	return out, nil
}

// contours parses a glyph's contours in font units, resolving composite
// glyphs to a bounded depth.
func (f *Font) contours(gid uint16, depth int) ([][]OutlinePoint, error) {
	if depth > 8 {
		return nil, fmt.Errorf("%w: composite glyphs nested too deep", ErrFont)
	}
	if int(gid) >= f.numGlyphs {
		return nil, fmt.Errorf("%w: glyph %d out of range", ErrFont, gid)
	}
	data, err := f.glyphData(gid)
	if err != nil || len(data) == 0 {
		return nil, err // an empty glyph, such as a space
	}
	if len(data) < 10 {
		return nil, fmt.Errorf("%w: glyph %d truncated", ErrFont, gid)
	}
	n := int(int16(binary.BigEndian.Uint16(data)))
	if n < 0 {
		return f.composite(data, depth)
	}
	short := func() error { return fmt.Errorf("%w: glyph %d truncated", ErrFont, gid) }
	p := 10
	if len(data) < p+2*n+2 {
		return nil, short()
	}
	ends := make([]int, n)
	for i := range ends {
		ends[i] = int(binary.BigEndian.Uint16(data[p+2*i:]))
	}
	p += 2 * n
	p += 2 + int(binary.BigEndian.Uint16(data[p:])) // instructions
	if n == 0 {
		return nil, nil
	}
	count := ends[n-1] + 1
	flags := make([]byte, 0, count)
	for len(flags) < count {
		if p >= len(data) {
			return nil, short()
		}
		fl := data[p]
		p++
		flags = append(flags, fl)
		if fl&0x08 != 0 { // REPEAT
			if p >= len(data) {
				return nil, short()
			}
			for k := 0; k < int(data[p]) && len(flags) < count; k++ {
				flags = append(flags, fl)
			}
			p++
		}
	}
	coords := func(shortBit, sameBit byte) ([]float64, error) {
		out := make([]float64, count)
		v := 0
		for i, fl := range flags {
			switch {
			case fl&shortBit != 0:
				if p >= len(data) {
					return nil, short()
				}
				d := int(data[p])
				p++
				if fl&sameBit == 0 {
					d = -d
				}
				v += d
			case fl&sameBit == 0:
				if p+2 > len(data) {
					return nil, short()
				}
				v += int(int16(binary.BigEndian.Uint16(data[p:])))
				p += 2
			}
			out[i] = float64(v)
		}
		return out, nil
	}
	xs, err := coords(0x02, 0x10)
	if err != nil {
		return nil, err
	}
	ys, err := coords(0x04, 0x20)
	if err != nil {
		return nil, err
	}
	var out [][]OutlinePoint
	start := 0
	for _, end := range ends {
		if end < start || end >= count {
			return nil, fmt.Errorf("%w: glyph %d has bad contour ends", ErrFont, gid)
		}
		c := make([]OutlinePoint, 0, end-start+1)
		for i := start; i <= end; i++ {
			c = append(c, OutlinePoint{X: xs[i], Y: ys[i], OnCurve: flags[i]&0x01 != 0})
		}
		out = append(out, c)
		start = end + 1
	}
	return out, nil
}

// composite assembles a composite glyph from its transformed components.
func (f *Font) composite(data []byte, depth int) ([][]OutlinePoint, error) {
	var out [][]OutlinePoint
	p := 10
	for {
		if p+4 > len(data) {
			return nil, fmt.Errorf("%w: composite glyph truncated", ErrFont)
		}
		flags := binary.BigEndian.Uint16(data[p:])
		gid := binary.BigEndian.Uint16(data[p+2:])
		p += 4
		var dx, dy float64
		if flags&0x0001 != 0 { // ARG_1_AND_2_ARE_WORDS
			if p+4 > len(data) {
				return nil, fmt.Errorf("%w: composite glyph truncated", ErrFont)
			}
			dx, dy = float64(int16(binary.BigEndian.Uint16(data[p:]))), float64(int16(binary.BigEndian.Uint16(data[p+2:])))
			p += 4
		} else {
			if p+2 > len(data) {
				return nil, fmt.Errorf("%w: composite glyph truncated", ErrFont)
			}
			dx, dy = float64(int8(data[p])), float64(int8(data[p+1]))
			p += 2
		}
		if flags&0x0002 == 0 { // point-matched placement: rare in CJK fonts; place at the origin
			dx, dy = 0, 0
		}
		a, b, c, d := 1.0, 0.0, 0.0, 1.0
		f2 := func(i int) float64 { return float64(int16(binary.BigEndian.Uint16(data[p+i:]))) / 16384 }
		switch {
		case flags&0x0008 != 0 && p+2 <= len(data): // WE_HAVE_A_SCALE
			a, d = f2(0), f2(0)
			p += 2
		case flags&0x0040 != 0 && p+4 <= len(data): // WE_HAVE_AN_X_AND_Y_SCALE
			a, d = f2(0), f2(2)
			p += 4
		case flags&0x0080 != 0 && p+8 <= len(data): // WE_HAVE_A_TWO_BY_TWO
			a, b, c, d = f2(0), f2(2), f2(4), f2(6)
			p += 8
		}
		cs, err := f.contours(gid, depth+1)
		if err != nil {
			return nil, err
		}
		for _, ct := range cs {
			t := make([]OutlinePoint, len(ct))
			for i, pt := range ct {
				t[i] = OutlinePoint{X: a*pt.X + c*pt.Y + dx, Y: b*pt.X + d*pt.Y + dy, OnCurve: pt.OnCurve}
			}
			out = append(out, t)
		}
		if flags&0x0020 == 0 { // MORE_COMPONENTS
			return out, nil
		}
	}
}

// Walk calls move once at the start of each contour, then line and quad
// for its pieces, closing it back to its start. TrueType contours are
// quadratic splines whose consecutive off-curve points imply an on-curve
// point halfway between them; Walk makes those explicit.
func (o GlyphOutline) Walk(move, line func(x, y float64), quad func(cx, cy, x, y float64)) {
	for _, c := range o.Contours {
		n := len(c)
		if n == 0 {
			continue
		}
		// Start on an on-curve point, or, when every point is off-curve,
		// at the implied point before c[0].
		first := -1
		for i, p := range c {
			if p.OnCurve {
				first = i
				break
			}
		}
		var sx, sy float64
		if first >= 0 {
			sx, sy = c[first].X, c[first].Y
		} else {
			sx, sy = (c[n-1].X+c[0].X)/2, (c[n-1].Y+c[0].Y)/2
		}
		move(sx, sy)
		var ctrl *OutlinePoint
		for k := 1; k <= n; k++ {
			i := first + k
			if first < 0 {
				i = k - 1
			}
			p := c[i%n]
			switch {
			case p.OnCurve && ctrl == nil:
				line(p.X, p.Y)
			case p.OnCurve:
				quad(ctrl.X, ctrl.Y, p.X, p.Y)
				ctrl = nil
			case ctrl == nil:
				q := p
				ctrl = &q
			default:
				quad(ctrl.X, ctrl.Y, (ctrl.X+p.X)/2, (ctrl.Y+p.Y)/2)
				q := p
				ctrl = &q
			}
		}
		if ctrl != nil {
			quad(ctrl.X, ctrl.Y, sx, sy)
		}
	}
}
