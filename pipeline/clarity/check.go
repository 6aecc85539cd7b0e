package clarity

import (
	"fmt"

	"github.com/blindpack/blindpack/pipeline/finding"
)

// Check judges a page's measures against the thresholds and returns one
// finding per failing measure, each with the measured value and the
// threshold. A failure that explains another measure's is reported alone,
// so that the applicant hears about the cause: a blank page is only blank;
// a page of too few pixels, enlarged for measuring, looks blurred and is
// only low-resolution; blur lightens and greys thin strokes, so a blurry
// page is not also called washed out or low in contrast; and a page too
// dark or washed out has low contrast because of it.
func Check(m Measures, t Thresholds) []*finding.Error {
	fail := func(code finding.Code, measured, threshold float64, cmp string) *finding.Error {
		mv, tv := finding.Num(measured), finding.Num(threshold)
		return &finding.Error{Code: code, Page: m.Page, Value: fmt.Sprintf("%s %s %s", mv, cmp, tv), Measured: mv, Threshold: tv}
	}
	below := func(v, limit float64) bool { return limit > 0 && v < limit }
	if below(m.InkPercent, t.MinInkPercent) {
		return []*finding.Error{fail(finding.BlankPage, m.InkPercent, t.MinInkPercent, "<")}
	}
	// A photo taken at a steep angle, or that cuts the sheet, must be taken
	// again whatever else is wrong with it: that is the one thing to say.
	var retake []*finding.Error
	if t.MaxSkewDegrees > 0 && m.Skew > t.MaxSkewDegrees {
		retake = append(retake, fail(finding.PageSkewed, m.Skew, t.MaxSkewDegrees, ">"))
	}
	if t.MaxCutOffPercent > 0 && m.CutOff > t.MaxCutOffPercent {
		retake = append(retake, fail(finding.PageCutOff, m.CutOff, t.MaxCutOffPercent, ">"))
	}
	if len(retake) > 0 {
		return retake
	}
	var out []*finding.Error
	lowRes := below(m.PPI, t.MinPPI)
	if lowRes {
		out = append(out, fail(finding.LowResolution, m.PPI, t.MinPPI, "<"))
	}
	if m.JPEGQuality > 0 && m.JPEGQuality < t.MinJPEGQuality {
		out = append(out, fail(finding.HeavyCompression, float64(m.JPEGQuality), float64(t.MinJPEGQuality), "<"))
	}
	blurry := !lowRes && below(m.Sharpness, t.MinSharpness)
	if blurry {
		out = append(out, fail(finding.Blurry, m.Sharpness, t.MinSharpness, "<"))
	}
	exposure := false
	if below(m.Paper, t.MinPaper) {
		out = append(out, fail(finding.TooDark, m.Paper, t.MinPaper, "<"))
		exposure = true
	}
	if !blurry && t.MaxInkLevel > 0 && m.InkLevel > t.MaxInkLevel {
		out = append(out, fail(finding.Overexposed, m.InkLevel, t.MaxInkLevel, ">"))
		exposure = true
	}
	if !blurry && !exposure && below(m.Contrast, t.MinContrast) {
		out = append(out, fail(finding.LowContrast, m.Contrast, t.MinContrast, "<"))
	}
	return out
}
