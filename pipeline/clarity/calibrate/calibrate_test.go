package calibrate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline/clarity"
	"github.com/blindpack/blindpack/pipeline/clarity/calibrate"
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
	res := calibrateSet(t, calibrate.Run)
	u := res.Unreadable()
	if u.Support == 0 || u.Precision < 0.95 || u.Recall < 0.95 {
		t.Errorf("unreadable pages: precision %.3f, recall %.3f over %d; want both ≥ 0.95", u.Precision, u.Recall, u.Support)
	}
	for _, s := range res.PerReason() {
		if s.Support == 0 {
			t.Errorf("the set has no page labelled %s", s.Class)
		}
	}
}

// TestPhotoCalibration runs the default thresholds over the labelled phone
// photos (internal/synth.PhotoSet: pages laid on a desk by ImageMagick, in
// good, dim and too little light, shaken, tilted, cut, one shot as HEIC by
// heif-enc): not one readable photo rejected, every unreadable one rejected
// for its own reason. `blindpack calibrate --photos` prints the same tables.
func TestPhotoCalibration(t *testing.T) {
	if testing.Short() {
		t.Skip("draws 42 photos with ImageMagick and heif-enc (about 100 CPU-seconds)")
	}
	testenv.Tool(t, "convert")
	testenv.Tool(t, "heif-enc")
	res := calibrateSet(t, calibrate.RunPhotos)
	for _, row := range res.Rows {
		if row.Label != "" && row.Got != row.Label {
			t.Errorf("%s: got %q (%v), want %s (%+v)", row.Name, row.Got, row.Codes, row.Label, row.Measures)
		}
	}
}

// calibrateSet runs a labelled set against the default thresholds, logs its
// tables and fails on every readable page rejected.
func calibrateSet(t *testing.T, run func(context.Context, clarity.Thresholds, int) (*calibrate.Result, error)) *calibrate.Result {
	t.Helper()
	res, err := run(context.Background(), policy.Default().Clarity, 0)
	if err != nil {
		t.Fatal(err)
	}
	var tables strings.Builder
	if err := res.WriteTables(&tables); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + tables.String())
	for _, row := range res.WronglyRejected() {
		t.Errorf("%s is readable but was rejected: %v (%+v)", row.Name, row.Codes, row.Measures)
	}
	return res
}
