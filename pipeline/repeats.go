package pipeline

import (
	"fmt"

	"github.com/blindpack/blindpack/pipeline/clarity"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/policy"
)

// seenPage is what a run remembers of each page it measured, to find the
// pages that repeat one another.
type seenPage struct {
	material, page int
	hash           clarity.PageHash
	masked         bool
	// forReviewers: the page goes into the packet.
	forReviewers bool
}

// repeats reports each page for reviewers that has no masks but repeats a
// page that has them: an applicant who uploads a page twice (in two
// materials, or twice in one file) and masks only one copy would
// otherwise send the other to reviewers as it is. The finding is on the
// unmasked copy and names the masked one.
func (r *run) repeats() {
	for _, b := range r.seen {
		if b.masked || !b.forReviewers {
			continue
		}
		for _, a := range r.seen {
			if !a.masked || !a.hash.Repeats(b.hash) {
				continue
			}
			specA, _ := r.p.cfg.Policy.Material(r.sub.Materials[a.material].Type)
			specB, _ := r.p.cfg.Policy.Material(r.sub.Materials[b.material].Type)
			r.addRepeat(b, specB, a, specA)
			break
		}
	}
}

func (r *run) addRepeat(b seenPage, specB policy.Material, a seenPage, specA policy.Material) {
	f := finding.New(finding.RepeatedPageUnmasked, finding.Args{MaterialZH: specB.ShortZH, MaterialEN: specB.EN, Page: b.page,
		Value: fmt.Sprintf("%s第%d页", specA.ShortZH, a.page), ValueEN: fmt.Sprintf("page %d of the %s", a.page, specA.EN)})
	i := b.material
	f.Material, f.Type = &i, r.sub.Materials[i].Type
	f.Detail = fmt.Sprintf("material %d page %d repeats material %d page %d", b.material, b.page, a.material, a.page)
	r.findings = append(r.findings, f)
	r.log.Info("finding", "material", i, "type", f.Type, "page", f.Page, "code", f.Code, "detail", f.Detail)
}
