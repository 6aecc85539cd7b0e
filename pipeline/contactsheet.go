package pipeline

import (
	"context"
	"errors"
	"fmt"
	"image"

	"github.com/blindpack/blindpack/pipeline/contact"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/scan"
)

// ContactSheet draws every page of a submission as a thumbnail, with the
// report's failing pages outlined and labelled and the masks drawn. It reads
// the files again: sheets are made for rejected submissions only, and
// keeping thumbnails of every accepted page would cost every run.
func (p *Pipeline) ContactSheet(ctx context.Context, sub *Submission, src Source, rep *Report) (image.Image, error) {
	var thumbs []contact.Thumb
	forPage := func(i, page int) []finding.Finding {
		var out []finding.Finding
		for _, f := range rep.Findings {
			if f.Material != nil && *f.Material == i && (f.Page == page || f.Page == 0) {
				out = append(out, f)
			}
		}
		return out
	}
	r := &run{p: p, sub: sub, src: src}
	for i, m := range sub.Materials {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := r.fetch(ctx, m.File)
		var fe *finding.Error
		if errors.As(err, &fe) {
			thumbs = append(thumbs, contact.Thumb{Material: i, Type: m.Type, Page: 1, Findings: forPage(i, 1)})
			continue
		} else if err != nil {
			return nil, err
		}
		f, err := scan.Open(data, p.cfg.Limits)
		if err != nil {
			thumbs = append(thumbs, contact.Thumb{Material: i, Type: m.Type, Page: 1, Findings: forPage(i, 1)})
			continue
		}
		for n := 1; n <= f.NumPages(); n++ {
			th := contact.Thumb{Material: i, Type: m.Type, Page: n, Findings: forPage(i, n)}
			for _, mk := range m.Masks {
				if mk.Page == n {
					th.Masks = append(th.Masks, mk.Rect)
				}
			}
			if page, err := f.Page(n); err == nil {
				if img, err := page.Decode(); err == nil {
					th.Image = contact.Thumbnail(page, img)
				}
			}
			thumbs = append(thumbs, th)
		}
	}
	var general int
	for _, f := range rep.Findings {
		if f.Material == nil {
			general++
		}
	}
	title := fmt.Sprintf("%s  %s  %s  %d pages", rep.SubmissionID, rep.AnonCode, rep.Status, len(thumbs))
	if general > 0 {
		title += fmt.Sprintf("  (+%d findings about the submission as a whole)", general)
	}
	return contact.Sheet(title, thumbs), nil
}
