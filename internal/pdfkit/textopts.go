package pdfkit

import (
	"fmt"
	"math"
	"unicode/utf8"
)

// TextOptions are the text-state settings that typeset documents need
// beyond TextStyle: character spacing to fit a line grid, horizontal
// scaling for long headings, and a stroke that makes a faux bold when a
// font family has no bold face (Debian's Song/Ming fonts have none).
// The zero value sets text exactly as Text does.
type TextOptions struct {
	// CharSpacing is added after every character, in unscaled points
	// (PDF's Tc); negative values tighten.
	CharSpacing float64
	// HScale is the horizontal scaling in percent (PDF's Tz); 0 means 100.
	HScale float64
	// Bold is the width of an outline stroked around the glyphs in the
	// fill colour, in points; 0 means none.
	Bold float64
}

func (o TextOptions) hscale() float64 {
	if o.HScale <= 0 {
		return 100
	}
	return o.HScale
}

// TextWidth is the advance of s set at st with options o.
func TextWidth(s string, st TextStyle, o TextOptions) float64 {
	n := float64(utf8.RuneCountInString(s))
	return (st.Font.Width(s, st.Size) + n*o.CharSpacing) * o.hscale() / 100
}

// TextWith sets s like Text, with the text-state settings of o.
func (c *Canvas) TextWith(x, y float64, s string, st TextStyle, o TextOptions) {
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
	if o.Bold > 0 {
		// Render mode 2 fills, then strokes the outline in the stroke colour.
		fmt.Fprintf(&c.buf, "%s %s w 1 j 2 Tr ", st.Color.ops("RG"), Num(o.Bold))
	}
	if o.CharSpacing != 0 {
		fmt.Fprintf(&c.buf, "%s Tc ", Num(o.CharSpacing))
	}
	if o.HScale > 0 && o.HScale != 100 {
		fmt.Fprintf(&c.buf, "%s Tz ", Num(o.HScale))
	}
	rad := st.Angle * math.Pi / 180
	cos, sin := math.Cos(rad), math.Sin(rad)
	fmt.Fprintf(&c.buf, "BT %s /%s %s Tf %s Tm %s Tj ET Q\n", st.Color.ops("rg"), fid, Num(st.Size),
		Matrix{cos, sin, -sin, cos, x, y}.String(), df.encode(s))
}
