package finding

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestNum(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{150, "150"}, {149.996, "150"}, {27.3456, "27.3"}, {0.011734, "0.0117"}, {0.05, "0.05"}, {1234.5, "1230"}, {0, "0"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := Num(tc.v).String(); got != tc.want {
				t.Errorf("Num(%v) = %s, want %s", tc.v, got, tc.want)
			}
		})
	}
	if s := (*Number)(nil).String(); s != "" {
		t.Errorf("nil Number formats as %q", s)
	}
}

func TestMeasuredFindings(t *testing.T) {
	f := New(Blurry, Args{MaterialZH: "申报表", MaterialEN: "application form", Page: 3, Measured: Num(24.04), Threshold: Num(31)})
	if f.MessageZH != "申报表第3页图像模糊（清晰度 24，需 ≥ 31），请放平材料、对准焦点、保持稳定后重新扫描或拍摄。" {
		t.Errorf("zh: %s", f.MessageZH)
	}
	if !strings.HasPrefix(f.MessageEN, "Page 3 of the application form is blurry (sharpness 24, at least 31 needed)") {
		t.Errorf("en: %s", f.MessageEN)
	}
	js, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"measured":24,"threshold":31`) {
		t.Errorf("json %s", js)
	}
	// A finding that measures nothing carries no numbers, and its template
	// is filled as before.
	g := New(CorruptFile, Args{MaterialEN: "degree certificate", Page: 2})
	if g.Measured != nil || g.Threshold != nil || g.MessageEN != "Page 2 of the degree certificate is damaged or incomplete and cannot be opened; scan and upload it again." {
		t.Errorf("%+v", g)
	}
}

// TestClarityMessagesAreComplete: every clarity code has both sentences,
// each quoting the page, the measured value and the threshold.
func TestClarityMessagesAreComplete(t *testing.T) {
	for _, c := range []Code{BlankPage, LowResolution, HeavyCompression, Blurry, TooDark, Overexposed, LowContrast} {
		t.Run(string(c), func(t *testing.T) {
			f := New(c, Args{MaterialZH: "工作总结", MaterialEN: "summary", Page: 7, Measured: Num(12.5), Threshold: Num(99)})
			for _, m := range []string{f.MessageZH, f.MessageEN} {
				if !strings.Contains(m, "7") || !strings.Contains(m, "12.5") || !strings.Contains(m, "99") || strings.Contains(m, "{") {
					t.Errorf("message %q", m)
				}
			}
		})
	}
}
