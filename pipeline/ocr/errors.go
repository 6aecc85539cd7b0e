package ocr

import (
	"errors"
	"fmt"
	"strings"
)

// ErrToolMissing is returned (wrapped) when an external program the stage
// needs — tesseract, its chi_sim language data, pdftoppm — is not
// installed. A queue should retry the task elsewhere: another worker may
// have it.
var ErrToolMissing = errors.New("ocr: external tool not installed")

// ErrPageTooLarge is returned (wrapped) when a rendered page would exceed
// the pixel budget: packet pages are A4 scans, so this means a malformed
// page size, not a page to read.
var ErrPageTooLarge = errors.New("ocr: page too large to read")

// ToolError is a failed run of an external program: which operation, the
// program's exit, and the end of what it wrote on stderr, which is where
// tesseract and pdftoppm say what went wrong.
type ToolError struct {
	Op     string
	Err    error
	Stderr string
}

// Error says which tool failed, how, and what it said.
func (e *ToolError) Error() string {
	s := fmt.Sprintf("ocr: %s: %v", e.Op, e.Err)
	if msg := strings.TrimSpace(e.Stderr); msg != "" {
		s += ": " + msg
	}
	return s
}

// Unwrap returns the cause: the exit error, or the context's error when
// the tool was killed for a timeout or cancellation.
func (e *ToolError) Unwrap() error { return e.Err }
