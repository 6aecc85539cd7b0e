package result

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidBatch is wrapped by every error that a bad batch document
// causes: retrying cannot help, the document must be fixed.
var ErrInvalidBatch = errors.New("result: invalid batch")

// ErrUnsigned is returned (wrapped) by Verify for a file without a signature.
var ErrUnsigned = errors.New("result: file is not signed")

// ErrConfig is returned (wrapped) for unusable configuration: fonts, keys,
// options.
var ErrConfig = errors.New("result: invalid configuration")

// Problem is one thing wrong with a batch document, located by its JSON
// path (e.g. "approved[3].series") and explained in both languages.
type Problem struct {
	Field string `json:"field"`
	ZH    string `json:"message_zh"`
	EN    string `json:"message_en"`
}

func (p Problem) String() string { return fmt.Sprintf("%s: %s / %s", p.Field, p.ZH, p.EN) }

// BatchError lists every problem found in a batch document, so that it can
// be fixed in one round rather than one error at a time.
type BatchError struct {
	Problems []Problem
}

func (e *BatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s) / 共%d处问题:", ErrInvalidBatch, len(e.Problems), len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - " + p.String())
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalidBatch) true.
func (e *BatchError) Unwrap() error { return ErrInvalidBatch }
