package pipeline_test

import (
	"testing"
	"time"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
)

func TestAdmit(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	cal := &pipeline.Calendar{SubmitFrom: time.Date(2024, 9, 5, 0, 0, 0, 0, cst), SubmitUntil: time.Date(2024, 10, 1, 0, 0, 0, 0, cst)}
	rules := pipeline.ReturnRules{Window: 48 * time.Hour, MaxReturns: 3}
	during := time.Date(2024, 9, 20, 10, 0, 0, 0, cst)
	returned := func(n int, deadline time.Time) pipeline.Application {
		return pipeline.Application{Status: pipeline.AppReturned, Returns: n, Deadline: deadline, Outcomes: map[string]pipeline.Status{"r1": pipeline.Rejected}}
	}
	for _, tc := range []struct {
		name string
		app  pipeline.Application
		sub  string
		at   time.Time
		cal  *pipeline.Calendar
		want finding.Code
	}{
		{"first submission in the period", pipeline.Application{}, "r1", during, cal, ""},
		{"first submission before the period", pipeline.Application{}, "r1", time.Date(2024, 9, 4, 23, 59, 0, 0, cst), cal, pipeline.OutsideSubmissionWindow},
		{"first submission on the last day", pipeline.Application{}, "r1", time.Date(2024, 9, 30, 23, 59, 0, 0, cst), cal, ""},
		{"first submission after the period", pipeline.Application{}, "r1", time.Date(2024, 10, 1, 0, 0, 0, 0, cst), cal, pipeline.OutsideSubmissionWindow},
		{"campaign not configured", pipeline.Application{}, "r1", during, nil, pipeline.UnknownCampaign},
		{"resubmission within 48 hours", returned(1, during.Add(48*time.Hour)), "r2", during.Add(47 * time.Hour), cal, ""},
		{"resubmission after the period but within 48 hours", returned(1, time.Date(2024, 10, 3, 9, 0, 0, 0, cst)), "r2", time.Date(2024, 10, 2, 9, 0, 0, 0, cst), cal, ""},
		{"resubmission after 48 hours", returned(1, during.Add(48*time.Hour)), "r2", during.Add(49 * time.Hour), cal, pipeline.ResubmissionOverdue},
		{"fourth submission after three returns", returned(3, during.Add(48*time.Hour)), "r4", during.Add(time.Hour), cal, pipeline.TooManyReturns},
		{"third return's own submission run again", pipeline.Application{Status: pipeline.AppReturned, Returns: 3, Outcomes: map[string]pipeline.Status{"r3": pipeline.Rejected}}, "r3", during.Add(90 * 24 * time.Hour), cal, ""},
		{"after acceptance", pipeline.Application{Status: pipeline.AppAccepted, Outcomes: map[string]pipeline.Status{"r1": pipeline.Accepted}}, "r2", during, cal, pipeline.AlreadyAccepted},
		{"accepted submission run again", pipeline.Application{Status: pipeline.AppAccepted, Outcomes: map[string]pipeline.Status{"r1": pipeline.Accepted}}, "r1", during, cal, ""},
		{"abandoned", pipeline.Application{Status: pipeline.AppAbandoned, Returns: 1}, "r2", during, cal, pipeline.ApplicationAbandoned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := pipeline.Admit(tc.app, tc.sub, tc.at, rules, tc.cal)
			switch {
			case tc.want == "" && f != nil:
				t.Fatalf("refused: %s %s", f.Code, f.MessageEN)
			case tc.want != "" && (f == nil || f.Code != tc.want):
				t.Fatalf("got %v, want %s", f, tc.want)
			case f != nil && (f.MessageZH == "" || f.MessageEN == ""):
				t.Fatalf("no message: %+v", f)
			}
		})
	}
}
