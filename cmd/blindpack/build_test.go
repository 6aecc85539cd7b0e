//go:build !dev

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// devPackages are what only the development commands link: test-input
// generators (one writes hostile PDFs), the bench and calibration
// harnesses, and an embedded Redis.
var devPackages = []string{
	"github.com/blindpack/blindpack/internal/synth.",
	"github.com/blindpack/blindpack/internal/rawpdf.",
	"github.com/blindpack/blindpack/internal/bench.",
	"github.com/blindpack/blindpack/pipeline/clarity/calibrate.",
	"github.com/alicebob/miniredis/v2.",
}

// TestProductionBinary builds blindpack as production does (no build
// tags) and proves, with the Go tools, that none of the development code is
// in it: no symbol of those packages (`go tool nm`), no miniredis module
// (`go version -m`); and that its demo says how to run the demo. The
// development build is checked to have them, so that the check can fail.
func TestProductionBinary(t *testing.T) {
	prod, dev := binaries(t)
	gobin, _ := exec.LookPath("go")
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

	if syms, mini := has(prod); len(syms) > 0 || mini {
		t.Errorf("the production binary links %v (miniredis module: %t)", syms, mini)
	}
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

var (
	buildOnce          sync.Once
	prodBin, devBin    string
	buildDir, buildErr string
)

// binaries builds blindpack once for the package's tests, as production
// (`make build`) and as the development build (`make build-dev`).
func binaries(t *testing.T) (prod, dev string) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "blindpack-build-")
		if err != nil {
			buildErr = err.Error()
			return
		}
		buildDir = dir
		for _, b := range []struct {
			out  *string
			name string
			args []string
		}{{&prodBin, "blindpack", nil}, {&devBin, "blindpack-dev", []string{"-tags", "dev"}}} {
			*b.out = filepath.Join(dir, b.name)
			args := append(append([]string{"build", "-o", *b.out}, b.args...), ".")
			if out, err := exec.Command(gobin, args...).CombinedOutput(); err != nil {
				buildErr = fmt.Sprintf("go %s: %v\n%s", strings.Join(args, " "), err, out)
				return
			}
		}
	})
	if buildErr != "" {
		t.Fatal(buildErr)
	}
	return prodBin, devBin
}

// TestMain removes the binaries built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// TestDemoInstallsOnlyWhatItUses: `make demo` installs the demo's set of
// packages, not the tests' (Chromium, Tesseract, ImageMagick, Redis...),
// and the demo indeed runs with no program on PATH at all.
func TestDemoInstallsOnlyWhatItUses(t *testing.T) {
	list := func(set string) []string {
		out, err := exec.Command("bash", "../../deploy/local/install-deps.sh", "--list", set).Output()
		if err != nil {
			t.Fatalf("install-deps.sh --list %s: %v", set, err)
		}
		return strings.Fields(string(out))
	}
	demo, all := list("demo"), list("test")
	if want := []string{"libjpeg62-turbo-dev", "fonts-wqy-zenhei"}; !slices.Equal(demo, want) {
		t.Errorf("the demo's packages: %v, want %v", demo, want)
	}
	for _, p := range append(demo, "chromium", "tesseract-ocr", "imagemagick", "redis-server", "poppler-utils") {
		if !slices.Contains(all, p) {
			t.Errorf("the tests' packages lack %s", p)
		}
	}
	if _, err := exec.LookPath("make"); err == nil {
		out, err := exec.Command("make", "-s", "-n", "-C", "../..", "demo").Output()
		if err != nil {
			t.Fatalf("make -n demo: %v", err)
		}
		if !strings.Contains(string(out), "install-deps.sh demo\n") || strings.Contains(string(out), "install-deps.sh test") {
			t.Errorf("make demo does not install the demo's set only:\n%s", out)
		}
	}

	_, dev := binaries(t)
	sampleDir, err := filepath.Abs(samples)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dev, "demo", "--samples", sampleDir, "--out", t.TempDir(), "--log-level", "warn")
	cmd.Env = []string{"PATH=", "HOME=" + t.TempDir()}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the demo with nothing on PATH: %v\n%s", err, out)
	} else if !strings.Contains(string(out), "accepted") {
		t.Errorf("demo output:\n%s", out)
	}
}
