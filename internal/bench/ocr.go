package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/workers"
)

// Packet is an accepted packet of the workload kept on disk for the OCR
// rows, with what a worker's OCR task knows of it.
type Packet struct {
	Path   string
	Sub    *pipeline.Submission
	Report *pipeline.Report
}

// BuildPackets processes every applicant of s and keeps each accepted
// packet in dir (not measured: the OCR rows measure reading them).
func BuildPackets(ctx context.Context, s *Set, p *pipeline.Pipeline, dir string) ([]Packet, error) {
	var out []Packet
	for _, a := range s.Applicants {
		path := filepath.Join(dir, a.ID+".pdf")
		f, err := os.Create(path)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		sub, rep, err := s.process(ctx, a, p, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", a.ID, err)
		}
		if rejected := rejection(rep); rejected != "" {
			return nil, fmt.Errorf("bench: %s: not accepted (%s)", a.ID, rejected)
		}
		out = append(out, Packet{Path: path, Sub: sub, Report: rep})
	}
	return out, nil
}

// RunOCR reads packets as the OCR gate does (workers.OCRHandler.Check:
// every material page rendered, prepared and read with engine),
// concurrency packets at a time, and measures it: CPU is this process's
// (decoding the renders, Prepare, the first pass, matching) and its
// children's (pdftoppm, tesseract), by getrusage. Pages are the packet
// pages read; a hit on the workload's fully masked pages is a false
// positive, counted in the note.
func RunOCR(ctx context.Context, packets []Packet, engine ocr.Engine, concurrency int) (*Result, error) {
	h := &workers.OCRHandler{Engine: engine}
	res := &Result{Name: "ocr: " + ocr.Describe(ctx, engine).Name}
	docs := make([]*ocr.Document, len(packets))
	errs := make([]error, len(packets))
	work := make(chan int)
	self0, child0 := cpuTime(), childCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for range max(1, concurrency) {
		wg.Go(func() {
			for i := range work {
				docs[i], errs[i] = h.Check(ctx, packets[i].Sub, packets[i].Report, packets[i].Path)
			}
		})
	}
	for i := range packets {
		work <- i
	}
	close(work)
	wg.Wait()
	res.Wall = time.Since(start)
	self, child := cpuTime()-self0, childCPU()-child0
	res.CPU, res.ChildCPU = self+child, child
	hits := 0
	for i, d := range docs {
		if errs[i] != nil {
			return nil, fmt.Errorf("bench: OCR of %s: %w", packets[i].Report.ApplicantID, errs[i])
		}
		res.Pages += d.Pages
		res.Packets++
		hits += len(d.Hits)
	}
	res.Note = fmt.Sprintf("%.3f s/page in tesseract and pdftoppm, %.3f in blindpack; %d hits on masked pages (false positives)",
		child.Seconds()/float64(max(1, res.Pages)), self.Seconds()/float64(max(1, res.Pages)), hits)
	return res, nil
}
