package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/ocr"
)

// runMasks suggests masks for one file: where the applicant's name and
// employer are, page by page, in the submission's mask format, for the
// masking tool to pre-fill. Pages with a text layer are searched exactly,
// the others with OCR when Tesseract is installed (--no-ocr skips them).
// The identity is taken from flags or the environment
// (BLINDPACK_NAME, BLINDPACK_EMPLOYER), used in memory and never written.
func runMasks(ctx context.Context, args []string) error { return suggestCommand(ctx, args, os.Stdout) }

func suggestCommand(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "suggest" {
		return exitError{code: 2, err: errors.New("usage: blindpack masks suggest FILE --name N --employer E [--no-ocr]")}
	}
	fs := newFlagSet("masks suggest")
	name := fs.String("name", "", "the applicant's name")
	employer := fs.String("employer", "", "the applicant's employer")
	noOCR := fs.Bool("no-ocr", false, "search text layers only; pages without one are not read")
	tesseract := fs.String("tesseract", "tesseract", "tesseract `program`")
	dpi := fs.Int("dpi", ocr.DefaultDPI, "resolution pages are read at by OCR")
	if err := parse(fs, args[1:]); err != nil {
		return exitError{code: 2, err: err}
	}
	if fs.NArg() != 1 || strings.TrimSpace(*name) == "" || strings.TrimSpace(*employer) == "" {
		return exitError{code: 2, err: errors.New("usage: blindpack masks suggest FILE --name N --employer E [--no-ocr]")}
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	opts := pipeline.SuggestOptions{DPI: *dpi}
	if !*noOCR {
		engine := &ocr.Tesseract{Path: *tesseract}
		if err := engine.Check(ctx); err != nil {
			return fmt.Errorf("%w (or pass --no-ocr to search text layers only)", err)
		}
		// Suggestions are advice the gate checks afterwards: the first
		// pass serves them (136 of 136 occurrences covered, README).
		opts.Engine = ocr.Screened(engine)
	}
	s, err := pipeline.SuggestMasks(ctx, data, pipeline.Identity{Name: *name, Employer: *employer}, opts)
	if err != nil {
		return suggestError(err)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// suggestError makes a bad file's finding an exit status 1 with its
// English message (which never quotes the file); other errors pass
// through.
func suggestError(err error) error {
	var fe *finding.Error
	if errors.As(err, &fe) {
		f := finding.New(fe.Code, finding.Args{Page: fe.Page, Value: fe.Value})
		return exitError{code: 1, err: fmt.Errorf("%s: %s", f.Code, f.MessageEN)}
	}
	return err
}
