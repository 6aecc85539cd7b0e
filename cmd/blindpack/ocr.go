package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/workers"
)

// runOCR reads a finished packet with OCR, the way the optional
// submission:ocr task does, and prints every place where the applicant's
// name or employer still seems visible outside the masks. Exit status 1
// means it found some: an administrator should look at those pages.
func runOCR(ctx context.Context, args []string) error {
	fs := newFlagSet("ocr")
	packetFile := fs.String("packet", "", "the packet `file` (PDF) to read")
	subFile := fs.String("submission", "", "its submission `file`: identity and masks")
	repFile := fs.String("report", "", "its report `file`: where each material's pages are in the packet")
	outFile := fs.String("out", "", "also write the blindpack/ocr@1 document to this `file`")
	dpi := fs.Int("dpi", ocr.DefaultDPI, "rendering resolution")
	pages := fs.Int("workers", runtime.NumCPU(), "pages read at once")
	tesseract := fs.String("tesseract", "tesseract", "tesseract `program`")
	screened := fs.Bool("ocr-screen", true, ocrScreenUsage)
	psm := fs.Int("psm", ocr.DefaultPSM, "tesseract page segmentation mode")
	policyFile := fs.String("policy", "", "policy `file` (YAML) naming the materials; default: the policy built in")
	if err := parse(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	if *packetFile == "" || *subFile == "" || *repFile == "" || fs.NArg() != 0 {
		fs.Usage()
		return exitError{code: 2, err: errors.New("usage: blindpack ocr --packet P.pdf --submission S.json --report R.json")}
	}
	sub, rep, err := readOCRInputs(*subFile, *repFile, *packetFile)
	if err != nil {
		return err
	}
	pol, err := loadPolicy(*policyFile)
	if err != nil {
		return err
	}
	engine := &ocr.Tesseract{Path: *tesseract, PSM: *psm}
	if err := engine.Check(ctx); err != nil {
		return err
	}
	h := &workers.OCRHandler{Engine: ocrEngine(engine, *screened), DPI: *dpi, Workers: *pages, Policy: pol}
	doc, err := h.Check(ctx, sub, rep, *packetFile)
	if err != nil {
		return err
	}
	if *outFile != "" {
		tmp := *outFile + ".tmp"
		if err := os.WriteFile(tmp, doc.Marshal(), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, *outFile); err != nil {
			return err
		}
	}
	fmt.Printf("%d pages read in %.1f s (%s %s, %s, psm %d, %d dpi)\n", doc.Pages, float64(doc.DurationMS)/1000,
		doc.Engine.Name, doc.Engine.Version, doc.Engine.Lang, doc.Engine.PSM, doc.DPI)
	if len(doc.Hits) == 0 {
		fmt.Println("no name or employer visible outside the masks")
		return nil
	}
	for _, h := range doc.Hits {
		fmt.Printf("  packet page %d (material %d %s, page %d): %s visible at box [%.4f %.4f %.4f %.4f]\n",
			h.PacketPage, *h.Material, h.Type, h.Page, h.Kind, h.Box[0], h.Box[1], h.Box[2], h.Box[3])
	}
	return exitError{code: 1, err: fmt.Errorf("%d place(s) where the identity seems visible", len(doc.Hits))}
}

// readOCRInputs reads the submission and report and checks that the
// report describes this packet: reading another packet with these masks
// would report nonsense.
func readOCRInputs(subFile, repFile, packetFile string) (*pipeline.Submission, *pipeline.Report, error) {
	doc, err := os.ReadFile(subFile)
	if err != nil {
		return nil, nil, err
	}
	sub, err := pipeline.ParseSubmission(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Base(subFile), err)
	}
	data, err := os.ReadFile(repFile)
	if err != nil {
		return nil, nil, err
	}
	rep, err := pipeline.ParseReport(data)
	if err != nil {
		return nil, nil, err
	}
	if rep.Packet == nil {
		return nil, nil, errors.New("ocr: the report describes no packet (the submission was not accepted)")
	}
	pdf, err := os.ReadFile(packetFile)
	if err != nil {
		return nil, nil, err
	}
	if sum := sha256.Sum256(pdf); hex.EncodeToString(sum[:]) != rep.Packet.SHA256 {
		return nil, nil, errors.New("ocr: the report describes another packet (SHA-256 differs)")
	}
	return sub, rep, nil
}

// ocrScreenUsage describes --ocr-screen, which worker, process and ocr
// share.
const ocrScreenUsage = "OCR gate: on crisp pages read only the lines a cheap first pass finds the identity's characters on, and every other page whole (about half the CPU of reading every line, the same detection on every row of the measurement, README \"The first pass\"); --ocr-screen=false reads every line of every page"

// ocrEngine is the gate's engine: e through the first pass (the screen,
// trusted on crisp pages only; the rest are read whole), or, with
// --ocr-screen=false, reading every line of every page. Measured end to
// end the two find the same leaks on every row of the measurement set
// (README, "The first pass").
func ocrEngine(e ocr.Engine, screened bool) ocr.Engine {
	if screened {
		return ocr.Screened(e)
	}
	return e
}
