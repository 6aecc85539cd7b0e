package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"image"
	"image/draw"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/blindpack/blindpack/pipeline/contact"
	"github.com/blindpack/blindpack/pipeline/identity"
	"github.com/blindpack/blindpack/pipeline/mask"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/pipeline/scan"
)

// Suggestion is where the identity was found in one file: masks in the
// submission's format, ready for the masking tool to pre-fill, and how
// each page was read. It never holds the identity.
type Suggestion struct {
	Pages int    `json:"pages"`
	Masks []Mask `json:"masks"`
	// Read says, page by page (index 0 is page 1), how the page was
	// searched: "text" (its text layer, exactly), "ocr" (its pixels), or
	// "none" (a pixel page and no OCR engine, or a page that could not
	// be read).
	Read []string `json:"read"`
}

// How a page was read, in Suggestion.Read.
const (
	ReadText = "text"
	ReadOCR  = "ocr"
	ReadNone = "none"
)

// SuggestOptions configure SuggestMasks. The zero value reads text layers
// only.
type SuggestOptions struct {
	// Limits bound the file, as for a submission.
	Limits scan.Limits
	// Engine reads the pages that have no text layer; nil skips them.
	Engine ocr.Engine
	// DPI is the resolution pages are read at by the engine; default
	// ocr.DefaultDPI.
	DPI int
}

// ocrPad widens a rectangle found by OCR on each side by this fraction of
// its height: an engine's box is an estimate, and a mask a little wider
// than the ink costs nothing.
const ocrPad = 0.25

// SuggestMasks finds every occurrence of the identity in an uploaded file
// and returns a mask for each: exact, from the text layer, on pages that
// have one; from OCR of the page as displayed on the others. An occurrence
// broken across lines gets a rectangle per line. Bad input is returned as
// a *finding.Error, as Process would report it.
func SuggestMasks(ctx context.Context, data []byte, id Identity, opts SuggestOptions) (*Suggestion, error) {
	f, err := scan.Open(data, opts.Limits)
	if err != nil {
		return nil, err
	}
	dpi := opts.DPI
	if dpi <= 0 {
		dpi = ocr.DefaultDPI
	}
	ident := identity.Identity{Name: id.Name, Employer: id.Employer}
	text := identity.NewMatcher(ident)
	// Boxes only where the identity is: the masks are made from those.
	f.SetTextNeed(scan.TextNeed{Boxes: text.Ranges})
	var shown []ocr.PageImage // pages to read with OCR
	s := &Suggestion{Pages: f.NumPages(), Masks: []Mask{}}
	for n := 1; n <= f.NumPages(); n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		page, err := f.Page(n)
		if err != nil {
			return nil, err
		}
		if len(page.Text) > 0 {
			s.Read = append(s.Read, ReadText)
			gs := make([]identity.Glyph, len(page.Text))
			for i, g := range page.Text {
				gs[i] = identity.Glyph(g)
			}
			for _, m := range text.Find(gs) {
				for _, l := range m.Lines {
					s.Masks = append(s.Masks, Mask{Page: n, Kind: string(m.Kind), Rect: mask.Rect(roundBox(l))})
				}
			}
			continue
		}
		if opts.Engine == nil {
			s.Read = append(s.Read, ReadNone)
			continue
		}
		img, err := page.Decode()
		if err != nil {
			return nil, err
		}
		w := max(1, int(page.WidthPt/72*float64(dpi)))
		h := max(1, int(page.HeightPt/72*float64(dpi)))
		disp := contact.Display(page, img, w, h, nil)
		grey := image.NewGray(disp.Bounds()) // a quarter of the memory while a batch gathers
		draw.Draw(grey, grey.Bounds(), disp, disp.Bounds().Min, draw.Src)
		shown = append(shown, ocr.PageImage{Page: n, Image: grey})
		s.Read = append(s.Read, ReadOCR)
		if len(shown) == ocr.MaxBatch {
			if err := s.addOCR(ctx, opts.Engine, shown, ident); err != nil {
				return nil, err
			}
			shown = shown[:0]
		}
	}
	if err := s.addOCR(ctx, opts.Engine, shown, ident); err != nil {
		return nil, err
	}
	slices.SortStableFunc(s.Masks, func(a, b Mask) int { return cmp.Compare(a.Page, b.Page) })
	return s, nil
}

// addOCR reads pages (a batch engine in one go: the pages are gathered
// up to ocr.MaxBatch, which bounds the images held) and adds a mask for
// each hit.
func (s *Suggestion) addOCR(ctx context.Context, e ocr.Engine, pages []ocr.PageImage, id identity.Identity) error {
	if len(pages) == 0 {
		return nil
	}
	hits, err := ocr.Check(ctx, e, pages, id, nil)
	if err != nil {
		return fmt.Errorf("pipeline: suggest masks: %w", err)
	}
	forms := map[string]identity.Form{}
	for _, f := range identity.Forms(id) {
		forms[string(f.Name)] = f
	}
	for _, hit := range hits {
		b := hit.Box
		pad := ocrPad * (b[3] - b[1])
		// A part of the name or employer read: widen the mask over where
		// the rest of it would be on the line, at the width of the
		// characters read (OCR often loses the region or legal form of a
		// letterhead under a seal).
		var before, after float64
		if f, ok := forms[hit.Form]; ok {
			if n := utf8.RuneCountInString(identity.Normalize(f.Text)); n > 0 {
				cw := (b[2] - b[0]) / float64(n)
				before, after = cw*float64(f.Before), cw*float64(f.After)
			}
		}
		r := identity.Box{b[0] - pad - before, b[1] - pad, b[2] + pad + after, b[3] + pad}
		s.Masks = append(s.Masks, Mask{Page: hit.Page, Kind: string(hit.Kind), Rect: mask.Rect(roundBox(r))})
	}
	return nil
}

// roundBox clamps b to the page and rounds it outwards to 1/10000.
func roundBox(b identity.Box) identity.Box {
	c := func(v float64) float64 { return min(max(v, 0), 1) }
	return identity.Box{
		math.Floor(c(b[0])*1e4) / 1e4, math.Floor(c(b[1])*1e4) / 1e4,
		math.Ceil(c(b[2])*1e4) / 1e4, math.Ceil(c(b[3])*1e4) / 1e4,
	}
}
