package result

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/blindpack/blindpack/internal/pdfkit"
)

// Measures of GB/T 9704-2012 (党政机关公文格式), in points unless named mm.
const (
	mmToPt = 72 / 25.4

	pageW = 210 * mmToPt // A4
	pageH = 297 * mmToPt

	marginTop  = 37 * mmToPt // 天头
	marginLeft = 28 * mmToPt // 订口
	blockW     = 156 * mmToPt
	blockH     = 225 * mmToPt

	blockLeft   = marginLeft
	blockRight  = marginLeft + blockW
	blockTop    = pageH - marginTop
	blockBottom = blockTop - blockH

	// The body grid: 22 lines of 28 characters in 3号 (16 pt) type.
	bodySize  = 16.0
	charsLine = 28
	linesPage = 22
	gridChar  = blockW / charsLine
	pitch     = blockH / linesPage

	titleSize   = 22.0        // 2号
	numberSize  = 14.0        // 4号, page numbers
	tableSize   = 12.0        // 小4, the table of persons
	markTopGap  = 35 * mmToPt // the mark's top edge below the block's top (7.2.3)
	ruleGap     = 4 * mmToPt  // the red rule under the document number (7.2.5)
	ruleWidth   = 1.5
	pageNumDrop = 7 * mmToPt // page number's dash below the block (7.5)

	// emCentre is how far above the baseline the middle of an ideograph's
	// em box lies, for centring type in a line box.
	emCentre  = 0.38
	emDescent = 0.12
)

// Colours. GB/T 9704 prints the mark, rule and seal in red; the brief of
// this project names process red M80 Y80. Converted without a colour
// profile, C0 M80 Y80 K0 is RGB (1, 0.2, 0.2), and a printer's sRGB→CMYK
// conversion maps that back to about M80 Y75: close to the standard's red
// on paper and a clear red on screen.
var (
	red   = pdfkit.Color{R: 1, G: 0.2, B: 0.2}
	black = pdfkit.Color{}
)

// Layout says where the rendering put what the signer needs to know.
type Layout struct {
	Pages int
	// SealPage is the 1-based page the seal is on, and SealRect its square
	// in points: [llx lly urx ury].
	SealPage int
	SealRect [4]float64
}

// column of the table of approved persons.
type column struct {
	title string
	width float64 // mm
	align int     // -1 left, 0 centre
	// minScale is how far a value too wide for one line may be condensed
	// (as a fraction of its width) before it wraps instead: a one-character
	// second line wastes a row. Zero means the value never wraps (see
	// oneLine).
	minScale float64
	value    func(i int, p Person) string
}

// The name column's bounds, in mm. Names are never wrapped: a name broken
// over two lines reads as two names, and neither a reader's search nor
// pdftotext finds it. The column is as wide as the batch's widest name
// needs, from nameMinWidth (two- to four-character Han names) up to
// nameMaxWidth, taking the room from the employer column, whose values
// wrap well; a name wider still (a long Uyghur name in Chinese
// transliteration, 阿不都热合曼·托合提, runs to 12 characters or more) is
// condensed to fit.
const (
	nameCol      = 1
	employerCol  = 2
	nameMinWidth = 24.0
	nameMaxWidth = 36.0
)

// columns are the table's columns at their base widths; a document's
// own are columnsFor's.
var columns = []column{
	{"序号", 12, 0, 0.6, func(i int, _ Person) string { return strconv.Itoa(i + 1) }},
	{"姓名", nameMinWidth, 0, 0, func(_ int, p Person) string { return p.Name }},
	{"工作单位", 62, -1, 0.85, func(_ int, p Person) string { return p.Employer }},
	{"系列", 14, 0, 0.85, func(_ int, p Person) string { return SeriesZH(p.Series) }},
	{"专业", 23, 0, 0.75, func(_ int, p Person) string { return p.Speciality }},
	{"资格名称", 21, 0, 0.75, func(_ int, p Person) string { return p.Qualification }},
}

// columnsFor sets the name column's width for the names of b: the same on
// every page of the document.
func columnsFor(b *Batch, font *pdfkit.Font) []column {
	cols := slices.Clone(columns)
	widest := 0.0
	for _, p := range b.Approved {
		widest = math.Max(widest, font.Width(p.Name, tableSize))
	}
	w := math.Ceil((widest+2*cellPadX)/mmToPt*2) / 2 // to half a millimetre
	w = math.Min(math.Max(w, nameMinWidth), nameMaxWidth)
	cols[employerCol].width -= w - cols[nameCol].width
	cols[nameCol].width = w
	return cols
}

// minOneLineScale is how far a value that must stay on one line is
// condensed before its type is made smaller as well.
const minOneLineScale = 0.5

const (
	cellPadX  = 1.5 * mmToPt
	cellPadY  = 1.6 * mmToPt
	cellLine  = tableSize * 1.35
	minRowH   = 8 * mmToPt
	gridWidth = 0.6
)

// renderer holds the state of one document being set.
type renderer struct {
	doc   *pdfkit.Doc
	f     *Fonts
	b     *Batch
	seal  *Seal
	c     *pdfkit.Canvas
	cols  []column // the table's columns, sized for this batch
	y     float64  // top of the next line box
	pages int
	out   Layout
}

func (r *renderer) body() pdfkit.TextStyle {
	return pdfkit.TextStyle{Font: r.f.Song, Size: bodySize, Color: black}
}

// bodyOpts fits a full-width character to the grid exactly.
func (r *renderer) bodyOpts() pdfkit.TextOptions {
	return pdfkit.TextOptions{CharSpacing: gridChar - r.f.Song.Width("国", bodySize)}
}

func (r *renderer) measureBody(s string) float64 {
	return pdfkit.TextWidth(s, r.body(), r.bodyOpts())
}

// render sets the whole document, unsigned, with the seal drawn in.
func render(w io.Writer, b *Batch, f *Fonts, seal *Seal) (Layout, error) {
	r := &renderer{doc: pdfkit.New(w), f: f, b: b, seal: seal, cols: columnsFor(b, f.Song)}
	r.doc.SetLang("zh-CN")
	// What the file says, for machines: the standard keys, and ours for
	// what has none (date, campaign, how many persons). The signature
	// covers them with everything else; Verify reads them back.
	r.doc.SetInfo(map[string]string{"Title": b.Title, "Author": b.Authority, "Subject": b.DocNumber,
		InfoDate: b.Date, InfoCampaign: b.Campaign, InfoPersons: strconv.Itoa(len(b.Approved))})
	r.newPage()
	r.head()
	r.title()
	r.text()
	r.table()
	r.signature()
	r.colophon()
	r.finishPage()
	if err := r.doc.Close(); err != nil {
		return Layout{}, fmt.Errorf("result: write document: %w", err)
	}
	r.out.Pages = r.pages
	return r.out, nil
}

func (r *renderer) newPage() {
	r.c = r.doc.NewCanvas()
	r.pages++
	r.y = blockTop
}

// finishPage adds the page number and writes the page. Odd pages carry it
// on the right, even pages on the left, each one character in from the
// block's edge, as the standard sets it for double-sided printing.
func (r *renderer) finishPage() {
	st := pdfkit.TextStyle{Font: r.f.Song, Size: numberSize, Color: black}
	label := "— " + strconv.Itoa(r.pages) + " —"
	y := blockBottom - pageNumDrop - 0.3*numberSize
	if r.pages%2 == 1 {
		r.c.TextRight(blockRight-numberSize, y, label, st)
	} else {
		r.c.Text(blockLeft+numberSize, y, label, st)
	}
	r.doc.AddPage(pageW, pageH, r.c)
	r.c = nil
}

// ensure starts a new page unless h points fit above the block's bottom.
func (r *renderer) ensure(h float64) {
	if r.y-h < blockBottom-0.01 {
		r.finishPage()
		r.newPage()
	}
}

// baseline is where type of size sits to look centred in a line box of
// height h whose top is top.
func baseline(top, h, size float64) float64 { return top - h/2 - emCentre*size }

// head sets the 版头: the issuing-office mark in red, the document number
// two lines under it, and the red rule 4 mm under the number.
func (r *renderer) head() {
	mark := r.b.Authority + "文件"
	// 小标宋 is a heavy Song; a stroked outline thickens the Song face.
	size := 15 * mmToPt
	st := pdfkit.TextStyle{Font: r.f.Song, Size: size, Color: red}
	o := pdfkit.TextOptions{Bold: 0.9}
	natural := pdfkit.TextWidth(mark, st, o)
	// Long names are condensed rather than set small, as printed mastheads
	// are; below half width the type gets smaller instead.
	if natural > blockW {
		o.HScale = math.Max(50, 100*blockW/natural)
		if w := pdfkit.TextWidth(mark, st, o); w > blockW {
			st.Size *= blockW / w
		}
	}
	w := pdfkit.TextWidth(mark, st, o)
	base := blockTop - markTopGap - (1-emDescent)*st.Size
	r.c.TextWith(blockLeft+(blockW-w)/2, base, mark, st, o)
	r.y = base - emDescent*st.Size - 2*pitch

	num := r.body()
	nb := baseline(r.y, pitch, bodySize)
	nw := r.measureBody(r.b.DocNumber)
	r.c.TextWith(blockLeft+(blockW-nw)/2, nb, r.b.DocNumber, num, r.bodyOpts())
	ruleY := nb - emDescent*bodySize - ruleGap
	r.c.Line(blockLeft, ruleY, blockRight, ruleY, ruleWidth, red)
	r.y = ruleY
}

// title sets the title two lines under the rule, centred, in balanced
// lines, with a blank line after it.
func (r *renderer) title() {
	r.y -= 2 * pitch
	st := pdfkit.TextStyle{Font: r.f.Song, Size: titleSize, Color: black}
	o := pdfkit.TextOptions{Bold: 0.45}
	measure := func(s string) float64 { return pdfkit.TextWidth(s, st, o) }
	lh := math.Max(pitch, 1.4*titleSize)
	for _, line := range wrapTitle(r.b.Title, blockW-2*gridChar, measure) {
		r.ensure(lh)
		r.c.TextWith(blockLeft+(blockW-measure(line))/2, baseline(r.y, lh, titleSize), line, st, o)
		r.y -= lh
	}
	r.y -= pitch
}

// text sets the addressee and the body: paragraphs indented two
// characters, lines justified to the grid except each paragraph's last.
func (r *renderer) text() {
	if r.b.Addressee != "" {
		r.ensure(pitch)
		s := strings.TrimRight(r.b.Addressee, "：:") + "："
		r.c.TextWith(blockLeft, baseline(r.y, pitch, bodySize), s, r.body(), r.bodyOpts())
		r.y -= pitch
	}
	for _, para := range strings.Split(r.b.Body, "\n") {
		if para = strings.TrimSpace(para); para != "" {
			r.paragraph(para)
		}
	}
}

// paragraph sets one paragraph of body text: indented two characters,
// justified to the grid but for its last line.
func (r *renderer) paragraph(para string) {
	lines := wrap(para, blockW-2*gridChar, blockW, r.measureBody)
	for i, line := range lines {
		r.ensure(pitch)
		x, avail := blockLeft, blockW
		if i == 0 {
			x, avail = blockLeft+2*gridChar, blockW-2*gridChar
		}
		o := r.bodyOpts()
		if n := utf8.RuneCountInString(line); i < len(lines)-1 && n > 1 {
			o.CharSpacing += (avail - r.measureBody(line)) / float64(n-1)
		}
		r.c.TextWith(x, baseline(r.y, pitch, bodySize), line, r.body(), o)
		r.y -= pitch
	}
}

// row is one table row, measured.
type row struct {
	cells  [][]string // lines per column
	hscale []float64  // horizontal scaling per column, percent; 0 is 100
	size   []float64  // type size per column; 0 is tableSize
	h      float64
}

func (r *renderer) measureRow(texts []string, font *pdfkit.Font) row {
	measure := func(s string) float64 { return font.Width(s, tableSize) }
	rw := row{cells: make([][]string, len(r.cols)), hscale: make([]float64, len(r.cols)), size: make([]float64, len(r.cols))}
	n := 1
	for j, c := range r.cols {
		avail := c.width*mmToPt - 2*cellPadX
		w := measure(texts[j])
		switch {
		case w <= avail:
		case c.minScale == 0:
			// One line whatever it takes: condensed, then smaller.
			rw.cells[j], rw.hscale[j] = []string{texts[j]}, 100*math.Max(avail/w, minOneLineScale)
			if avail/w < minOneLineScale {
				rw.size[j] = tableSize * avail / (w * minOneLineScale)
			}
			continue
		case w*c.minScale <= avail:
			rw.cells[j], rw.hscale[j] = []string{texts[j]}, 100*avail/w
			continue
		}
		rw.cells[j] = wrap(texts[j], avail, avail, measure)
		n = max(n, len(rw.cells[j]))
	}
	rw.h = math.Max(minRowH, float64(n)*cellLine+2*cellPadY)
	return rw
}

// sigHeight is the room the issuer, date and seal need under the table:
// the seal's top within a line of the text above it, the name and date in
// its lower half.
func (r *renderer) sigHeight() float64 {
	rad := r.seal.Diameter / 2 * mmToPt
	// The seal may hang a little below the block, never onto the page number.
	return sigGap + math.Max(rad+nameDrop+pitch+emDescent*bodySize, 2*rad-sealOverhang)
}

const (
	sigGap   = 0.4 * pitch  // text above to the seal's top: within one line
	nameDrop = 3 * mmToPt   // seal centre to the issuer's baseline
	tableGap = 0.25 * pitch // body to table
	// sealOverhang is how far the seal may reach below the block.
	sealOverhang = 4 * mmToPt
)

// table sets the approved persons. Rows never split; the header row is
// repeated on every page the table reaches; and the last page keeps at
// least one row with the signature so that the seal never stands alone.
func (r *renderer) table() {
	header := make([]string, len(r.cols))
	for j, c := range r.cols {
		header[j] = c.title
	}
	hr := r.measureRow(header, r.f.Hei)
	rows := make([]row, len(r.b.Approved))
	for i, p := range r.b.Approved {
		texts := make([]string, len(r.cols))
		for j, c := range r.cols {
			texts[j] = c.value(i, p)
		}
		rows[i] = r.measureRow(texts, r.f.Song)
	}

	// Paginate: pages[k] is the index of the first row on page k.
	var starts []int
	avail := r.y - tableGap - blockBottom
	full := blockH
	var used float64
	if avail < hr.h+rows[0].h {
		starts = append(starts, -1) // the table starts on the next page
		avail = full
	}
	starts = append(starts, 0)
	used = hr.h
	for i, rw := range rows {
		if used+rw.h > avail && i > starts[len(starts)-1] {
			starts = append(starts, i)
			avail, used = full, hr.h
		}
		used += rw.h
	}
	if used+r.sigHeight() > avail {
		// Carry the last row (two when the page has them to spare) over,
		// with the header, to a page of its own with the signature.
		last := starts[len(starts)-1]
		move := 1
		if len(rows)-last >= 3 {
			move = 2
		}
		if len(rows)-move > last {
			starts = append(starts, len(rows)-move)
		} else if len(starts) == 1 {
			// The only row of the table's first page: start it a page later.
			starts = []int{-1, 0}
		}
	}

	r.y -= tableGap
	for k, s := range starts {
		if s == -1 {
			continue
		}
		if k > 0 {
			r.finishPage()
			r.newPage()
		}
		end := len(rows)
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		top := r.y
		r.drawRow(hr, true)
		for i := s; i < end; i++ {
			r.drawRow(rows[i], false)
		}
		// Vertical rules of this page's part of the table.
		x := blockLeft
		for j := 0; j <= len(r.cols); j++ {
			r.c.Line(x, top, x, r.y, gridWidth, black)
			if j < len(r.cols) {
				x += r.cols[j].width * mmToPt
			}
		}
	}
}

func (r *renderer) drawRow(rw row, header bool) {
	font := r.f.Song
	if header {
		font = r.f.Hei
		r.c.Line(blockLeft, r.y, blockRight, r.y, gridWidth, black)
	}
	x := blockLeft
	for j, c := range r.cols {
		st := pdfkit.TextStyle{Font: font, Size: tableSize, Color: black}
		if rw.size[j] > 0 {
			st.Size = rw.size[j]
		}
		cw := c.width * mmToPt
		lines := rw.cells[j]
		textH := float64(len(lines)) * cellLine
		top := r.y - (rw.h-textH)/2
		o := pdfkit.TextOptions{HScale: rw.hscale[j]}
		for k, line := range lines {
			b := baseline(top-float64(k)*cellLine, cellLine, st.Size)
			if c.align < 0 {
				r.c.TextWith(x+cellPadX, b, line, st, o)
			} else {
				r.c.TextWith(x+(cw-pdfkit.TextWidth(line, st, o))/2, b, line, st, o)
			}
		}
		x += cw
	}
	r.y -= rw.h
	r.c.Line(blockLeft, r.y, blockRight, r.y, gridWidth, black)
}

// signature sets the issuer and date and presses the seal on them
// (GB/T 9704 7.3.5.1): the date four characters in from the right, the
// issuer centred over the date, the seal centred on them with both in its
// lower half and its top within a line of the text above.
func (r *renderer) signature() {
	r.ensure(r.sigHeight())
	rad := r.seal.Diameter / 2 * mmToPt
	date := DateZH(r.b.Day())
	dw := r.measureBody(date)
	dateRight := blockRight - 4*gridChar
	dateCentre := dateRight - dw/2
	cy := r.y - sigGap - rad
	nameBase := cy - nameDrop
	dateBase := nameBase - pitch

	name := r.b.IssuerName()
	nw := r.measureBody(name)
	nx := math.Min(math.Max(dateCentre-nw/2, blockLeft), blockRight-nw)
	r.c.TextWith(nx, nameBase, name, r.body(), r.bodyOpts())
	r.c.TextWith(dateRight-dw, dateBase, date, r.body(), r.bodyOpts())

	r.seal.Draw(r.c, dateCentre, cy, red)
	r.out.SealPage = r.pages
	r.out.SealRect = [4]float64{dateCentre - rad, cy - rad, dateCentre + rad, cy + rad}
	// Below the date, or below the seal where it hangs lower.
	r.y = math.Min(dateBase-emDescent*bodySize, cy-rad)
}

// The 版记 (GB/T 9704 7.4): 4号 type, a thick rule (0.35 mm) above its
// first element and below its last, thin rules (0.25 mm) between them,
// all as wide as the text block, its last element on the last line of the
// last page.
const (
	colophonSize  = 14.0 // 4号
	thickRule     = 0.35 * mmToPt
	thinRule      = 0.25 * mmToPt
	colophonGap   = 0.5 * pitch // space kept between the seal or text and the 版记
	colophonLabel = "抄送："
)

// colophonLines sets the 抄送 element: the bodies separated by ，and ended
// by 。, wrapped under the text after the label.
func (r *renderer) colophonLines() []string {
	if len(r.b.CopyTo) == 0 {
		return nil
	}
	st := pdfkit.TextStyle{Font: r.f.Song, Size: colophonSize}
	measure := func(s string) float64 { return pdfkit.TextWidth(s, st, pdfkit.TextOptions{}) }
	indent := colophonSize // one character in from the left
	avail := blockW - 2*indent - measure(colophonLabel)
	return wrap(strings.Join(r.b.CopyTo, "，")+"。", avail, avail, measure)
}

// colophon sets the 版记 at the foot of the last page, starting a page of
// its own when the signature leaves no room for it: the standard puts it
// on the back page (封四), which a one-sheet notice printed on both sides
// has, and it is never worth moving the table's rows for.
func (r *renderer) colophon() {
	cc := r.colophonLines()
	n := len(cc) + 1 // lines: the 抄送 lines, then 印发机关 and 印发日期
	h := float64(n) * pitch
	if r.y-colophonGap-h < blockBottom-0.01 {
		r.finishPage()
		r.newPage()
	}
	st := pdfkit.TextStyle{Font: r.f.Song, Size: colophonSize, Color: black}
	indent := colophonSize
	top := blockBottom + h
	r.c.Line(blockLeft, top, blockRight, top, thickRule, black)
	y := top
	labelW := pdfkit.TextWidth(colophonLabel, st, pdfkit.TextOptions{})
	for i, line := range cc {
		b := baseline(y, pitch, colophonSize)
		if i == 0 {
			r.c.Text(blockLeft+indent, b, colophonLabel, st)
		}
		r.c.Text(blockLeft+indent+labelW, b, line, st)
		y -= pitch
	}
	if len(cc) > 0 {
		r.c.Line(blockLeft, y, blockRight, y, thinRule, black)
	}
	b := baseline(y, pitch, colophonSize)
	date := DateZH(r.b.PrintedDay()) + "印发"
	r.c.TextRight(blockRight-indent, b, date, st)
	// A long office name is condensed to leave a character's space before
	// the date, as a masthead is.
	name, o := r.b.PrinterName(), pdfkit.TextOptions{}
	room := blockW - 3*indent - pdfkit.TextWidth(date, st, o)
	if w := pdfkit.TextWidth(name, st, o); w > room {
		o.HScale = 100 * room / w
	}
	r.c.TextWith(blockLeft+indent, b, name, st, o)
	r.c.Line(blockLeft, blockBottom, blockRight, blockBottom, thickRule, black)
	r.y = blockBottom
}

// missingGlyphs lists the characters of the batch that its fonts cannot
// draw, as batch problems: a rare character in a name must be noticed
// before the file is published, not show as a blank.
func missingGlyphs(b *Batch, f *Fonts) []Problem {
	var ps []Problem
	check := func(field, s string, font *pdfkit.Font) {
		var miss []string
		seen := map[rune]bool{}
		for _, ch := range s {
			if ch >= ' ' && !seen[ch] && !font.Has(string(ch)) {
				seen[ch] = true
				miss = append(miss, fmt.Sprintf("%c (U+%04X)", ch, ch))
			}
		}
		if len(miss) > 0 {
			list := strings.Join(miss, ", ")
			ps = append(ps, Problem{Field: field, ZH: "字体缺少以下字符：" + list, EN: "the font has no glyph for: " + list})
		}
	}
	song := f.Song
	check("authority", b.Authority, song)
	check("issuer", b.Issuer, song)
	check("doc_number", b.DocNumber, song)
	check("title", b.Title, song)
	check("body", b.Body, song)
	check("addressee", b.Addressee, song)
	check("seal_code", b.SealCode, song)
	check("printed_by", b.PrintedBy, song)
	for i, c := range b.CopyTo {
		check(fmt.Sprintf("copy_to[%d]", i), c, song)
	}
	for i, p := range b.Approved {
		for _, fv := range []struct{ name, v string }{{"name", p.Name}, {"employer", p.Employer}, {"speciality", p.Speciality}, {"qualification", p.Qualification}} {
			check(fmt.Sprintf("approved[%d].%s", i, fv.name), fv.v, song)
		}
	}
	return ps
}
