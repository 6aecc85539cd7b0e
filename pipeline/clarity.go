package pipeline

import (
	"image"

	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/pipeline/scan"
)

// clarity measures a decoded page of material i against the policy's
// clarity thresholds and records a finding, with the measured value and the
// threshold, for each check it fails. It reports whether the page passed.
// Every page is measured, administrators' materials too: an unreadable
// identity card is as much a reason to send the application back.
func (r *run) clarity(i int, spec policy.Material, page *scan.Page, img image.Image) bool {
	m := scan.Measure(img, page)
	errs := scan.Check(m, r.p.cfg.Policy.Clarity)
	for _, fe := range errs {
		f := finding.New(fe.Code, finding.Args{MaterialZH: spec.ShortZH, MaterialEN: spec.EN, Page: fe.Page,
			Value: fe.Value, Measured: fe.Measured, Threshold: fe.Threshold})
		f.Material, f.Type = &i, r.sub.Materials[i].Type
		r.findings = append(r.findings, f)
		r.log.Info("finding", "material", i, "type", f.Type, "page", f.Page, "code", f.Code, "detail", fe.Error())
	}
	if len(errs) == 0 {
		r.log.Debug("page clear", "material", i, "page", m.Page, "ppi", m.PPI, "sharpness", m.Sharpness,
			"paper", m.Paper, "ink_level", m.InkLevel, "contrast", m.Contrast, "ink_percent", m.InkPercent, "jpeg_quality", m.JPEGQuality)
	}
	return len(errs) == 0
}
