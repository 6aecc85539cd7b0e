package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/storage/localdir"
	"github.com/blindpack/blindpack/workers"
)

func runProcess(ctx context.Context, args []string) error {
	fs := newFlagSet("process")
	var c common
	c.register(fs, "text")
	subFile := fs.String("submission", "", "submission document (`file`, blindpack/submission@1)")
	input := fs.String("input", "", "`directory` the submission's file paths are relative to")
	outDir := fs.String("out", "", "`directory` for report.json and packet.pdf")
	quiet := fs.Bool("quiet", false, "no progress line on the terminal")
	noOCR := fs.Bool("no-ocr", false, "skip the OCR gate on purpose: write the packet without reading it for names left unmasked")
	screened := fs.Bool("ocr-screen", true, ocrScreenUsage)
	if err := parseFlags(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	if *subFile == "" || *input == "" || *outDir == "" {
		fs.Usage()
		return exitError{code: 2, err: errors.New("--submission, --input and --out are required")}
	}
	log, err := c.logger(os.Stderr)
	if err != nil {
		return err
	}
	p, err := c.pipeline(true, log)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	doc, err := os.ReadFile(*subFile)
	if err != nil {
		return err
	}
	var gate *workers.OCRHandler
	if !*noOCR {
		eng := &ocr.Tesseract{}
		if err := eng.Check(ctx); err != nil {
			// Said on stdout, beside the outcome: a packet nobody read must
			// not pass for one that was.
			fmt.Printf("note: OCR gate NOT run (%v): the packet was not read for names left unmasked; install tesseract-ocr and tesseract-ocr-chi-sim, or pass --no-ocr to skip it on purpose\n", err)
		} else {
			gate = &workers.OCRHandler{Engine: ocrEngine(eng, *screened), Policy: p.Policy()}
		}
	}
	bar := newProgress(os.Stderr, *quiet)
	rep, err := processLocal(ctx, p, doc, *input, *outDir, gate, func(pr pipeline.Progress) {
		fraction := 0.0
		if pr.Materials > 0 {
			fraction = float64(pr.MaterialsDone) / float64(pr.Materials)
		}
		bar.Update(pr.PagesDone, pr.Pages, "pages", fraction, fmt.Sprintf("materials %d/%d", pr.MaterialsDone, pr.Materials))
	})
	bar.Done()
	if err != nil {
		return err
	}
	fmt.Printf("%s: %s\n", rep.Status, filepath.Join(*outDir, "report.json"))
	if rep.Packet != nil && rep.Status == pipeline.Accepted {
		fmt.Printf("packet: %s (%d pages)\n", rep.Packet.Location, rep.Packet.Pages)
	}
	if rep.Status == pipeline.Held {
		fmt.Printf("held: OCR reads the name or employer outside the masks (see %s); the packet is kept as %s, not packet.pdf\n",
			filepath.Join(*outDir, "ocr.json"), filepath.Join(*outDir, heldPacket))
	}
	for _, f := range rep.Findings {
		fmt.Printf("  - %s: %s\n", f.Code, f.MessageEN)
	}
	if rep.Status != pipeline.Accepted {
		return exitError{code: exitRejected}
	}
	return nil
}

// heldPacket is where a local run keeps a packet the OCR gate held.
const heldPacket = "packet.held.pdf"

// processLocal runs one submission against files in a directory and writes
// report.json and, when accepted, packet.pdf into outDir — each written to a
// temporary name and renamed, so neither is ever seen half written. With a
// gate, an accepted packet is read with OCR first (ocr.json): a hit holds
// the submission and the packet goes to packet.held.pdf instead.
func processLocal(ctx context.Context, p *pipeline.Pipeline, doc []byte, input, outDir string, gate *workers.OCRHandler, onProgress func(pipeline.Progress)) (*pipeline.Report, error) {
	packetPath := filepath.Join(outDir, "packet.pdf")
	// A packet left from an earlier run must not pass for this run's.
	for _, old := range []string{packetPath, filepath.Join(outDir, heldPacket), filepath.Join(outDir, "ocr.json")} {
		if err := os.Remove(old); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	rep, err := func() (*pipeline.Report, error) {
		sub, err := pipeline.ParseSubmission(doc)
		var fe *finding.Error
		if errors.As(err, &fe) {
			return pipeline.NewReport("", "", "").Reject(finding.New(fe.Code, finding.Args{Value: fe.Value})), nil
		} else if err != nil {
			return nil, err
		}
		src, err := localdir.New(input)
		if err != nil {
			return nil, err
		}
		defer src.Close()
		tmp, err := os.CreateTemp(outDir, ".packet-*.pdf")
		if err != nil {
			return nil, err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		rep, err := p.ProcessWith(ctx, sub, workers.Source(src), tmp, pipeline.Options{Progress: onProgress})
		if err != nil || rep.Status != pipeline.Accepted {
			return rep, err
		}
		if err := tmp.Sync(); err != nil {
			return nil, err
		}
		if gate != nil {
			d, err := gate.Check(ctx, sub, rep, tmp.Name())
			if err != nil {
				// Never an outcome: the run fails, nothing is written.
				return nil, fmt.Errorf("OCR gate: %w", err)
			}
			if err := writeFileAtomic(filepath.Join(outDir, "ocr.json"), d.Marshal()); err != nil {
				return nil, err
			}
			if len(d.Hits) > 0 {
				rep.Status = pipeline.Held
				return rep, os.Rename(tmp.Name(), filepath.Join(outDir, heldPacket))
			}
		}
		if err := os.Rename(tmp.Name(), packetPath); err != nil {
			return nil, err
		}
		rep.Packet.Location = packetPath
		return rep, nil
	}()
	if err != nil {
		return nil, err
	}
	return rep, writeFileAtomic(filepath.Join(outDir, "report.json"), rep.Marshal())
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
