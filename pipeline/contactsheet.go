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

// FindingBox reads the box a finding places on its page ("box [x0 y0 x1
// y1]" in its Detail, in fractions of the page as displayed: OCR's
// identity_visible), which the contact sheet draws.
func FindingBox(f finding.Finding) ([4]float64, bool) {
	var b [4]float64
	if _, err := fmt.Sscanf(f.Detail, "box [%g %g %g %g]", &b[0], &b[1], &b[2], &b[3]); err != nil {
		return b, false
	}
	for _, v := range b {
		if v < 0 || v > 1 {
			return b, false
		}
	}
	return b, b[0] < b[2] && b[1] < b[3]
}

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
			for _, f := range th.Findings {
				if b, ok := FindingBox(f); ok {
					th.Hits = append(th.Hits, b)
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
