package ocr

import (
	"context"
	"image"
	"image/draw"
)

// Screened returns e marked to read only what the first pass, the
// screen, picks: the lines that may hold the identity and what the screen
// could not make sense of. An engine not so marked reads every line of
// every page, which is the safe default: end to end, the screen found
// fewer names than the full read on blurred and grey scans (README, "The
// first pass"). Mask suggestions, advice the gate checks afterwards, use
// it; the gate only when told --ocr-screen.
func Screened(e Engine) Engine {
	if be, ok := e.(BatchEngine); ok {
		return screenedBatch{be}
	}
	return screened{e}
}

type screened struct{ Engine }
type screenedBatch struct{ BatchEngine }

func (s screened) Info(ctx context.Context) (EngineInfo, error) { return Describe(ctx, s.Engine), nil }
func (s screenedBatch) Info(ctx context.Context) (EngineInfo, error) {
	return Describe(ctx, s.BatchEngine), nil
}

func isScreened(e Engine) bool {
	switch e.(type) {
	case screened, screenedBatch:
		return true
	}
	return false
}

// reader reads prepared pages with an engine: only the strips the screen
// picks, stacked into one image per page, or, with no screen, each page
// whole. A batch engine reads all the images of a call in one go.
type reader struct {
	e  Engine
	sc *screen // nil: read every page whole
}

func newReader(e Engine, id Identity) reader {
	r := reader{e: e}
	if isScreened(e) {
		if sc, ok := newScreen(id); ok {
			r.sc = sc
		}
	}
	return r
}

// stackGap is the white, in pixels at least, between two strips stacked
// for reading: Tesseract must see them as separate lines.
const stackGap = 16

// plan is how one page is read.
type plan struct {
	whole  bool
	strips []image.Rectangle // in page pixels
	at     []int             // top of each strip in the stacked image
	img    image.Image       // what the engine reads; nil: nothing
}

// read reads pages and returns, page by page, the words read in groups
// (one a strip, or one for a page read whole), with boxes in the page's
// pixels. Words of different strips are kept apart so that the matcher
// never joins two strips into one line.
func (r reader) read(ctx context.Context, pages []*image.Gray) ([][][]Word, error) {
	plans := make([]plan, len(pages))
	var imgs []image.Image
	var which []int
	for i, g := range pages {
		p := &plans[i]
		if r.sc == nil {
			p.whole = true
		} else {
			p.strips, p.whole = r.sc.candidates(g)
		}
		switch {
		case p.whole:
			p.img = g
		case len(p.strips) > 0:
			p.img, p.at = stack(g, p.strips)
		default:
			continue
		}
		imgs = append(imgs, p.img)
		which = append(which, i)
	}
	var words [][]Word
	if be, ok := r.e.(BatchEngine); ok {
		var err error
		if words, err = be.RecognizeAll(ctx, imgs); err != nil {
			return nil, err
		}
	} else {
		for _, img := range imgs {
			w, err := r.e.Recognize(ctx, img)
			if err != nil {
				return nil, err
			}
			words = append(words, w)
		}
	}
	out := make([][][]Word, len(pages))
	for k, i := range which {
		p := plans[i]
		if p.whole {
			out[i] = [][]Word{words[k]}
			continue
		}
		out[i] = unstack(words[k], p.strips, p.at)
	}
	return out, nil
}

// stack copies the strips of g one under the other, left-aligned, with
// white around and between them.
func stack(g *image.Gray, strips []image.Rectangle) (*image.Gray, []int) {
	w, h := 0, stackGap
	at := make([]int, len(strips))
	for i, s := range strips {
		at[i] = h
		w = max(w, s.Dx())
		h += s.Dy() + max(stackGap, s.Dy()/2)
	}
	out := image.NewGray(image.Rect(0, 0, w+2*stackGap, h))
	for i := range out.Pix {
		out.Pix[i] = 255
	}
	for i, s := range strips {
		draw.Draw(out, image.Rect(stackGap, at[i], stackGap+s.Dx(), at[i]+s.Dy()), g, s.Min, draw.Src)
	}
	return out, at
}

// unstack sorts the words read on a stacked image into their strips, by
// the middle of each word's box, and moves their boxes back onto the
// page.
func unstack(words []Word, strips []image.Rectangle, at []int) [][]Word {
	out := make([][]Word, len(strips))
	for _, w := range words {
		cy := (w.Box.Min.Y + w.Box.Max.Y) / 2
		best, dist := -1, 0
		for i, s := range strips {
			d := 0
			switch {
			case cy < at[i]:
				d = at[i] - cy
			case cy >= at[i]+s.Dy():
				d = cy - (at[i] + s.Dy() - 1)
			}
			if best < 0 || d < dist {
				best, dist = i, d
			}
		}
		if best < 0 {
			continue
		}
		s := strips[best]
		off := s.Min.Sub(image.Pt(stackGap, at[best]))
		w.Box = w.Box.Add(off).Intersect(s)
		if w.Box.Empty() {
			continue
		}
		out[best] = append(out[best], w)
	}
	return out
}
