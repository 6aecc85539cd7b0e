package bench

import (
	"bytes"
	"fmt"
	"os"
	"sync"

	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/mask"
)

var typedFont = sync.OnceValues(func() (*pdfkit.Font, error) { return pdfkit.LoadFont(synth.FontPath, 0) })

// A4 in points.
const a4W, a4H = 595.276, 841.89

// writeTypedPage writes page i of applicant a as a one-page typed PDF: a
// heading, the name and employer (on the masked pages), and 36 lines of
// 10.5-pt Chinese and Latin body text in the embedded CJK font, about as
// dense as a typed work summary.
func (s *Set) writeTypedPage(a, i int) error {
	font, err := typedFont()
	if err != nil {
		return fmt.Errorf("bench: typed page: %w", err)
	}
	id := identities[a%len(identities)]
	var buf bytes.Buffer
	doc := pdfkit.New(&buf)
	c := doc.NewCanvas()
	st := func(size float64) pdfkit.TextStyle { return pdfkit.TextStyle{Font: font, Size: size} }
	c.TextCentered(a4W/2, a4H-80, "专业技术工作总结", st(18))
	p := &s.Applicants[a].Pages[i]
	y := a4H - 120.0
	if i < s.Workload.Masked {
		for _, f := range []struct{ kind, label, value string }{{"name", "姓名：", id.Name}, {"employer", "工作单位：", id.Employer}} {
			x := 72 + font.Width(f.label, 12)
			c.Text(72, y, f.label, st(12))
			c.Text(x, y, f.value, st(12))
			w := font.Width(f.value, 12)
			p.Masks = append(p.Masks, pipeline.Mask{Page: 1, Kind: f.kind,
				Rect: mask.Rect{(x - 3) / a4W, (a4H - y - 14) / a4H, (x + w + 3) / a4W, (a4H - y + 5) / a4H}})
			y -= 22
		}
	}
	for l := range 36 {
		c.Text(72, y-float64(l)*17, fmt.Sprintf("%d. 负责桥梁与道路工程的结构设计、施工图审查和技术方案论证 (item %d, page %d)。", l+1, l+1, i+1), st(10.5))
	}
	doc.AddPage(a4W, a4H, c)
	if err := doc.Close(); err != nil {
		return fmt.Errorf("bench: typed page: %w", err)
	}
	p.File = fmt.Sprintf("page-%03d.pdf", i+1)
	p.Bytes = int64(buf.Len())
	p.Width, p.Height = 1654, 2339 // the page at 200 ppi, as it is drawn
	return os.WriteFile(s.Path(s.Applicants[a], p.File), buf.Bytes(), 0o644)
}
