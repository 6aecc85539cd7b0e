package clarity

import (
	"slices"
	"testing"

	"github.com/blindpack/blindpack/pipeline/finding"
)

func TestCheck(t *testing.T) {
	th := Thresholds{MinPPI: 100, MinSharpness: 31, MinPaper: 100, MaxInkLevel: 200, MinContrast: 45, MinInkPercent: 0.05, MinJPEGQuality: 20}
	good := Measures{Page: 3, PPI: 150, Sharpness: 50, Paper: 245, InkLevel: 90, Contrast: 150, InkPercent: 8, JPEGQuality: 85}
	with := func(f func(*Measures)) Measures { m := good; f(&m); return m }
	for _, tc := range []struct {
		name string
		m    Measures
		t    Thresholds
		want []finding.Code
	}{
		{"clear", good, th, nil},
		{"PNG has no JPEG quality", with(func(m *Measures) { m.JPEGQuality = 0 }), th, nil},
		{"blank, and so everything else", with(func(m *Measures) { m.InkPercent, m.Sharpness, m.Contrast, m.PPI = 0.01, 0, 0, 50 }), th, []finding.Code{finding.BlankPage}},
		{"low resolution looks blurred too", with(func(m *Measures) { m.PPI, m.Sharpness = 72, 25 }), th, []finding.Code{finding.LowResolution}},
		{"compressed", with(func(m *Measures) { m.JPEGQuality = 8 }), th, []finding.Code{finding.HeavyCompression}},
		{"blurry, with the faded strokes blur makes", with(func(m *Measures) { m.Sharpness, m.InkLevel, m.Contrast = 20, 210, 40 }), th, []finding.Code{finding.Blurry}},
		{"dark, with the contrast darkness takes", with(func(m *Measures) { m.Paper, m.Contrast = 60, 40 }), th, []finding.Code{finding.TooDark}},
		{"washed out", with(func(m *Measures) { m.InkLevel, m.Contrast = 220, 30 }), th, []finding.Code{finding.Overexposed}},
		{"foggy", with(func(m *Measures) { m.Contrast = 30 }), th, []finding.Code{finding.LowContrast}},
		{"independent causes each reported", with(func(m *Measures) { m.JPEGQuality, m.Sharpness, m.Paper = 8, 20, 60 }), th,
			[]finding.Code{finding.HeavyCompression, finding.Blurry, finding.TooDark}},
		{"zero thresholds turn checks off", with(func(m *Measures) { m.Sharpness, m.InkPercent = 1, 0 }), Thresholds{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []finding.Code
			for _, e := range Check(tc.m, tc.t) {
				got = append(got, e.Code)
				if e.Page != tc.m.Page || e.Measured == nil || e.Threshold == nil {
					t.Errorf("%s: page %d, measured %v, threshold %v", e.Code, e.Page, e.Measured, e.Threshold)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("codes %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("numbers", func(t *testing.T) {
		errs := Check(with(func(m *Measures) { m.Sharpness = 27.3456 }), th)
		if len(errs) != 1 || errs[0].Measured.String() != "27.3" || errs[0].Threshold.String() != "31" {
			t.Fatalf("errs %v", errs)
		}
		f := finding.New(errs[0].Code, finding.Args{MaterialZH: "工作总结", MaterialEN: "summary of professional work", Page: 3,
			Measured: errs[0].Measured, Threshold: errs[0].Threshold})
		if f.MessageZH != "工作总结第3页图像模糊（清晰度 27.3，需 ≥ 31），请放平材料、对准焦点、保持稳定后重新扫描或拍摄。" {
			t.Errorf("message %q", f.MessageZH)
		}
	})
}
