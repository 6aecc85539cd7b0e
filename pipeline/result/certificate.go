package result

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/blindpack/blindpack/internal/pdfkit"
)

// A certificate (任职资格证明) is one signed page per approved person,
// made from the same batch as the approval file: the person's own proof,
// which they can hand to an employer without the list of everyone else.
// It states what the approval file states about them and names that file
// by its number, so the two can be checked against each other.

// CertificateTitle is the heading of a certificate.
const CertificateTitle = "专业技术职务任职资格证明"

// IssueCertificate writes the signed certificate of person i of b to w,
// sealed, signed and (with a TSA) timestamped like the approval file.
func (is *Issuer) IssueCertificate(ctx context.Context, b *Batch, i int, w io.Writer) (Issued, error) {
	if i < 0 || i >= len(b.Approved) {
		return Issued{}, fmt.Errorf("%w: person %d of %d", ErrInvalidBatch, i, len(b.Approved))
	}
	out, err := is.issue(ctx, b, w, func(buf *bytes.Buffer, seal *Seal) (Layout, error) {
		return renderCertificate(buf, b, i, is.cfg.Fonts, seal)
	})
	if err != nil {
		return out, err
	}
	// The person is named by their place in the batch, not by name.
	is.log.Info("certificate issued", "doc_number", b.DocNumber, "campaign", b.Campaign, "person", i+1,
		"bytes", out.Bytes, "sha256", out.SHA256, "level", out.Level)
	return out, nil
}

// CertificateText is the statement of a certificate, paragraph by
// paragraph: who and what, on which file's authority.
func CertificateText(b *Batch, p Person) []string {
	return []string{
		fmt.Sprintf("%s同志（工作单位：%s）经评审委员会评审通过，具备%s任职资格（%s系列，%s专业）。",
			p.Name, p.Employer, p.Qualification, SeriesZH(p.Series), p.Speciality),
		fmt.Sprintf("依据：《%s》（%s）。", strings.ReplaceAll(b.Title, "\n", ""), b.DocNumber),
		"特此证明。",
	}
}

// renderCertificate sets the certificate of person i: the authority's
// name in red over a red rule, the heading, the statement, the person's
// particulars as a table, and the issuer, date and seal.
func renderCertificate(w io.Writer, b *Batch, i int, f *Fonts, seal *Seal) (Layout, error) {
	p := b.Approved[i]
	r := &renderer{doc: pdfkit.New(w), f: f, b: b, seal: seal, cols: columnsFor(b, f.Song)}
	r.doc.SetLang("zh-CN")
	r.doc.SetInfo(map[string]string{"Title": CertificateTitle, "Author": b.Authority, "Subject": b.DocNumber})
	r.newPage()

	// The masthead: the authority in red, the rule under it.
	st := pdfkit.TextStyle{Font: f.Song, Size: 12 * mmToPt, Color: red}
	o := pdfkit.TextOptions{Bold: 0.8}
	if w := pdfkit.TextWidth(b.Authority, st, o); w > blockW {
		o.HScale = math.Max(50, 100*blockW/w)
	}
	mw := pdfkit.TextWidth(b.Authority, st, o)
	base := blockTop - (1-emDescent)*st.Size
	r.c.TextWith(blockLeft+(blockW-mw)/2, base, b.Authority, st, o)
	r.y = base - emDescent*st.Size - ruleGap
	r.c.Line(blockLeft, r.y, blockRight, r.y, ruleWidth, red)

	// The heading, two lines under the rule, and the statement.
	r.y -= 2 * pitch
	ts := pdfkit.TextStyle{Font: f.Song, Size: titleSize, Color: black}
	to := pdfkit.TextOptions{Bold: 0.45, CharSpacing: 0.3 * titleSize}
	tw := pdfkit.TextWidth(CertificateTitle, ts, to)
	lh := math.Max(pitch, 1.4*titleSize)
	r.c.TextWith(blockLeft+(blockW-tw)/2, baseline(r.y, lh, titleSize), CertificateTitle, ts, to)
	r.y -= lh + pitch
	for _, para := range CertificateText(b, p) {
		r.paragraph(para)
	}
	r.y -= pitch / 2

	// The particulars: label and value, each value on one line.
	rows := [][2]string{{"姓名", p.Name}, {"工作单位", p.Employer}, {"系列", SeriesZH(p.Series)}, {"专业", p.Speciality},
		{"资格名称", p.Qualification}}
	labelW, valueW := 30*mmToPt, blockW-30*mmToPt
	hs := pdfkit.TextStyle{Font: f.Hei, Size: tableSize + 2, Color: black}
	vs := pdfkit.TextStyle{Font: f.Song, Size: tableSize + 2, Color: black}
	rowH := 9 * mmToPt
	r.c.Line(blockLeft, r.y, blockRight, r.y, gridWidth, black)
	top := r.y
	for _, row := range rows {
		bl := baseline(r.y, rowH, hs.Size)
		r.c.Text(blockLeft+(labelW-pdfkit.TextWidth(row[0], hs, pdfkit.TextOptions{}))/2, bl, row[0], hs)
		vo := pdfkit.TextOptions{}
		if w := pdfkit.TextWidth(row[1], vs, vo); w > valueW-2*cellPadX {
			vo.HScale = math.Max(minOneLineScale*100, 100*(valueW-2*cellPadX)/w)
		}
		r.c.TextWith(blockLeft+labelW+cellPadX, bl, row[1], vs, vo)
		r.y -= rowH
		r.c.Line(blockLeft, r.y, blockRight, r.y, gridWidth, black)
	}
	for _, x := range []float64{blockLeft, blockLeft + labelW, blockRight} {
		r.c.Line(x, top, x, r.y, gridWidth, black)
	}
	r.y -= pitch
	r.signature()
	r.doc.AddPage(pageW, pageH, r.c)
	if r.pages != 1 {
		return Layout{}, fmt.Errorf("result: certificate of person %d does not fit one page", i+1)
	}
	if err := r.doc.Close(); err != nil {
		return Layout{}, fmt.Errorf("result: write certificate: %w", err)
	}
	r.out.Pages = 1
	return r.out, nil
}
