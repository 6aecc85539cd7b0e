package ocr

import (
	"cmp"
	"context"
	"fmt"
	"image"
	"math"
	"slices"

	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/identity"
)

// Word is one piece of text an engine read: for Chinese, usually one to
// three characters. Box is in pixels of the image given to the engine.
type Word struct {
	Text string
	Box  image.Rectangle
	// Conf is the engine's confidence, 0–100.
	Conf float64
}

// Engine reads the text on a page image. It returns words in reading
// order, which the matcher trusts more than the boxes when it joins them
// into lines. It must honour ctx: a page that takes too long is
// abandoned, not waited for.
type Engine interface {
	Recognize(ctx context.Context, img image.Image) ([]Word, error)
}

// EngineInfo names an engine and its settings in the documents the stage
// writes, so that a figure can be traced to the engine that produced it.
type EngineInfo struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Lang    string `json:"lang,omitempty"`
	PSM     int    `json:"psm,omitempty"`
}

// Describe returns what an engine says about itself, or its Go type when
// it says nothing.
func Describe(ctx context.Context, e Engine) EngineInfo {
	if d, ok := e.(interface {
		Info(context.Context) (EngineInfo, error)
	}); ok {
		if info, err := d.Info(ctx); err == nil {
			return info
		}
	}
	return EngineInfo{Name: fmt.Sprintf("%T", e)}
}

// Rect is a box in fractions [x0, y0, x1, y1] of the page as displayed,
// origin top left: the form of a submission's masks.
type Rect [4]float64

// Identity is what to look for. It is held only in memory, never logged
// or written.
type Identity = identity.Identity

// PageImage is one page as displayed, to be read. Page is the caller's
// number for it and comes back in hits.
type PageImage struct {
	Page  int
	Image image.Image
}

// Kind says which part of the identity a hit is.
type Kind = identity.Kind

// Kinds of hit, the same words as a mask's kind.
const (
	KindName     = identity.KindName
	KindEmployer = identity.KindEmployer
)

// Hit is a place where the identity seems to be visible outside the masks.
// It says where and what kind, never the text read there.
type Hit struct {
	Page int
	Kind Kind
	// Form is which form of the identity matched: "name", "given_name",
	// "employer", "employer_core" or "employer_short".
	Form string
	// Box is where, in fractions of the displayed page.
	Box Rect
	// Distance is the edit distance between what was read and the form:
	// 0 for an exact match, 1 for one OCR error.
	Distance int
}

// IdentityVisible is the finding code of a hit: a name or employer that
// OCR reads outside the masks of a packet page. Its message is what an
// applicant reads when an administrator returns a held submission, so it
// says where on the page and what to do.
const IdentityVisible finding.Code = "identity_visible"

func init() {
	finding.Register(IdentityVisible,
		"{m}第{p}页在遮盖区域之外仍能看到申报人的{v}，请在该处补充遮盖后重新提交。",
		"Page {p} of the {m}: the applicant's {v} can be read outside the masks; mask it there and submit again.")
}

// Finding makes the finding of a hit. a names the material and gives the
// page in the material's file (the hit's page is the caller's numbering,
// which may be the packet's); the message places the box in words, and
// the box goes into Detail as numbers, where an administrator's contact
// sheet draws it.
func (h Hit) Finding(a finding.Args) finding.Finding {
	pct := func(v float64) int { return int(math.Round(v * 100)) }
	x0, y0, x1, y1 := pct(h.Box[0]), pct(h.Box[1]), pct(h.Box[2]), pct(h.Box[3])
	switch h.Kind {
	case KindName:
		a.Value, a.ValueEN = "姓名", "name"
	default:
		a.Value, a.ValueEN = "工作单位", "employer"
	}
	a.Value += fmt.Sprintf("（页面横向%d%%–%d%%、纵向%d%%–%d%%处）", x0, x1, y0, y1)
	a.ValueEN += fmt.Sprintf(" (%d–%d %% across, %d–%d %% down the page)", x0, x1, y0, y1)
	f := finding.New(IdentityVisible, a)
	f.Detail = fmt.Sprintf("box [%.4f %.4f %.4f %.4f]", h.Box[0], h.Box[1], h.Box[2], h.Box[3])
	return f
}

// Check reads every page with e and returns the places where the identity
// seems visible outside the masks, page by page, top to bottom. masks are
// by PageImage.Page. A BatchEngine reads the pages in batches of MaxBatch;
// another engine reads them one after another. The caller parallelises
// across pages or tasks if it wants to.
//
// Before reading, each page is prepared (see Prepare): masks painted
// white and table rules removed, because Tesseract otherwise skips the
// text in the cells of a ruled form — exactly where a name is written.
// The engine reads every line, or, when e was made with Screened, only
// the lines a cheap first pass (the screen, screen.go) picks on the pages
// it can be trusted with (Crisp).
func Check(ctx context.Context, e Engine, pages []PageImage, id Identity, masks map[int][]Rect) ([]Hit, error) {
	m := NewMatcher(id)
	rd := newReader(e, id)
	size := 1
	if _, ok := e.(BatchEngine); ok {
		size = MaxBatch
	}
	var hits []Hit
	for i := 0; i < len(pages); i += size {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("ocr: check page %d: %w", pages[i].Page, err)
		}
		run := pages[i:min(i+size, len(pages))]
		imgs := make([]page, len(run))
		for j, p := range run {
			imgs[j] = rd.prepare(p.Image, masks[p.Page])
		}
		words, err := rd.read(ctx, imgs)
		if err != nil {
			if len(run) == 1 {
				return nil, fmt.Errorf("ocr: check page %d: %w", run[0].Page, err)
			}
			return nil, fmt.Errorf("ocr: check pages %d–%d: %w", run[0].Page, run[len(run)-1].Page, err)
		}
		for j, p := range run {
			hits = append(hits, pageHits(m, p.Page, words[j], imgs[j].g.Bounds(), masks[p.Page])...)
		}
	}
	return hits, nil
}

// pageHits turns the words read on a prepared page, in groups that are
// never joined into one line, into hits: the matches of the identity not
// mostly under a mask, top to bottom.
func pageHits(m *Matcher, page int, groups [][]Word, b image.Rectangle, masks []Rect) []Hit {
	var hits []Hit
	for _, words := range groups {
		for _, mt := range m.Find(words) {
			box := toFractions(mt.Box, b)
			if maskedFraction(box, masks) >= 0.5 {
				// Mostly under a mask: what OCR made of the mask's edge, or
				// of text the mask hides, is not a leak.
				continue
			}
			hits = append(hits, Hit{Page: page, Kind: mt.Kind, Form: mt.Form, Box: box, Distance: mt.Distance})
		}
	}
	slices.SortStableFunc(hits, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(a.Box[1], b.Box[1]), cmp.Compare(a.Box[0], b.Box[0]))
	})
	return hits
}

func toFractions(r image.Rectangle, b image.Rectangle) Rect {
	w, h := float64(b.Dx()), float64(b.Dy())
	round := func(v float64) float64 { return math.Round(min(max(v, 0), 1)*1e4) / 1e4 }
	return Rect{
		round(float64(r.Min.X-b.Min.X) / w), round(float64(r.Min.Y-b.Min.Y) / h),
		round(float64(r.Max.X-b.Min.X) / w), round(float64(r.Max.Y-b.Min.Y) / h),
	}
}

// maskedFraction estimates how much of box lies under the union of masks
// by sampling a grid: masks overlap one another, and a grid is simpler and
// exact enough for a "mostly" test.
func maskedFraction(box Rect, masks []Rect) float64 {
	if len(masks) == 0 || box[2] <= box[0] || box[3] <= box[1] {
		return 0
	}
	const n = 16
	in := 0
	for i := range n {
		x := box[0] + (float64(i)+0.5)/n*(box[2]-box[0])
		for j := range n {
			y := box[1] + (float64(j)+0.5)/n*(box[3]-box[1])
			if slices.ContainsFunc(masks, func(m Rect) bool { return x >= m[0] && x <= m[2] && y >= m[1] && y <= m[3] }) {
				in++
			}
		}
	}
	return float64(in) / (n * n)
}
