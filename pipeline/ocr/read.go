package ocr

import (
	"context"
	"image"
	"image/draw"
	"slices"

	xdraw "golang.org/x/image/draw"

	"github.com/blindpack/blindpack/pipeline/clarity"
	"github.com/blindpack/blindpack/pipeline/identity"
)

// Screened returns e marked to read only what the first pass, the
// screen, picks on a crisp page (see Crisp): the lines that may hold the
// identity and what the screen could not make sense of; every other page
// is read whole. An engine not so marked reads every line of every page.
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

// The screen finds lines by their ink's dark cores. On a soft or grey
// scan the strokes of many characters have no such core — a name's
// middle character vanished and the line broke in pieces too short to
// compare — and end to end the screen then found fewer names than
// reading every line (README, "The first pass"). So it is trusted only
// on pages whose render measures like a good office scan (the clarity
// measures of the page as rendered, before Prepare): text standing at
// least ScreenMinContrast levels out of its paper, edges at least
// ScreenMinSharpness sharp. On the measurement set every plain scan at
// 150 and 300 ppi was above both (contrast 129–160, sharpness 45–64),
// every blurred and grey one below one of them (contrast 66–122,
// sharpness 29–45).
var (
	ScreenMinContrast  = 125.0
	ScreenMinSharpness = 42.0
)

// Crisp reports whether the screen is trusted on img, a page as
// rendered (before Prepare).
func Crisp(img image.Image) bool {
	crisp, _ := screenable(img)
	return crisp
}

// screenable measures img, a page as rendered, at a resolution taken
// from its size as if it were A4: crisp, or blank (nothing on it darker
// than its paper; the screen then reads nothing, as before).
func screenable(img image.Image) (crisp, blank bool) {
	lum := clarity.Luminance(img)
	b := lum.Bounds()
	if b.Empty() {
		return false, true
	}
	ppi := float64(max(b.Dx(), b.Dy())) / (297 / 25.4)
	m := clarity.Measure(lum, clarity.Source{Page: 1, Width: b.Dx(), Height: b.Dy(), PPIX: ppi, PPIY: ppi,
		ToDisplayed: func(s, t float64) (float64, float64) { return s, t }})
	return m.Contrast >= ScreenMinContrast && m.Sharpness >= ScreenMinSharpness, m.InkPercent == 0
}

// page is a page prepared for reading (Prepare) and whether to read it
// whole.
type page struct {
	g     *image.Gray
	whole bool
}

// prepare prepares img with its masks for r: a page is read whole unless
// r screens and img is crisp (or blank).
func (r reader) prepare(img image.Image, masks []Rect) page {
	whole := r.sc == nil
	if !whole {
		crisp, blank := screenable(img)
		whole = !crisp && !blank
	}
	return page{g: Prepare(img, masks), whole: whole}
}

// reader reads prepared pages with an engine: through the screen, what
// it picks (see read), or, with no screen, each page whole. A batch
// engine reads all the images of a round in one go.
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

// read reads prepared pages and returns, page by page, the words read in
// groups (one a strip, or one for a page read whole), with boxes in the
// page's pixels. Words of different strips are kept apart so that the
// matcher never joins two strips into one line. Through the screen it
// reads in two rounds: the pages read whole, the regions read as they
// are and the probes of the screen's strips; then the strips one of
// whose probes held one of their pairs (see cand).
func (r reader) read(ctx context.Context, pages []page) ([][][]Word, error) {
	out := make([][][]Word, len(pages))
	var first, second []job
	cands := make([][]cand, len(pages))
	for i, pg := range pages {
		whole := pg.whole
		if !whole {
			cands[i], whole = r.sc.plan(pg.g)
		}
		if whole {
			first = append(first, job{page: i, img: pg.g})
			continue
		}
		var asIs, probes []image.Rectangle
		for _, c := range cands[i] {
			if c.probes == nil {
				asIs = append(asIs, c.strip)
			}
			probes = append(probes, c.probes...)
		}
		first = append(first, stacks(i, pg.g, asIs, false)...)
		first = append(first, stacks(i, pg.g, probes, true)...)
	}
	words, err := r.recognize(ctx, first)
	if err != nil {
		return nil, err
	}
	// probeText[page]: what was read in each probe of the page.
	probeText := make([]map[image.Rectangle]string, len(pages))
	for k, j := range first {
		switch {
		case j.strips == nil:
			out[j.page] = [][]Word{words[k]}
		case j.probe:
			if probeText[j.page] == nil {
				probeText[j.page] = map[image.Rectangle]string{}
			}
			for si, ws := range unstack(unscale(words[k], j.larger), j.strips, j.at) {
				for _, w := range ws {
					probeText[j.page][j.strips[si]] += identity.Normalize(w.Text)
				}
			}
		default:
			out[j.page] = append(out[j.page], unstack(unscale(words[k], j.larger), j.strips, j.at)...)
		}
	}
	for i, cs := range cands {
		var confirmed []image.Rectangle
		for _, c := range cs {
			if c.probes != nil && slices.ContainsFunc(c.probes, func(p image.Rectangle) bool {
				t := probeText[i][p]
				return slices.ContainsFunc(c.pairs, func(pr probePair) bool { return pr.in(t) })
			}) {
				confirmed = append(confirmed, c.strip)
			}
		}
		second = append(second, stacks(i, pages[i].g, confirmed, false)...)
	}
	if len(second) == 0 {
		return out, nil
	}
	if words, err = r.recognize(ctx, second); err != nil {
		return nil, err
	}
	for k, j := range second {
		out[j.page] = append(out[j.page], unstack(unscale(words[k], j.larger), j.strips, j.at)...)
	}
	return out, nil
}

// job is one image to read: a page whole (strips nil), or strips of it
// stacked (probes, when probe).
type job struct {
	page   int
	img    image.Image
	strips []image.Rectangle // in page pixels
	at     []int             // top of each strip in the stacked image
	probe  bool
	// larger: img is the stack drawn at one and a half times its size
	// (smallStrip).
	larger bool
}

// stacks stacks strips of page i in images of like-sized strips.
func stacks(i int, g *image.Gray, strips []image.Rectangle, probe bool) []job {
	var out []job
	for _, group := range bySize(strips) {
		img, at := stack(g, group)
		j := job{page: i, img: img, strips: group, at: at, probe: probe}
		if smallText(group) {
			j.img, j.larger = upscale(img), true
		}
		out = append(out, j)
	}
	return out
}

// smallStrip is the height, in pixels, under which a stack of strips is
// read at one and a half times its size. Tesseract binarises an image at
// the size it is given and scales the lines it finds, black and white,
// to its network's height; text 22 pixels high (10.5 pt at 150 dpi) then
// loses strokes. Alone in a probe, "李静怡" came back as "李移恰" (the
// measurement's form 1, seed 0); drawn smoothly at one and a half or
// twice its size, as "李静怡" — and a signature's "王建" at 200 ppi as
// "王建" at one and a half times, but "二难" at twice. A page read whole
// keeps its size: in a page's context Tesseract read the same lines right.
const smallStrip = 40

// smallText reports whether strips, a group of like height, are small
// enough to be read larger: every strip (a line and a quarter of it above
// and below) under smallStrip high.
func smallText(strips []image.Rectangle) bool {
	for _, s := range strips {
		if s.Dy() >= smallStrip {
			return false
		}
	}
	return true
}

// upscale returns g drawn at one and a half times its size, bilinearly.
func upscale(g *image.Gray) *image.Gray {
	b := g.Bounds()
	out := image.NewGray(image.Rect(0, 0, 3*b.Dx()/2, 3*b.Dy()/2))
	xdraw.BiLinear.Scale(out, out.Bounds(), g, b, xdraw.Src, nil)
	return out
}

// unscale moves the boxes of words read on an image drawn larger
// (upscale) back onto the stack.
func unscale(words []Word, larger bool) []Word {
	if !larger {
		return words
	}
	out := make([]Word, len(words))
	for i, w := range words {
		w.Box = image.Rect(2*w.Box.Min.X/3, 2*w.Box.Min.Y/3, (2*w.Box.Max.X+2)/3, (2*w.Box.Max.Y+2)/3)
		out[i] = w
	}
	return out
}

// recognize reads the jobs' images, in one go with a batch engine.
func (r reader) recognize(ctx context.Context, jobs []job) ([][]Word, error) {
	imgs := make([]image.Image, len(jobs))
	for k, j := range jobs {
		imgs[k] = j.img
	}
	if be, ok := r.e.(BatchEngine); ok {
		return be.RecognizeAll(ctx, imgs)
	}
	var words [][]Word
	for _, img := range imgs {
		w, err := r.e.Recognize(ctx, img)
		if err != nil {
			return nil, err
		}
		words = append(words, w)
	}
	return words, nil
}

// bySize sorts strips into groups of like height, each read as one
// stacked image: Tesseract reads an image as a block of uniform text
// (psm 6), and beside a heading twice as high it dropped the lines of
// ordinary text (a patent certificate's "发明专利证书" over the line with
// the inventor's name). Heights in a group are within a factor of 1.5;
// the groups keep the strips' order.
func bySize(strips []image.Rectangle) [][]image.Rectangle {
	hs := make([]int, len(strips))
	for i, s := range strips {
		hs[i] = s.Dy()
	}
	slices.Sort(hs)
	// Group boundaries: the lowest height of each group.
	var lows []int
	for _, h := range hs {
		if len(lows) == 0 || 2*h > 3*lows[len(lows)-1] {
			lows = append(lows, h)
		}
	}
	groups := make([][]image.Rectangle, len(lows))
	for _, s := range strips {
		g := 0
		for g+1 < len(lows) && s.Dy() >= lows[g+1] {
			g++
		}
		groups[g] = append(groups[g], s)
	}
	return groups
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
