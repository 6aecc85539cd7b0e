//go:build dev

package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/blindpack/blindpack/pipeline/clarity/calibrate"
)

// runCalibrate checks the labelled synthetic clarity set against the
// policy's clarity thresholds and prints the confusion matrix, precision and
// recall per reason, and the measures per variant: the evidence for the
// thresholds in default.yaml, and the way to judge a changed policy before
// deploying it.
func runCalibrate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("calibrate", flag.ContinueOnError)
	policyFile := fs.String("policy", "", "policy `file` (YAML) whose clarity thresholds to try; default: the policy built in")
	workers := fs.Int("workers", 0, "pages drawn and measured at once; 0 means one per CPU")
	photos := fs.Bool("photos", false, "the labelled phone photos instead (needs ImageMagick and heif-enc)")
	if err := parseFlags(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	pol, err := loadPolicy(*policyFile)
	if err != nil {
		return err
	}
	start := time.Now()
	run := calibrate.Run
	if *photos {
		run = calibrate.RunPhotos
	}
	res, err := run(ctx, pol.Clarity, *workers)
	if err != nil {
		return err
	}
	if err := res.WriteTables(os.Stdout); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s (%s)\n", res.Summary(), time.Since(start).Round(time.Second/10))
	return nil
}
