package pipeline_test

import (
	"slices"
	"testing"

	"github.com/blindpack/blindpack/pipeline"
)

func TestStatusVocabulary(t *testing.T) {
	for _, s := range pipeline.Statuses() {
		o, ok := s.Outcome()
		if !ok || !s.Valid() || s.ZH() == "" || !s.State().Valid() {
			t.Errorf("status %q: outcome %+v %v, zh %q", s, o, ok, s.ZH())
		}
		if o.Application != "" && !o.Application.Valid() {
			t.Errorf("status %q leads to unknown application status %q", s, o.Application)
		}
	}
	for _, s := range pipeline.ApplicationStatuses() {
		if !s.Valid() || s.ZH() == "" {
			t.Errorf("application status %q has no name", s)
		}
	}
	for _, s := range []pipeline.SubmissionState{pipeline.Queued, pipeline.Processing, pipeline.Retrying, pipeline.Failed} {
		if !s.Valid() || s.ZH() == "" {
			t.Errorf("state %q has no name", s)
		}
	}
	if pipeline.Status("returned").Valid() || pipeline.ApplicationStatus("rejected").Valid() || pipeline.SubmissionState("returned").Valid() {
		t.Error("a value of one vocabulary passes for another's")
	}
	if got := pipeline.ReturnStatuses(); !slices.Equal(got, []pipeline.Status{pipeline.Rejected}) {
		t.Errorf("returns %v", got)
	}
	if pipeline.Held.Decides() || slices.Contains(pipeline.ReturnStatuses(), pipeline.Held) || pipeline.Refused.Decides() || !pipeline.Accepted.Decides() || !pipeline.Rejected.Decides() || pipeline.Status("").Decides() {
		t.Error("Decides")
	}
}

func TestListed(t *testing.T) {
	for _, c := range []struct {
		app    pipeline.ApplicationStatus
		last   pipeline.Status
		listed string
		ok     bool
	}{
		{pipeline.AppPending, "", "pending", false},
		{pipeline.AppReturned, pipeline.Rejected, "returned", true},
		{pipeline.AppAbandoned, pipeline.Rejected, "abandoned", true},
		{pipeline.AppAccepted, pipeline.Accepted, "accepted", false},
		// A refusal decides nothing but needs a look, whatever the status.
		{pipeline.AppAccepted, pipeline.Refused, "refused", true},
		{pipeline.AppPending, pipeline.Refused, "refused", true},
		{pipeline.AppReturned, pipeline.Refused, "refused", true},
		// A hold is not a return and decides nothing: listed as held,
		// for an administrator to release or return.
		{pipeline.AppPending, pipeline.Held, "held", true},
		{pipeline.AppReturned, pipeline.Held, "held", true},
	} {
		if got, ok := pipeline.Listed(c.app, c.last); got != c.listed || ok != c.ok {
			t.Errorf("Listed(%s, %s) = %q %v, want %q %v", c.app, c.last, got, ok, c.listed, c.ok)
		}
	}
	if got := pipeline.Listings(); !slices.Equal(got, []string{"abandoned", "returned", "held", "refused"}) {
		t.Errorf("listings %v", got)
	}
}
