package clarity

import "fmt"

// Thresholds are the limits Check judges Measures by. They are set in the
// policy (the clarity: section of pipeline/policy/default.yaml, which says
// how each default was chosen), hence the YAML names. A threshold of 0
// turns its check off.
type Thresholds struct {
	// MinPPI is the lowest effective resolution, in pixels per inch.
	MinPPI float64 `yaml:"min_ppi"`
	// MinSharpness is the lowest sharpness score.
	MinSharpness float64 `yaml:"min_sharpness"`
	// MinPaper is the darkest the paper may look, 0–255.
	MinPaper float64 `yaml:"min_paper"`
	// MaxInkLevel is the lightest the writing may look, 0–255.
	MaxInkLevel float64 `yaml:"max_ink_level"`
	// MinContrast is the least difference between writing and paper,
	// 0–255.
	MinContrast float64 `yaml:"min_contrast"`
	// MinInkPercent is the least share of the page, in percent, that must
	// carry writing for it not to be blank.
	MinInkPercent float64 `yaml:"min_ink_percent"`
	// MinJPEGQuality is the lowest estimated JPEG quality, 1–100.
	MinJPEGQuality int `yaml:"min_jpeg_quality"`
	// MaxSkewDegrees is how far the edges of a photographed sheet may turn
	// from the photo's axes, in degrees.
	MaxSkewDegrees float64 `yaml:"max_skew_degrees"`
	// MaxCutOffPercent is how much of a photographed sheet's outline, in
	// percent, writing may run off the photo along.
	MaxCutOffPercent float64 `yaml:"max_cut_off_percent"`
}

// Validate checks that every threshold is within the range of its measure.
func (c Thresholds) Validate() error {
	for _, f := range []struct {
		name     string
		v, limit float64
	}{
		{"min_ppi", c.MinPPI, 2400},
		{"min_sharpness", c.MinSharpness, 1000},
		{"min_paper", c.MinPaper, 255},
		{"max_ink_level", c.MaxInkLevel, 255},
		{"min_contrast", c.MinContrast, 255},
		{"min_ink_percent", c.MinInkPercent, 100},
		{"min_jpeg_quality", float64(c.MinJPEGQuality), 100},
		{"max_skew_degrees", c.MaxSkewDegrees, 45},
		{"max_cut_off_percent", c.MaxCutOffPercent, 100},
	} {
		if !(f.v >= 0 && f.v <= f.limit) { // also refuses NaN
			return fmt.Errorf("clarity.%s %v is outside 0–%v", f.name, f.v, f.limit)
		}
	}
	return nil
}
