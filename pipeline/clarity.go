package pipeline

import (
	"github.com/blindpack/blindpack/pipeline/clarity"
	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/pipeline/scan"
)

// clarity judges the measures of a page of material i against the policy's
// clarity thresholds and records a finding, with the measured value and the
// threshold, for each check it fails. It reports whether the page passed.
// Every page is measured, administrators' materials too: an unreadable
// identity card is as much a reason to send the application back.
func (r *run) clarity(i int, spec policy.Material, page *scan.Page, m clarity.Measures) bool {
	errs := clarity.Check(m, r.p.cfg.Policy.Clarity)
	if o := r.overrides[[2]int{i, page.Number}]; o != nil {
		// A person looked at the page and judged it fine; what the checks
		// said is kept in the report beside their name and reason.
		for _, fe := range errs {
			o.Codes = append(o.Codes, fe.Code)
		}
		r.log.Info("clarity overridden", "material", i, "page", page.Number, "by", o.By, "codes", o.Codes)
		return true
	}
	for _, fe := range errs {
		r.add(i, spec, fe)
	}
	if len(errs) == 0 {
		r.log.Debug("page clear", "material", i, "page", m.Page, "ppi", m.PPI, "sharpness", m.Sharpness,
			"paper", m.Paper, "ink_level", m.InkLevel, "contrast", m.Contrast, "ink_percent", m.InkPercent, "jpeg_quality", m.JPEGQuality)
	}
	return len(errs) == 0
}
