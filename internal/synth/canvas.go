package synth

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Identity is the fake applicant drawn on the pages: the two things blind
// review must hide.
type Identity struct {
	Name     string
	Employer string
}

// Rect is a box on a page as fractions [x0, y0, x1, y1] of its width and
// height, origin top-left: the same form as a submission mask, so a Rect can
// be written into submission.json as it is.
type Rect [4]float64

// Page is one generated page and where the identity is on it. Name and
// Employer list one Rect per place the text was drawn, each covering its ink
// with a margin of about half a percent of the page, so masks made from
// them hide the text completely.
type Page struct {
	Image    *image.Gray
	Name     []Rect
	Employer []Rect
}

// Options choose the resolution and the fictional career of the pages. The
// zero value gives 150 ppi pages of the engineering applicant.
type Options struct {
	// PPI is the scan resolution in pixels per inch; 0 means 150.
	PPI int
	// Seed picks the career (series, speciality, school, dates; see
	// profiles) and the random text and paper noise, so that all the pages
	// of one applicant drawn with one seed agree with each other.
	Seed uint64

	// omitIdentity lays the page out as usual but leaves the name and
	// employer undrawn: tests compare the two renderings to prove that the
	// identity is nowhere outside its Rects.
	omitIdentity bool
}

func (o Options) ppi() float64 {
	if o.PPI <= 0 {
		return 150
	}
	return float64(o.PPI)
}

const (
	paperGray = 245
	inkGray   = 38
	rectPad   = 0.005 // page fraction added around the ink of a Rect
	mmPerPt   = 25.4 / 72
)

type align int

const (
	left align = iota
	center
	right
)

type spanKind int

const (
	plain spanKind = iota
	nameSpan
	employerSpan
)

// span is a piece of text on one line; identity spans are recorded as Rects.
type span struct {
	s    string
	kind spanKind
}

func txt(s string) span { return span{s: s} }

// canvas draws in millimetres from the top-left corner of the page.
type canvas struct {
	img   *image.Gray
	scale float64 // pixels per millimetre
	w, h  float64 // page size in mm
	font  *sfnt.Font
	buf   sfnt.Buffer
	faces map[float64]font.Face
	id    Identity
	opt   Options
	page  Page
	err   error
}

func newCanvas(wmm, hmm float64, id Identity, o Options) (*canvas, error) {
	f, err := loadFont()
	if err != nil {
		return nil, err
	}
	scale := o.ppi() / 25.4
	img := image.NewGray(image.Rect(0, 0, int(math.Round(wmm*scale)), int(math.Round(hmm*scale))))
	for i := range img.Pix {
		img.Pix[i] = paperGray
	}
	c := &canvas{img: img, scale: scale, w: wmm, h: hmm, font: f, faces: map[float64]font.Face{}, id: id, opt: o}
	c.page.Image = img
	return c, nil
}

func (c *canvas) face(pt float64) font.Face {
	if f, ok := c.faces[pt]; ok {
		return f
	}
	f, err := opentype.NewFace(c.font, &opentype.FaceOptions{Size: pt, DPI: c.opt.ppi(), Hinting: font.HintingNone})
	if err != nil {
		c.fail(fmt.Errorf("synth: face %gpt: %w", pt, err))
		f = nil
	}
	c.faces[pt] = f
	return f
}

func (c *canvas) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// text returns the string a span stands for.
func (c *canvas) text(s span) string {
	switch s.kind {
	case nameSpan:
		return c.id.Name
	case employerSpan:
		return c.id.Employer
	}
	return s.s
}

func (c *canvas) name() span     { return span{kind: nameSpan} }
func (c *canvas) employer() span { return span{kind: employerSpan} }

// width is the advance of the spans in mm.
func (c *canvas) width(pt float64, spans ...span) float64 {
	f := c.face(pt)
	if f == nil {
		return 0
	}
	var w fixed.Int26_6
	for _, s := range spans {
		w += font.MeasureString(f, c.text(s))
	}
	return float64(w) / 64 / c.scale
}

// checkGlyphs fails the page when the font lacks a character: a fixture
// with tofu boxes would look fine to a test and wrong to a person.
func (c *canvas) checkGlyphs(s string) {
	for _, r := range s {
		if r == ' ' || r == '\u3000' {
			continue
		}
		if gi, err := c.font.GlyphIndex(&c.buf, r); err != nil || gi == 0 {
			c.fail(fmt.Errorf("synth: font has no glyph for %q", r))
		}
	}
}

// draw puts spans on one line with the baseline at y; x is the left edge,
// the centre or the right edge depending on a. Bold is faked by drawing
// twice, as a scan of a bold print cannot be told apart from it.
func (c *canvas) draw(x, y, pt float64, a align, bold bool, spans ...span) {
	f := c.face(pt)
	if f == nil {
		return
	}
	w := c.width(pt, spans...)
	switch a {
	case center:
		x -= w / 2
	case right:
		x -= w
	}
	boldDX := 0.0
	if bold {
		boldDX = math.Max(1, math.Round(0.12*c.scale)) / c.scale
	}
	ink := image.NewUniform(color.Gray{inkGray})
	for _, sp := range spans {
		s := c.text(sp)
		c.checkGlyphs(s)
		adv := float64(font.MeasureString(f, s)) / 64 / c.scale
		if s == "" {
			continue
		}
		if sp.kind != plain {
			b, _ := font.BoundString(f, s)
			x0 := x + float64(b.Min.X)/64/c.scale
			x1 := x + float64(b.Max.X)/64/c.scale + boldDX
			y0 := y + float64(b.Min.Y)/64/c.scale
			y1 := y + float64(b.Max.Y)/64/c.scale
			r := c.rect(x0, y0, x1, y1)
			if sp.kind == nameSpan {
				c.page.Name = append(c.page.Name, r)
			} else {
				c.page.Employer = append(c.page.Employer, r)
			}
		}
		if sp.kind == plain || !c.opt.omitIdentity {
			passes := []float64{0}
			if bold {
				passes = append(passes, boldDX)
			}
			for _, dx := range passes {
				d := font.Drawer{Dst: c.img, Src: ink, Face: f, Dot: c.point(x+dx, y)}
				d.DrawString(s)
			}
		}
		x += adv
	}
}

func (c *canvas) point(x, y float64) fixed.Point26_6 {
	return fixed.Point26_6{X: fixed.Int26_6(math.Round(x * c.scale * 64)), Y: fixed.Int26_6(math.Round(y * c.scale * 64))}
}

// rect turns an ink box in mm into a padded page-fraction Rect, rounded
// outwards to 4 decimals so that it stays covering when written as JSON.
func (c *canvas) rect(x0, y0, x1, y1 float64) Rect {
	fx := func(v float64) float64 { return v / c.w }
	fy := func(v float64) float64 { return v / c.h }
	down := func(v float64) float64 { return math.Max(0, math.Floor(v*1e4)/1e4) }
	up := func(v float64) float64 { return math.Min(1, math.Ceil(v*1e4)/1e4) }
	return Rect{down(fx(x0) - rectPad), down(fy(y0) - rectPad), up(fx(x1) + rectPad), up(fy(y1) + rectPad)}
}

// fill paints a box in mm with a gray level, snapped to whole pixels and at
// least one pixel wide so that thin rules survive low resolutions.
func (c *canvas) fill(x0, y0, x1, y1 float64, g uint8) {
	px0, py0 := int(math.Round(x0*c.scale)), int(math.Round(y0*c.scale))
	px1, py1 := int(math.Round(x1*c.scale)), int(math.Round(y1*c.scale))
	if px1 <= px0 {
		px1 = px0 + 1
	}
	if py1 <= py0 {
		py1 = py0 + 1
	}
	draw.Draw(c.img, image.Rect(px0, py0, px1, py1), image.NewUniform(color.Gray{g}), image.Point{}, draw.Src)
}

const rule = 0.3 // mm, table rules

func (c *canvas) hline(x0, x1, y, wmm float64) { c.fill(x0, y-wmm/2, x1, y+wmm/2, inkGray) }
func (c *canvas) vline(x, y0, y1, wmm float64) { c.fill(x-wmm/2, y0, x+wmm/2, y1, inkGray) }

func (c *canvas) box(x0, y0, x1, y1, wmm float64) {
	c.hline(x0-wmm/2, x1+wmm/2, y0, wmm)
	c.hline(x0-wmm/2, x1+wmm/2, y1, wmm)
	c.vline(x0, y0, y1, wmm)
	c.vline(x1, y0, y1, wmm)
}

// baseline returns the baseline that centres CJK text of size pt
// vertically between y0 and y1.
func baseline(y0, y1, pt float64) float64 {
	return (y0+y1)/2 + 0.36*pt*mmPerPt
}

// cell writes spans into a table cell, shrinking the text when it would not
// fit: forms squeeze long employer names rather than wrap them.
func (c *canvas) cell(x0, y0, x1, y1, pt float64, a align, spans ...span) {
	const pad = 1.8
	avail := x1 - x0 - 2*pad
	if w := c.width(pt, spans...); w > avail && w > 0 {
		pt = math.Floor(pt*avail/w*4) / 4
	}
	x := x0 + pad
	switch a {
	case center:
		x = (x0 + x1) / 2
	case right:
		x = x1 - pad
	}
	c.draw(x, baseline(y0, y1, pt), pt, a, false, spans...)
}

// token is a unit of line breaking: one character of plain text, or a whole
// name or employer, which are never split across lines.
type token struct {
	sp span
	w  float64
}

// Closing punctuation may hang past the right margin but never starts a
// line; opening punctuation never ends one.
const (
	noLineStart = "，。、；：？！）》”’"
	noLineEnd   = "（《“‘"
)

// wrap breaks spans into lines of at most width mm; the first line is
// indented by indent mm.
func (c *canvas) wrap(width, indent, pt float64, spans ...span) [][]token {
	var toks []token
	for _, sp := range spans {
		if sp.kind != plain {
			toks = append(toks, token{sp, c.width(pt, sp)})
			continue
		}
		for _, r := range sp.s {
			t := txt(string(r))
			toks = append(toks, token{t, c.width(pt, t)})
		}
	}
	var lines [][]token
	var cur []token
	used := indent
	for _, t := range toks {
		hang := t.sp.kind == plain && strings.Contains(noLineStart, t.sp.s)
		if used+t.w > width && len(cur) > 0 && !hang {
			var carry []token
			if last := cur[len(cur)-1]; len(cur) > 1 && last.sp.kind == plain && strings.Contains(noLineEnd, last.sp.s) {
				cur, carry = cur[:len(cur)-1], []token{last}
			}
			lines = append(lines, cur)
			cur, used = carry, 0
			for _, c := range carry {
				used += c.w
			}
		}
		cur = append(cur, t)
		used += t.w
	}
	if len(cur) > 0 {
		lines = append(lines, cur)
	}
	return lines
}

// drawLine draws one wrapped line starting at x.
func (c *canvas) drawLine(x, y, pt float64, line []token) {
	var run []span
	flush := func() {
		if len(run) == 0 {
			return
		}
		c.draw(x, y, pt, left, false, run...)
		x += c.width(pt, run...)
		run = nil
	}
	var b strings.Builder
	for _, t := range line {
		if t.sp.kind != plain {
			if b.Len() > 0 {
				run = append(run, txt(b.String()))
				b.Reset()
			}
			run = append(run, t.sp)
			continue
		}
		b.WriteString(t.sp.s)
	}
	if b.Len() > 0 {
		run = append(run, txt(b.String()))
	}
	flush()
}

// para draws a paragraph with a two-character first-line indent from the
// baseline y and returns the baseline of the line after it.
func (c *canvas) para(x, y, width, pt, leading float64, spans ...span) float64 {
	em := pt * mmPerPt
	// Wrap one character short so that hanging punctuation stays inside.
	for i, line := range c.wrap(width-em, 2*em, pt, spans...) {
		lx := x
		if i == 0 {
			lx += 2 * em
		}
		c.drawLine(lx, y, pt, line)
		y += leading
	}
	return y
}

// photo draws a passport-photo placeholder: a head and shoulders in mid
// grey, so that ID cards and certificates have the dark blob a real one has.
func (c *canvas) photo(x0, y0, x1, y1 float64) {
	c.fill(x0, y0, x1, y1, 200)
	c.box(x0, y0, x1, y1, 0.2)
	w, h := x1-x0, y1-y0
	cx := (x0 + x1) / 2
	clip := image.Rect(int(x0*c.scale), int(y0*c.scale), int(x1*c.scale), int(y1*c.scale))
	c.ellipse(cx, y0+0.38*h, 0.2*w, 0.19*h, 120, clip)
	c.ellipse(cx, y1+0.05*h, 0.45*w, 0.32*h, 120, clip)
	c.box(x0, y0, x1, y1, 0.2)
}

// ellipse fills an ellipse, clipped to the pixel rectangle clip.
func (c *canvas) ellipse(cx, cy, rx, ry float64, g uint8, clip image.Rectangle) {
	b := c.img.Bounds().Intersect(clip)
	px0, px1 := int((cx-rx)*c.scale), int((cx+rx)*c.scale)+1
	py0, py1 := int((cy-ry)*c.scale), int((cy+ry)*c.scale)+1
	for py := max(py0, b.Min.Y); py < min(py1, b.Max.Y); py++ {
		for px := max(px0, b.Min.X); px < min(px1, b.Max.X); px++ {
			dx := (float64(px)+0.5)/c.scale - cx
			dy := (float64(py)+0.5)/c.scale - cy
			if dx*dx/(rx*rx)+dy*dy/(ry*ry) <= 1 {
				c.img.SetGray(px, py, color.Gray{g})
			}
		}
	}
}

// ring draws a circular outline, the shape of an official seal without the
// text a real one carries around its rim (which would be the employer).
func (c *canvas) ring(cx, cy, r, wmm float64, g uint8) {
	b := c.img.Bounds()
	px0, px1 := int((cx-r-wmm)*c.scale), int((cx+r+wmm)*c.scale)+1
	py0, py1 := int((cy-r-wmm)*c.scale), int((cy+r+wmm)*c.scale)+1
	for py := max(py0, b.Min.Y); py < min(py1, b.Max.Y); py++ {
		for px := max(px0, b.Min.X); px < min(px1, b.Max.X); px++ {
			dx := (float64(px)+0.5)/c.scale - cx
			dy := (float64(py)+0.5)/c.scale - cy
			if d := math.Hypot(dx, dy); d <= r && d >= r-wmm {
				if c.img.GrayAt(px, py).Y > g {
					c.img.SetGray(px, py, color.Gray{g})
				}
			}
		}
	}
}
