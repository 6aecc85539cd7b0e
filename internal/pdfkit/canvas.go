package pdfkit

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Canvas collects the content stream of one page and the resources it uses.
// Coordinates are PDF points with the origin at the bottom left.
type Canvas struct {
	doc    *Doc
	buf    bytes.Buffer
	xobj   map[string]Ref
	fonts  map[string]Ref
	gs     map[string]Ref
	fontID map[*Font]string
	imgID  map[Ref]string
}

// NewCanvas starts an empty page content.
func (d *Doc) NewCanvas() *Canvas {
	return &Canvas{doc: d, xobj: map[string]Ref{}, fonts: map[string]Ref{}, gs: map[string]Ref{},
		fontID: map[*Font]string{}, imgID: map[Ref]string{}}
}

// Matrix is a PDF transformation matrix [a b c d e f].
type Matrix [6]float64

// DrawImage paints img into the unit square mapped by m.
func (c *Canvas) DrawImage(img Image, m Matrix) {
	name, ok := c.imgID[img.Ref]
	if !ok {
		name = fmt.Sprintf("Im%d", len(c.imgID))
		c.imgID[img.Ref] = name
		c.xobj[name] = img.Ref
	}
	fmt.Fprintf(&c.buf, "q %s cm /%s Do Q\n", m.String(), name)
}

func (m Matrix) String() string {
	s := make([]string, 6)
	for i, v := range m {
		s[i] = Num(v)
	}
	return strings.Join(s, " ")
}

// Color is an RGB colour with components in [0, 1].
type Color struct{ R, G, B float64 }

func (col Color) ops(op string) string {
	return fmt.Sprintf("%s %s %s %s", Num(col.R), Num(col.G), Num(col.B), op)
}

// Raw appends content operators as they are, for drawing the helpers here do
// not cover. The caller keeps the graphics state balanced.
func (c *Canvas) Raw(ops string) { c.buf.WriteString(ops + "\n") }

// FillRect fills a rectangle.
func (c *Canvas) FillRect(x, y, w, h float64, col Color) {
	fmt.Fprintf(&c.buf, "q %s %s %s %s %s re f Q\n", col.ops("rg"), Num(x), Num(y), Num(w), Num(h))
}

// Line strokes a straight line of the given width.
func (c *Canvas) Line(x0, y0, x1, y1, width float64, col Color) {
	fmt.Fprintf(&c.buf, "q %s %s w %s %s m %s %s l S Q\n", col.ops("RG"), Num(width), Num(x0), Num(y0), Num(x1), Num(y1))
}

// StrokeRect strokes the outline of a rectangle.
func (c *Canvas) StrokeRect(x, y, w, h, width float64, col Color) {
	fmt.Fprintf(&c.buf, "q %s %s w %s %s %s %s re S Q\n", col.ops("RG"), Num(width), Num(x), Num(y), Num(w), Num(h))
}

// TextStyle says how Text sets a string.
type TextStyle struct {
	Font  *Font
	Size  float64
	Color Color
	// Alpha is the opacity; 0 means opaque.
	Alpha float64
	// Angle rotates the text counter-clockwise, in degrees, around (x, y).
	Angle float64
}

// Text sets s with its baseline starting at (x, y).
func (c *Canvas) Text(x, y float64, s string, st TextStyle) {
	fid, ok := c.fontID[st.Font]
	if !ok {
		df := c.doc.font(st.Font)
		fid = fmt.Sprintf("F%d", len(c.fontID))
		c.fontID[st.Font] = fid
		c.fonts[fid] = df.ref
	}
	df := c.doc.font(st.Font)
	c.buf.WriteString("q ")
	if st.Alpha > 0 && st.Alpha < 1 {
		c.buf.WriteString("/" + c.alpha(st.Alpha) + " gs ")
	}
	rad := st.Angle * math.Pi / 180
	cos, sin := math.Cos(rad), math.Sin(rad)
	fmt.Fprintf(&c.buf, "BT %s /%s %s Tf %s Tm %s Tj ET Q\n", st.Color.ops("rg"), fid, Num(st.Size),
		Matrix{cos, sin, -sin, cos, x, y}.String(), df.encode(s))
}

// TextCentered sets s centred on x.
func (c *Canvas) TextCentered(x, y float64, s string, st TextStyle) {
	c.Text(x-st.Font.Width(s, st.Size)/2, y, s, st)
}

// TextRight sets s ending at x.
func (c *Canvas) TextRight(x, y float64, s string, st TextStyle) {
	c.Text(x-st.Font.Width(s, st.Size), y, s, st)
}

func (c *Canvas) alpha(a float64) string {
	r := c.doc.extGState(a)
	for name, ref := range c.gs {
		if ref == r {
			return name
		}
	}
	name := fmt.Sprintf("GS%d", len(c.gs))
	c.gs[name] = r
	return name
}

func (c *Canvas) resources() string {
	var b strings.Builder
	b.WriteString("<<")
	for _, group := range []struct {
		key string
		m   map[string]Ref
	}{{"Font", c.fonts}, {"XObject", c.xobj}, {"ExtGState", c.gs}} {
		if len(group.m) == 0 {
			continue
		}
		names := make([]string, 0, len(group.m))
		for n := range group.m {
			names = append(names, n)
		}
		sort.Strings(names)
		b.WriteString("/" + group.key + " <<")
		for _, n := range names {
			fmt.Fprintf(&b, "/%s %s ", n, group.m[n])
		}
		b.WriteString(">> ")
	}
	b.WriteString(">>")
	return b.String()
}
