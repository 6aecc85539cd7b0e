package contact

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strings"

	"github.com/disintegration/imaging"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/scan"
)

// Thumb is one page of the sheet.
type Thumb struct {
	// Material is the 0-based material index; Type its type; Page the
	// 1-based page in the file.
	Material int
	Type     string
	Page     int
	// Image is the page as displayed, small; nil when it could not be read.
	Image image.Image
	// Masks are the page's masks in displayed fractions.
	Masks [][4]float64
	// Hits are where the identity was read outside the masks (OCR), in
	// displayed fractions: drawn in red.
	Hits [][4]float64
	// Findings about this page (or its whole file).
	Findings []finding.Finding
}

// Layout of the sheet, in pixels.
const (
	thumbW  = 180
	thumbH  = 255
	columns = 6
	gap     = 12
	label   = 3 * 15
)

var (
	paper = color.RGBA{0xF4, 0xF4, 0xF4, 0xFF}
	red   = color.RGBA{0xD0, 0x10, 0x10, 0xFF}
	green = color.RGBA{0x20, 0x90, 0x40, 0xFF}
	blue  = color.RGBA{0x10, 0x50, 0xD0, 0xFF}
	ink   = color.RGBA{0x20, 0x20, 0x20, 0xFF}
)

// Thumbnail turns a decoded stored page image into a small image of the
// page as displayed: oriented, and placed on the page.
func Thumbnail(p *scan.Page, img image.Image) image.Image {
	small := imaging.Fit(img, thumbW*2, thumbH*2, imaging.Box)
	switch p.Orientation {
	case 2:
		small = imaging.FlipH(small)
	case 3:
		small = imaging.Rotate180(small)
	case 4:
		small = imaging.FlipV(small)
	case 5:
		small = imaging.Transpose(small)
	case 6:
		small = imaging.Rotate270(small)
	case 7:
		small = imaging.Transverse(small)
	case 8:
		small = imaging.Rotate90(small)
	}
	w, h := thumbW, int(float64(thumbW)*p.HeightPt/p.WidthPt)
	if h > thumbH {
		w, h = int(float64(thumbH)*p.WidthPt/p.HeightPt), thumbH
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	pl := p.Placement
	r := image.Rect(int(pl[0]*float64(w)), int(pl[1]*float64(h)), int(pl[2]*float64(w)), int(pl[3]*float64(h)))
	fitted := imaging.Resize(small, r.Dx(), r.Dy(), imaging.Box)
	draw.Draw(out, r, fitted, image.Point{}, draw.Over)
	return out
}

// Sheet lays the thumbnails out in a grid under a title line.
func Sheet(title string, thumbs []Thumb) *image.RGBA {
	rows := (len(thumbs) + columns - 1) / columns
	cellW, cellH := thumbW+gap, thumbH+label+gap
	out := image.NewRGBA(image.Rect(0, 0, gap+columns*cellW, 30+gap+max(rows, 1)*cellH))
	draw.Draw(out, out.Bounds(), image.NewUniform(paper), image.Point{}, draw.Src)
	text(out, gap, 20, title, ink)
	for i, th := range thumbs {
		x0, y0 := gap+(i%columns)*cellW, 30+gap+(i/columns)*cellH
		cell := image.Rect(x0, y0, x0+thumbW, y0+thumbH)
		frame := green
		if len(th.Findings) > 0 {
			frame = red
		}
		if th.Image != nil {
			b := th.Image.Bounds()
			at := image.Pt(x0+(thumbW-b.Dx())/2, y0+(thumbH-b.Dy())/2)
			r := image.Rectangle{Min: at, Max: at.Add(b.Size())}
			draw.Draw(out, r, th.Image, b.Min, draw.Src)
			Outline(out, r, th.Masks, blue, 1)
			Outline(out, r, th.Hits, red, 2)
			cell = r
		} else {
			text(out, x0+8, y0+thumbH/2, "cannot be read", red)
		}
		box(out, cell.Inset(-3), frame, 3)
		text(out, x0, y0+thumbH+14, fit(fmt.Sprintf("%d. ", th.Material+1), th.Type, fmt.Sprintf(" p%d", th.Page)), ink)
		for j, f := range th.Findings {
			if j == 2 {
				text(out, x0, y0+thumbH+14+15*2, fmt.Sprintf("+%d more", len(th.Findings)-2), red)
				break
			}
			text(out, x0, y0+thumbH+14+15*(j+1), reason(f), red)
		}
	}
	return out
}

// labelChars is how many 7-pixel characters fit under a thumbnail.
const labelChars = thumbW / 7

// fit shortens the middle of a label to the cell's width.
func fit(prefix, middle, suffix string) string {
	if room := labelChars - len(prefix) - len(suffix); len(middle) > room && room > 1 {
		middle = middle[:room-1] + "~"
	}
	return prefix + middle + suffix
}

// reason is a short label: the code and, for a measure, value < threshold.
func reason(f finding.Finding) string {
	s := string(f.Code)
	if f.Measured != nil && f.Threshold != nil {
		s += fmt.Sprintf(" %s vs %s", trim(float64(*f.Measured)), trim(float64(*f.Threshold)))
	}
	return fit("", s, "")
}

func trim(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// Outline draws boxes given in fractions of r (a page drawn there) as
// frames of the given width, the frame just outside each box.
func Outline(img *image.RGBA, r image.Rectangle, boxes [][4]float64, c color.Color, width int) {
	w, h := float64(r.Dx()), float64(r.Dy())
	for _, m := range boxes {
		box(img, image.Rect(r.Min.X+int(m[0]*w), r.Min.Y+int(m[1]*h), r.Min.X+int(m[2]*w)+1, r.Min.Y+int(m[3]*h)+1).Inset(1-width), c, width)
	}
}

func box(img *image.RGBA, r image.Rectangle, c color.Color, width int) {
	u := image.NewUniform(c)
	for i := 0; i < width; i++ {
		rr := r.Inset(i)
		draw.Draw(img, image.Rect(rr.Min.X, rr.Min.Y, rr.Max.X, rr.Min.Y+1), u, image.Point{}, draw.Src)
		draw.Draw(img, image.Rect(rr.Min.X, rr.Max.Y-1, rr.Max.X, rr.Max.Y), u, image.Point{}, draw.Src)
		draw.Draw(img, image.Rect(rr.Min.X, rr.Min.Y, rr.Min.X+1, rr.Max.Y), u, image.Point{}, draw.Src)
		draw.Draw(img, image.Rect(rr.Max.X-1, rr.Min.Y, rr.Max.X, rr.Max.Y), u, image.Point{}, draw.Src)
	}
}

// text draws ASCII text: labels are codes and numbers, readable without a
// CJK font.
func text(img *image.RGBA, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
