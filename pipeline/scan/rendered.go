package scan

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/render"
)

// renderMaxPixels bounds a drawn page: its RGBA bitmap (4 bytes a pixel)
// must fit in the renderer's 256 MiB memory cap beside pdfium's own data.
// A page larger than this at RenderPPI is drawn at a lower resolution.
const renderMaxPixels = 40_000_000

// minRenderPPI is the least resolution a page is drawn at; a page that
// would need less to fit renderMaxPixels (a poster of several square
// metres) is refused as image_too_large.
const minRenderPPI = 72

// renderPage draws page n with pdfium in its sandbox: the displayed page
// (CropBox ∩ MediaBox, /Rotate, /UserUnit) at the working resolution, as
// pixels only, with its text layer in Page.Text. The page box here is
// pdfcpu's, used only to bound the pixel count before anything is drawn;
// the image and the page size are pdfium's, which drew them.
//
// Errors are findings (render_failed, image_too_large) except when the
// renderer itself cannot start: that is not the file's doing, and
// ErrEngine makes the run fail as transient.
func (f *pdfFile) renderPage(n int, d types.Dict, box *types.Rectangle, photographic bool, lim Limits) (*Page, error) {
	uu := 1.0
	if o, ok := d["UserUnit"]; ok {
		if v, err := f.ctx.DereferenceNumber(o); err == nil && v > 0 && v <= 75000 {
			uu = v
		}
	}
	inches := box.Width() * box.Height() * uu * uu / (72 * 72)
	maxPix := float64(min(lim.MaxPagePixels, renderMaxPixels))
	ppi := lim.RenderPPI
	if inches*ppi*ppi > maxPix {
		ppi = math.Sqrt(maxPix / inches)
	}
	if ppi < minRenderPPI {
		return nil, finding.Errorf(finding.ImageTooLarge, n, fmt.Sprintf("%.0f×%.0f in", box.Width()*uu/72, box.Height()*uu/72), nil)
	}
	r, err := render.Default()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEngine, err)
	}
	rp, err := r.Render(context.Background(), f.data, n, render.Options{PPI: ppi * uu, MaxPixels: int64(maxPix), Timeout: lim.RenderTimeout,
		SkipText: f.text.Skip, Boxes: f.text.Boxes})
	switch {
	case errors.Is(err, render.ErrTooLarge):
		return nil, finding.Errorf(finding.ImageTooLarge, n, "", err)
	case errors.Is(err, render.ErrFontMissing):
		return nil, finding.Errorf(finding.FontNotEmbedded, n, "", err)
	case errors.Is(err, render.ErrTimeout):
		return nil, finding.Errorf(finding.RenderFailed, n, "deadline passed", err)
	case errors.Is(err, render.ErrPage):
		return nil, finding.Errorf(finding.RenderFailed, n, "unreadable page", err)
	case err != nil:
		return nil, fmt.Errorf("%w: render page %d: %w", ErrEngine, n, err)
	}
	b := rp.Image.Bounds()
	p := &Page{Number: n, Encoding: EncPixels, pixels: rp.Image, Width: b.Dx(), Height: b.Dy(),
		Orientation: 1, Placement: [4]float64{0, 0, 1, 1}, WidthPt: rp.WidthPt * uu, HeightPt: rp.HeightPt * uu,
		Photographic: photographic}
	if len(rp.Glyphs) > 0 {
		p.Text = make([]Glyph, len(rp.Glyphs))
		for i, g := range rp.Glyphs {
			p.Text[i] = Glyph(g)
		}
	}
	return p, nil
}
