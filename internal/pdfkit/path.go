package pdfkit

import (
	"fmt"
	"math"
	"strings"
)

// Path is an outline made of straight and curved segments, in points, for
// FillPath and StrokePath. Shapes such as a seal's ring, star and glyph
// outlines are drawn as paths rather than text, so that they stay out of
// the text a reader extracts. The zero Path is empty and ready to use.
type Path struct {
	b      strings.Builder
	cx, cy float64 // current point, for QuadTo
}

// MoveTo starts a new subpath at (x, y).
func (p *Path) MoveTo(x, y float64) {
	fmt.Fprintf(&p.b, "%s %s m ", Num(x), Num(y))
	p.cx, p.cy = x, y
}

// LineTo adds a straight segment to (x, y).
func (p *Path) LineTo(x, y float64) {
	fmt.Fprintf(&p.b, "%s %s l ", Num(x), Num(y))
	p.cx, p.cy = x, y
}

// CurveTo adds a cubic Bézier segment with control points (x1, y1) and
// (x2, y2), ending at (x3, y3).
func (p *Path) CurveTo(x1, y1, x2, y2, x3, y3 float64) {
	fmt.Fprintf(&p.b, "%s %s %s %s %s %s c ", Num(x1), Num(y1), Num(x2), Num(y2), Num(x3), Num(y3))
	p.cx, p.cy = x3, y3
}

// QuadTo adds a quadratic Bézier segment, as TrueType outlines use; PDF has
// only cubic curves, so it is raised to the equivalent cubic.
func (p *Path) QuadTo(qx, qy, x, y float64) {
	p.CurveTo(p.cx+2*(qx-p.cx)/3, p.cy+2*(qy-p.cy)/3, x+2*(qx-x)/3, y+2*(qy-y)/3, x, y)
}

// Close closes the current subpath with a straight segment to its start.
func (p *Path) Close() { p.b.WriteString("h ") }

// Circle adds a closed circle of radius r around (x, y), counter-clockwise
// or, with clockwise set, the other way round: with the nonzero rule, a
// circle inside another drawn the other way round is a hole (a ring).
func (p *Path) Circle(x, y, r float64, clockwise bool) {
	// Four cubic arcs; k places the control points for the least error.
	const k = 0.5522847498307936
	s := 1.0
	if clockwise {
		s = -1
	}
	p.MoveTo(x+r, y)
	for i := 0; i < 4; i++ {
		a0 := s * float64(i) * math.Pi / 2
		a1 := s * float64(i+1) * math.Pi / 2
		c0, s0 := math.Cos(a0), math.Sin(a0)
		c1, s1 := math.Cos(a1), math.Sin(a1)
		p.CurveTo(x+r*(c0-s*k*s0), y+r*(s0+s*k*c0), x+r*(c1+s*k*s1), y+r*(s1-s*k*c1), x+r*c1, y+r*s1)
	}
	p.Close()
}

// Empty reports whether nothing was added to p.
func (p *Path) Empty() bool { return p.b.Len() == 0 }

// FillPath fills p with the nonzero winding rule, or the even-odd rule.
func (c *Canvas) FillPath(p *Path, col Color, evenOdd bool) {
	if p.Empty() {
		return
	}
	op := "f"
	if evenOdd {
		op = "f*"
	}
	fmt.Fprintf(&c.buf, "q %s %s%s Q\n", col.ops("rg"), p.b.String(), op)
}

// StrokePath strokes p with round joins, in a line of the given width.
func (c *Canvas) StrokePath(p *Path, width float64, col Color) {
	if p.Empty() {
		return
	}
	fmt.Fprintf(&c.buf, "q %s %s w 1 j %sS Q\n", col.ops("RG"), Num(width), p.b.String())
}
