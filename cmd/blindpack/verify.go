package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/result"
	"github.com/blindpack/blindpack/pipeline/verify"
)

// runVerify checks a file independently of the run that made it. A signed
// file is a result: its signature, coverage and chain are checked. Anything
// else is taken for a review packet and checked the way the pipeline checks
// it before publishing: structure, metadata, JPEG segments, the identity
// anywhere in the file, and — given the submission and report — the pixels
// under every mask.
func runVerify(ctx context.Context, args []string) error {
	fs := newFlagSet("verify")
	var vo verifyOptions
	fs.StringVar(&vo.caFile, "ca", "", "trusted root certificate `file` (PEM, may hold several) for signed result files (default: the system's roots)")
	fs.StringVar(&vo.tsaCAFile, "tsa-ca", "", "root `file` (PEM) trusted for timestamps (default: the --ca roots)")
	fs.Func("crl", "a current CRL `file` (DER or PEM) of the signer's CA, newer than the one in the file (repeatable)", func(v string) error {
		vo.crlFiles = append(vo.crlFiles, v)
		return nil
	})
	name := fs.String("identity-name", "", "applicant's name, which must not appear in a packet")
	employer := fs.String("identity-employer", "", "applicant's employer, which must not appear in a packet")
	subFile := fs.String("submission", "", "the packet's submission `file`: identity and masks (masks need --report too)")
	repFile := fs.String("report", "", "the packet's report `file`: where each material's pages are")
	if err := parse(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	if fs.NArg() != 1 {
		return exitError{code: 2, err: errors.New("usage: blindpack verify FILE.pdf [--ca ROOT.pem] [--identity-name N --identity-employer E] [--submission S.json --report R.json]")}
	}
	err := verifyResult(ctx, fs.Arg(0), vo, os.Stdout)
	switch {
	case errors.Is(err, result.ErrUnsigned) && vo.caFile != "":
		// A root was given: the caller expects a signed result file.
		return exitError{code: 1, err: errors.New("verify: the file is not signed (a result file must be)")}
	case errors.Is(err, result.ErrUnsigned):
		return verifyPacket(ctx, fs.Arg(0), *name, *employer, *subFile, *repFile)
	case errors.Is(err, errNotValid):
		return exitError{code: 1, err: err}
	}
	return err
}

func verifyPacket(ctx context.Context, path, name, employer, subFile, repFile string) error {
	exp := verify.Expect{Identity: verify.Identity{Name: name, Employer: employer}}
	if subFile != "" {
		doc, err := os.ReadFile(subFile)
		if err != nil {
			return err
		}
		sub, err := pipeline.ParseSubmission(doc)
		if err != nil {
			return err
		}
		if exp.Identity.Name == "" && exp.Identity.Employer == "" {
			exp.Identity = verify.Identity{Name: sub.Identity.Name, Employer: sub.Identity.Employer}
		}
		if repFile != "" {
			data, err := os.ReadFile(repFile)
			if err != nil {
				return err
			}
			rep, err := pipeline.ParseReport(data)
			if err != nil {
				return err
			}
			if rep.Packet == nil {
				return errors.New("verify: the report describes no packet")
			}
			exp.Masks = pipeline.Expectation(sub, rep.Packet).Masks
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	probs, err := verify.Packet(ctx, f, st.Size(), exp)
	if err != nil {
		return err
	}
	checked := "structure, metadata, JPEG segments"
	if exp.Identity.Name != "" || exp.Identity.Employer != "" {
		checked += ", identity"
	}
	if exp.Masks != nil {
		checked += fmt.Sprintf(", masks on %d pages", len(exp.Masks))
	}
	if len(probs) == 0 {
		fmt.Printf("packet OK (%s)\n", checked)
		return nil
	}
	for _, p := range probs {
		fmt.Printf("FAIL %s\n", p)
	}
	return exitError{code: 1, err: fmt.Errorf("verify: %d problems in the packet (%s checked)", len(probs), checked)}
}
