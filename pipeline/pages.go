package pipeline

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"

	"github.com/blindpack/blindpack/pipeline/contact"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/scan"
)

// ErrNoPage is returned by DisplayPage for a material or page the
// submission does not have.
var ErrNoPage = errors.New("pipeline: no such page")

// DisplayedPage is one page of an upload drawn for an administrator: the
// original as it is displayed, masks outlined, never burned. It shows
// what the applicant uploaded, identity included, so it must never reach
// anyone but an administrator, and is never stored.
type DisplayedPage struct {
	// Material is the 0-based material index, Page 1-based in its file.
	Material, Page int
	// Type is the material's type as the submission gives it.
	Type string
	// Image is nil when the file or page could not be read; Problem then
	// says why, as a finding code.
	Image   image.Image
	Problem finding.Code
}

// DisplayPages reads every file of a submission again and draws every
// page fitted in size, with its masks outlined — the pages of a contact
// sheet, one image each, for a page that lays them out itself. A file
// that cannot be read gives one page with its problem; an error is
// returned only when the source or the context fails.
func DisplayPages(ctx context.Context, sub *Submission, src Source, lim scan.Limits, size image.Point) ([]DisplayedPage, error) {
	var out []DisplayedPage
	for i := range sub.Materials {
		pages, err := displayMaterial(ctx, sub, src, lim, size, i, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, pages...)
	}
	return out, nil
}

// DisplayPage draws one page of one material, fitted in size, with its
// masks outlined. A page that exists but cannot be read is returned with
// a nil Image and its problem; one that does not exist is ErrNoPage.
func DisplayPage(ctx context.Context, sub *Submission, src Source, lim scan.Limits, size image.Point, material, page int) (DisplayedPage, error) {
	if material < 0 || material >= len(sub.Materials) || page < 1 {
		return DisplayedPage{}, ErrNoPage
	}
	pages, err := displayMaterial(ctx, sub, src, lim, size, material, page)
	if err != nil {
		return DisplayedPage{}, err
	}
	for _, p := range pages {
		if p.Page == page {
			return p, nil
		}
	}
	return DisplayedPage{}, ErrNoPage
}

// displayMaterial draws the pages of material i: all of them, or only
// page only when it is not 0.
func displayMaterial(ctx context.Context, sub *Submission, src Source, lim scan.Limits, size image.Point, i, only int) ([]DisplayedPage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := sub.Materials[i]
	unreadable := func(err error) []DisplayedPage {
		code := finding.CorruptFile
		var fe *finding.Error
		if errors.As(err, &fe) {
			code = fe.Code
		}
		return []DisplayedPage{{Material: i, Page: 1, Type: m.Type, Problem: code}}
	}
	data, err := fetchLimited(ctx, src, m.File, lim)
	var fe *finding.Error
	if errors.As(err, &fe) {
		return unreadable(err), nil
	} else if err != nil {
		return nil, err
	}
	f, err := scan.Open(data, lim)
	if err != nil {
		return unreadable(err), nil
	}
	f.SetTextNeed(scan.TextNeed{Skip: true}) // a page drawn for a person: no text searched
	var out []DisplayedPage
	for n := 1; n <= f.NumPages(); n++ {
		if only != 0 && n != only {
			continue
		}
		dp := DisplayedPage{Material: i, Page: n, Type: m.Type}
		page, err := f.Page(n)
		if err != nil && !errors.As(err, &fe) {
			return nil, err // the renderer could not start: not the file's doing
		}
		var img image.Image
		if err == nil {
			img, err = page.Decode()
		}
		if err != nil {
			dp.Problem = finding.CorruptFile
			if errors.As(err, &fe) {
				dp.Problem = fe.Code
			}
			out = append(out, dp)
			continue
		}
		var masks [][4]float64
		for _, mk := range m.Masks {
			if mk.Page == n {
				masks = append(masks, mk.Rect)
			}
		}
		dp.Image = contact.Display(page, img, size.X, size.Y, masks)
		out = append(out, dp)
	}
	return out, nil
}

// fetchLimited reads one uploaded file within the limits, mapping a
// missing or invalid file to its finding as a run does.
func fetchLimited(ctx context.Context, src Source, file string, lim scan.Limits) ([]byte, error) {
	rc, err := src.Open(ctx, file)
	switch {
	case errors.Is(err, ErrFileNotFound):
		return nil, finding.Errorf(finding.FileMissing, 0, "", err)
	case errors.Is(err, ErrInvalidFile):
		return nil, finding.Errorf(finding.InvalidField, 0, "file", err)
	case err != nil:
		return nil, fmt.Errorf("pipeline: open material: %w", err)
	}
	defer rc.Close()
	limit := lim.MaxFileBytes
	if limit <= 0 {
		limit = 50 << 20
	}
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("pipeline: read material: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, finding.Errorf(finding.FileTooLarge, 0, "", nil)
	}
	return data, nil
}
