//go:build dev

package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/storage"
)

// The development commands' tests: `go test -tags dev ./cmd/blindpack`
// (make test runs it).

func init() {
	flagCases["demo"] = []flagCase{{[]string{"--out", "d", "--quiet"}, "quiet", "true", nil}}
	flagCases["calibrate"] = []flagCase{{[]string{"--workers", "1", "--policy", "p.yaml"}, "policy", "p.yaml", nil}}
	flagCases["bench"] = []flagCase{{[]string{"--pages", "2", "--ppi", "150"}, "ppi", "150", nil}}
}

func TestDemo(t *testing.T) {
	out := t.TempDir()
	if err := runDemo(context.Background(), []string{"--samples", samples, "--out", out, "--log-level", "warn"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ campaign, applicant, submission string }{
		{"2024", "A2024-000123", "A2024-000123-r1"}, {"2024", "A2024-000456", "A2024-000456-r1"},
	} {
		rep := readReport(t, filepath.Join(out, "buckets", storage.ReportsBucket, storage.ReportKey(s.campaign, s.applicant, s.submission)))
		if rep.Status != pipeline.Accepted {
			t.Errorf("%s: %s", s.submission, rep.Status)
			continue
		}
		if _, err := os.Stat(filepath.Join(out, "buckets", rep.Packet.Location)); err != nil {
			t.Error(err)
		}
	}
}
