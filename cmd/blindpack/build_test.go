//go:build !dev

package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// devPackages are what only the development commands link: test-input
// generators (one writes hostile PDFs), the bench and calibration
// harnesses, and an embedded Redis.
var devPackages = []string{
	"github.com/blindpack/blindpack/internal/synth.",
	"github.com/blindpack/blindpack/internal/rawpdf.",
	"github.com/blindpack/blindpack/internal/bench.",
	"github.com/blindpack/blindpack/internal/claritycal.",
	"github.com/alicebob/miniredis/v2.",
}

// TestProductionBinary builds blindpack as production does (no build
// tags) and proves, with the Go tools, that none of the development code is
// in it: no symbol of those packages (`go tool nm`), no miniredis module
// (`go version -m`); and that its demo says how to run the demo. The
// development build is checked to have them, so that the check can fail.
func TestProductionBinary(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	dir := t.TempDir()
	build := func(name string, tags ...string) string {
		out := filepath.Join(dir, name)
		args := []string{"build", "-o", out}
		if len(tags) > 0 {
			args = append(args, "-tags", strings.Join(tags, ","))
		}
		cmd := exec.Command(gobin, append(args, ".")...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return out
	}
	tool := func(args ...string) string {
		b, err := exec.Command(gobin, args...).Output()
		if err != nil {
			t.Fatalf("go %s: %v", strings.Join(args, " "), err)
		}
		return string(b)
	}
	has := func(bin string) (syms []string, miniredis bool) {
		nm := tool("tool", "nm", bin)
		for _, p := range devPackages {
			if strings.Contains(nm, " "+p) {
				syms = append(syms, strings.TrimSuffix(p, "."))
			}
		}
		return syms, strings.Contains(tool("version", "-m", bin), "github.com/alicebob/miniredis")
	}

	prod := build("blindpack")
	if syms, mini := has(prod); len(syms) > 0 || mini {
		t.Errorf("the production binary links %v (miniredis module: %t)", syms, mini)
	}
	dev := build("blindpack-dev", "dev")
	if syms, mini := has(dev); len(syms) != len(devPackages) || !mini {
		t.Errorf("the development binary links only %v (miniredis module: %t): the check cannot see them", syms, mini)
	}

	for _, name := range []string{"demo", "bench", "calibrate"} {
		var stderr bytes.Buffer
		cmd := exec.Command(prod, name)
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), "development command") {
			t.Errorf("production %s: %v, %q; want exit 2 saying how to run it", name, err, stderr.String())
		}
	}
	var stderr bytes.Buffer
	cmd := exec.Command(prod, "help")
	cmd.Stderr = &stderr
	cmd.Run()
	if !strings.Contains(stderr.String(), "demo") || !strings.Contains(stderr.String(), "make demo") {
		t.Errorf("production usage does not say where the demo is:\n%s", stderr.String())
	}
}
