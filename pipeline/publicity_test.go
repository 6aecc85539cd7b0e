package pipeline_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/policy"
)

// TestPublicityPeriod: the employer's publicity must last at least five
// working days under the official calendar. Across 中秋 2024 (Saturday
// 14 September worked, 15–17 off), 12–18 September is four working days,
// a finding; 12–19 is five, accepted.
func TestPublicityPeriod(t *testing.T) {
	required := policy.Default()
	required.Publicity.RequirePeriod = true
	withRequired, err := pipeline.New(pipeline.Config{Policy: required, AnonSecret: []byte("test-secret-0123456789"), Font: newPipelineFont(t)})
	if err != nil {
		t.Fatal(err)
	}
	p := newPipeline(t)
	for _, tt := range []struct {
		name     string
		p        *pipeline.Pipeline
		on       string // material type that carries the period
		period   *pipeline.Publicity
		want     finding.Code // "" for accepted
		measured string
	}{
		{"FourDaysAcrossHoliday", p, "employer_publicity", &pipeline.Publicity{Start: "2024-09-12", End: "2024-09-18"}, finding.PublicityTooShort, "4"},
		{"FiveDaysAcrossHoliday", p, "employer_publicity", &pipeline.Publicity{Start: "2024-09-12", End: "2024-09-19"}, "", ""},
		{"FiveCalendarDaysOverAWeekend", p, "employer_publicity", &pipeline.Publicity{Start: "2024-09-05", End: "2024-09-09"}, finding.PublicityTooShort, "3"},
		{"AWeek", p, "employer_publicity", &pipeline.Publicity{Start: "2024-09-02", End: "2024-09-06"}, "", ""},
		{"MissingAndNotRequired", p, "", nil, "", ""},
		{"MissingAndRequired", withRequired, "", nil, finding.PublicityPeriodMissing, ""},
		{"GivenAndRequired", withRequired, "employer_publicity", &pipeline.Publicity{Start: "2024-09-02", End: "2024-09-06"}, "", ""},
		{"EndBeforeStart", p, "employer_publicity", &pipeline.Publicity{Start: "2024-09-06", End: "2024-09-02"}, finding.InvalidField, ""},
		{"NotADate", p, "employer_publicity", &pipeline.Publicity{Start: "2024/09/02", End: "2024-09-06"}, finding.InvalidField, ""},
		{"OnAnotherMaterial", p, "publicity_result", &pipeline.Publicity{Start: "2024-09-02", End: "2024-09-06"}, finding.InvalidField, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, sub := sample(t, "eng-intermediate")
			if tt.on != "" {
				material(sub, tt.on).Publicity = tt.period
			}
			rep, _ := process(t, tt.p, dir, sub)
			if tt.want == "" {
				if rep.Status != pipeline.Accepted {
					t.Fatalf("status %s, findings %+v", rep.Status, rep.Findings)
				}
				return
			}
			if rep.Status != pipeline.Rejected {
				t.Fatalf("status %s, want rejected with %s", rep.Status, tt.want)
			}
			i := slices.IndexFunc(rep.Findings, func(f finding.Finding) bool { return f.Code == tt.want })
			if i < 0 {
				t.Fatalf("findings %+v, want %s", rep.Findings, tt.want)
			}
			f := rep.Findings[i]
			if f.Material == nil || f.MessageZH == "" || f.MessageEN == "" {
				t.Errorf("finding %+v lacks its material or messages", f)
			}
			if tt.measured != "" {
				if f.Measured.String() != tt.measured || f.Threshold.String() != "5" {
					t.Errorf("measured %s of %s working days, want %s of 5", f.Measured, f.Threshold, tt.measured)
				}
				if !strings.Contains(f.MessageZH, tt.period.Start+" 至 "+tt.period.End) || !strings.Contains(f.MessageEN, "working days") {
					t.Errorf("messages do not say the period: %s / %s", f.MessageZH, f.MessageEN)
				}
			}
		})
	}
}

// TestPublicityStrictJSON: an unknown key in the period is refused, and
// the finding says where — not which key: a submission's member names are
// its author's words and are never quoted (package strictjson).
func TestPublicityStrictJSON(t *testing.T) {
	doc := `{"schema":"blindpack/submission@1","materials":[{"type":"employer_publicity","file":"p.pdf","masks":[],
		"publicity":{"start":"2024-09-02","end":"2024-09-06","days":5}}]}`
	_, err := pipeline.ParseSubmission([]byte(doc))
	if err == nil || !strings.Contains(err.Error(), "unknown member in /materials/0/publicity") || strings.Contains(err.Error(), "days") {
		t.Errorf("unknown key in publicity: err = %v", err)
	}
}
