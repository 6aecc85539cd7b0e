package scan_test

import (
	"context"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/internal/claritycal"
	"github.com/blindpack/blindpack/pipeline/policy"
)

// TestClarityCalibration runs the default thresholds over the labelled
// synthetic set (internal/synth.ClaritySet): at least 95% precision and
// recall on unreadable pages, and not one page a person reads easily
// rejected — the promise of the notice's "unclear scans are returned"
// without its abuse. `blindpack calibrate` prints the same tables.
func TestClarityCalibration(t *testing.T) {
	if testing.Short() {
		t.Skip("draws and measures a few hundred pages (about half a minute on two cores)")
	}
	res, err := claritycal.Run(context.Background(), policy.Default().Clarity, 0)
	if err != nil {
		t.Fatal(err)
	}
	var tables strings.Builder
	if err := res.WriteTables(&tables); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + tables.String())

	u := res.Unreadable()
	if u.Support == 0 || u.Precision < 0.95 || u.Recall < 0.95 {
		t.Errorf("unreadable pages: precision %.3f, recall %.3f over %d; want both ≥ 0.95", u.Precision, u.Recall, u.Support)
	}
	for _, row := range res.WronglyRejected() {
		t.Errorf("%s is readable but was rejected: %v (%+v)", row.Name, row.Codes, row.Measures)
	}
	for _, s := range res.PerReason() {
		if s.Support == 0 {
			t.Errorf("the set has no page labelled %s", s.Class)
		}
	}
}
