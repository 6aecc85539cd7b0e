package pipeline_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
)

// TestRepeatedPageUnmasked: the work summary (masked) uploaded again as an
// achievement — saved again by ImageMagick at another quality, or as the
// second page of a PDF made with img2pdf — without masks is returned,
// naming both places; masked in both places, it is accepted.
func TestRepeatedPageUnmasked(t *testing.T) {
	p := newPipeline(t)
	for _, c := range []struct {
		name string
		// make writes the copy into dir and returns its file and the
		// page the summary is on.
		make func(t *testing.T, dir, summary string) (string, int)
	}{
		{"saved again at quality 80 (convert)", func(t *testing.T, dir, summary string) (string, int) {
			sh(t, dir, "convert", summary, "-quality", "80", "again.jpg")
			return "again.jpg", 1
		}},
		{"page 2 of a PDF (img2pdf)", func(t *testing.T, dir, summary string) (string, int) {
			sh(t, dir, "img2pdf", "--imgsize", "300dpi", "-o", "again.pdf", "title-certificate.jpg", summary)
			return "again.pdf", 2
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, sub := sample(t, "eng-intermediate")
			summary := material(sub, "performance_summary")
			file, page := c.make(t, dir, summary.File)
			sub.Materials = append(sub.Materials, pipeline.Material{Type: "achievements", File: file})
			rep, _ := process(t, p, dir, sub)
			var got *finding.Finding
			for _, f := range rep.Findings {
				if f.Code == finding.RepeatedPageUnmasked && f.Page == page {
					got = &f
				}
			}
			if rep.Status != pipeline.Rejected || got == nil {
				t.Fatalf("status %s, findings %+v; want %s on page %d", rep.Status, rep.Findings, finding.RepeatedPageUnmasked, page)
			}
			if f := got; f.Type != "achievements" || !strings.Contains(f.MessageZH, "工作总结第1页") || !strings.Contains(f.MessageEN, "page 1 of the summary of professional work") {
				t.Errorf("finding does not name both places: %+v", f)
			}
			// Masked in both places (the masks where the summary's are), the
			// copy is accepted.
			last := &sub.Materials[len(sub.Materials)-1]
			for _, mk := range summary.Masks {
				mk.Page = page
				last.Masks = append(last.Masks, mk)
			}
			if page == 2 { // the certificate on page 1 needs its own masks
				last.Masks = append(last.Masks, material(sub, "current_title_certificate").Masks...)
			}
			rep, _ = process(t, p, dir, sub)
			if slices.ContainsFunc(rep.Findings, func(f finding.Finding) bool { return f.Code == finding.RepeatedPageUnmasked }) {
				t.Errorf("masked copy still reported: %+v", rep.Findings)
			}
		})
	}
}
