//go:build !dev

package main

import (
	"context"
	"fmt"
)

// The development commands — demo, bench, calibrate — are not in the
// binary that runs in production: they link generators of test inputs
// (internal/synth; internal/rawpdf, which writes hostile PDFs), the
// benchmark and calibration harnesses and an embedded Redis (miniredis).
// They are built with the dev build tag (`make demo`, `make bench`, or
// `go run -tags dev ./cmd/blindpack …`); here they only say so.
var (
	runDemo      = devOnly("demo", "make demo")
	runBench     = devOnly("bench", "make bench")
	runCalibrate = devOnly("calibrate", "go run -tags dev ./cmd/blindpack calibrate")
)

// devBuild says whether this binary has the development commands.
const devBuild = false

func devOnly(name, how string) func(context.Context, []string) error {
	return func(context.Context, []string) error {
		return exitError{code: 2, err: fmt.Errorf("%s is a development command, not built into this binary: run `%s` in a checkout (or build with -tags dev)", name, how)}
	}
}
