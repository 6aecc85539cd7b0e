package pipeline

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/pipeline/scan"
)

// An engine that fails on its own (a sandbox that did not start) must not
// cost the applicant a return: the error goes up to be retried and no
// finding is recorded; anything else wrong with the file is a finding.
func TestFileErrEngineIsNotAFinding(t *testing.T) {
	r := &run{sub: &Submission{Materials: []Material{{Type: "paper"}}}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	spec := policy.Material{ShortZH: "论文", EN: "paper"}

	engine := fmt.Errorf("%w: heic: compile: out of memory", scan.ErrEngine)
	if err := r.fileErr(0, spec, engine); !errors.Is(err, scan.ErrEngine) {
		t.Fatalf("engine failure: got %v, want it returned", err)
	}
	if len(r.findings) != 0 {
		t.Fatalf("engine failure recorded as findings: %+v", r.findings)
	}

	if err := r.fileErr(0, spec, errors.New("png: invalid format")); err != nil {
		t.Fatalf("file's own error returned: %v", err)
	}
	if len(r.findings) != 1 || r.findings[0].Code != finding.CorruptFile {
		t.Fatalf("file's own error: findings %+v, want one corrupt_file", r.findings)
	}
	if err := r.fileErr(0, spec, finding.Errorf(finding.EncryptedPDF, 0, "", nil)); err != nil || r.findings[1].Code != finding.EncryptedPDF {
		t.Fatalf("finding error: err %v, findings %+v", err, r.findings)
	}
}
