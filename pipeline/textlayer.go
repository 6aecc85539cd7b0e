package pipeline

import (
	"math"

	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/identity"
	"github.com/blindpack/blindpack/pipeline/mask"
	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/pipeline/scan"
)

// unmaskedInText returns the findings for a page's text layer: one
// identity_unmasked for every exact occurrence of a form of the identity
// that the page's masks do not cover (identity.Match.Masked). The text
// layer is what the page says, so no OCR and no tolerance are needed; a
// reviewer would read the same characters off the rendered page. a names
// the material and the page.
func unmaskedInText(m *identity.Matcher, text []scan.Glyph, masks []mask.Rect, a finding.Args) []finding.Finding {
	if len(text) == 0 {
		return nil
	}
	gs := make([]identity.Glyph, len(text))
	for i, g := range text {
		gs[i] = identity.Glyph(g)
	}
	rects := make([][4]float64, len(masks))
	for i, r := range masks {
		rects[i] = r
	}
	var out []finding.Finding
	for _, mt := range m.Find(gs) {
		if mt.Masked(rects) {
			continue
		}
		out = append(out, unmaskedFinding(mt.Kind, mt.Box, a))
	}
	return out
}

// unmaskedFinding is the finding for an occurrence of kind at box, its
// message saying where on the page in words.
func unmaskedFinding(kind identity.Kind, box identity.Box, a finding.Args) finding.Finding {
	zh, en := placeWords(box)
	if kind == identity.KindName {
		a.Value, a.ValueEN = zh+"的本人姓名", "your name "+en
	} else {
		a.Value, a.ValueEN = zh+"的本人工作单位", "your employer "+en
	}
	f := finding.New(finding.IdentityUnmasked, a)
	b := [4]float64{}
	for i, v := range box {
		b[i] = math.Round(min(max(v, 0), 1)*1e4) / 1e4
	}
	f.Box = &b
	return f
}

// placeWords names the ninth of the page that holds the centre of box.
func placeWords(box identity.Box) (zh, en string) {
	third := func(v float64) int { return min(max(int(v*3), 0), 2) }
	col, row := third((box[0]+box[2])/2), third((box[1]+box[3])/2)
	zhRow := [3]string{"上部", "中部", "下部"}
	zhCol := [3]string{"偏左处", "居中处", "偏右处"}
	enRow := [3]string{"upper", "middle", "lower"}
	enCol := [3]string{"left", "centre", "right"}
	if row == 1 && col == 1 {
		return "页面中央", "in the centre"
	}
	return zhRow[row] + zhCol[col], "in the " + enRow[row] + " " + enCol[col]
}

// checkText adds a finding for every place the page's text layer shows
// the identity outside its masks. A page with no text layer (a scan) has
// nothing to check here.
func (r *run) checkText(i int, spec policy.Material, page *scan.Page, masks []mask.Rect) {
	if len(page.Text) == 0 {
		return
	}
	a := finding.Args{MaterialZH: spec.ShortZH, MaterialEN: spec.EN, Page: page.Number}
	for _, f := range unmaskedInText(r.matcher(), page.Text, masks, a) {
		f.Material, f.Type = &i, r.sub.Materials[i].Type
		r.findings = append(r.findings, f)
		r.log.Info("finding", "material", i, "type", f.Type, "page", f.Page, "code", f.Code)
	}
}

// matcher is the submission's identity matcher, made on first use.
func (r *run) matcher() *identity.Matcher {
	if r.identity == nil {
		r.identity = identity.NewMatcher(identity.Identity{Name: r.sub.Identity.Name, Employer: r.sub.Identity.Employer})
	}
	return r.identity
}

// textNeed is what a material's rendered pages read of their text layer:
// for reviewers' materials, the text and the boxes of the identity's
// occurrences in it (all checkText looks at); for the others nothing, as
// nobody but an administrator sees them.
func (r *run) textNeed(forReviewers bool) scan.TextNeed {
	if !forReviewers {
		return scan.TextNeed{Skip: true}
	}
	return scan.TextNeed{Boxes: r.matcher().Ranges}
}
