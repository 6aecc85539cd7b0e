package packet

import (
	"fmt"
	"math"

	"github.com/blindpack/blindpack/internal/pdfkit"
)

var (
	ink       = pdfkit.Color{R: 0.1, G: 0.1, B: 0.1}
	grey      = pdfkit.Color{R: 0.45, G: 0.45, B: 0.45}
	stampInk  = pdfkit.Color{R: 0.75, G: 0.1, B: 0.1}
	ruleColor = pdfkit.Color{R: 0.6, G: 0.6, B: 0.6}
)

// stamp draws the watermark diagonally across a page, over the scan, and a
// page label along the bottom edge.
func (b *Builder) stamp(c *pdfkit.Canvas, w, h float64, label string) {
	f := b.opts.Font
	diag := math.Hypot(w, h)
	size := math.Min(48, 0.7*diag/math.Max(f.Width(b.opts.Watermark, 1), 1))
	angle := math.Atan2(h, w)
	tw := f.Width(b.opts.Watermark, size)
	// Start so that the text's centre is the page's centre.
	x := w/2 - math.Cos(angle)*tw/2 + math.Sin(angle)*size/3
	y := h/2 - math.Sin(angle)*tw/2 - math.Cos(angle)*size/3
	c.Text(x, y, b.opts.Watermark, pdfkit.TextStyle{Font: f, Size: size, Color: stampInk, Alpha: 0.22, Angle: angle * 180 / math.Pi})
	if label != "" {
		ls := math.Max(6, math.Min(9, w/70))
		c.Text(ls, ls*0.9, label, pdfkit.TextStyle{Font: f, Size: ls, Color: stampInk, Alpha: 0.85})
	}
}

// Close writes the cover page, bookmarks and the rest of the file.
func (b *Builder) Close() (Result, error) {
	total := b.doc.NumPages()
	b.writeCover(total)
	items := []pdfkit.OutlineItem{{Title: "封面 Cover", Page: 0}}
	for i, e := range b.index {
		if len(e.Pages) == 0 {
			continue
		}
		items = append(items, pdfkit.OutlineItem{
			Title: fmt.Sprintf("%d. %s %s", i+1, e.TitleZH, pageRange(e.Pages)),
			Page:  e.Pages[0][1] - 1,
		})
	}
	b.doc.SetOutline(items)
	if err := b.doc.Close(); err != nil {
		return Result{}, err
	}
	return Result{Pages: total, Index: b.index, Bytes: b.doc.Size(), SHA256: b.doc.SHA256()}, nil
}

func pageRange(pages [][2]int) string {
	first, last := pages[0][1], pages[len(pages)-1][1]
	if first == last {
		return fmt.Sprintf("第%d页", first)
	}
	return fmt.Sprintf("第%d–%d页", first, last)
}

func (b *Builder) writeCover(total int) {
	const w, h = 595.276, 841.89
	f := b.opts.Font
	c := b.doc.NewCanvas()
	st := func(size float64, col pdfkit.Color) pdfkit.TextStyle {
		return pdfkit.TextStyle{Font: f, Size: size, Color: col}
	}
	const left, right = 72.0, w - 72
	c.TextCentered(w/2, h-100, "职称评审材料（盲评）", st(24, ink))
	c.TextCentered(w/2, h-124, "Review packet — blind review", st(12, grey))
	c.Line(left, h-140, right, h-140, 0.8, ruleColor)

	y := h - 175.0
	field := func(zh, en, value string, size float64) {
		c.Text(left, y, zh, st(12, ink))
		c.Text(left, y-13, en, st(8, grey))
		c.Text(left+130, y-2, value, st(size, ink))
		y -= 34
	}
	field("匿名编号", "Anonymous code", b.hdr.AnonCode, 18)
	field("评审年度", "Campaign", b.hdr.Campaign, 13)
	field("申报系列", "Series", b.hdr.SeriesZH+"  "+b.hdr.SeriesEN, 13)
	field("申报级别", "Level", b.hdr.LevelZH+"  "+b.hdr.LevelEN, 13)
	field("总页数", "Pages", fmt.Sprintf("%d（含封面 including this cover）", total), 13)

	y -= 6
	c.Line(left, y+14, right, y+14, 0.8, ruleColor)
	c.Text(left, y-6, "材料目录  Index of materials", st(14, ink))
	y -= 32
	// Rows shrink to fit; an index longer than a page ends with a pointer
	// to the bookmarks, which list every material.
	rows := len(b.index)
	bottom := 120.0
	rowH := math.Min(22, (y-bottom)/float64(max(rows+1, 1)))
	size := math.Max(6, math.Min(11, rowH*0.55))
	col := []float64{left, left + 36, right - 110}
	c.Text(col[0], y, "序号", st(size, grey))
	c.Text(col[1], y, "材料 Material", st(size, grey))
	c.Text(col[2], y, "页码 Pages", st(size, grey))
	y -= rowH
	for i, e := range b.index {
		if y < bottom {
			c.Text(col[1], y, fmt.Sprintf("……共%d项，详见书签 (%d materials in all; see bookmarks)", rows, rows), st(size, grey))
			break
		}
		c.Text(col[0], y, fmt.Sprintf("%d", i+1), st(size, ink))
		c.Text(col[1], y, e.TitleZH+"  "+e.TitleEN, st(size, ink))
		if len(e.Pages) > 0 {
			c.Text(col[2], y, pageRange(e.Pages), st(size, ink))
		}
		c.Line(left, y-rowH*0.35, right, y-rowH*0.35, 0.3, ruleColor)
		y -= rowH
	}

	c.TextCentered(w/2, 80, "本材料已按盲评要求遮盖申报人姓名和工作单位，仅供评审专家使用，请勿外传。", st(9, grey))
	c.TextCentered(w/2, 66, "Names and employers are masked for blind review. For the assigned reviewer only; do not pass on.", st(7.5, grey))
	b.stamp(c, w, h, "")
	b.doc.SetPage(b.cover, w, h, c)
}
