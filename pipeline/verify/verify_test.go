package verify_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/pdfwrite"
	"github.com/blindpack/blindpack/pipeline/verify"
	"github.com/blindpack/blindpack/storage/localdir"
	"github.com/blindpack/blindpack/workers"
)

var (
	fontOnce sync.Once
	font     *pdfwrite.Font
)

// packet builds the packet of a committed sample.
func packet(t testing.TB, name string) (*pipeline.Submission, *pipeline.Report, []byte) {
	t.Helper()
	fontOnce.Do(func() {
		var err error
		if font, err = pdfwrite.LoadFont(synth.FontPath, 0); err != nil {
			t.Fatal(err)
		}
	})
	p, err := pipeline.New(pipeline.Config{AnonSecret: []byte("verify-test-secret-01"), Font: font})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "testdata", "samples", name)
	doc, err := os.ReadFile(filepath.Join(dir, "submission.json"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := pipeline.ParseSubmission(doc)
	if err != nil {
		t.Fatal(err)
	}
	src, err := localdir.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out buffer
	rep, err := p.Process(context.Background(), sub, workers.Source(src), &out)
	if err != nil || rep.Status != pipeline.Accepted {
		t.Fatalf("%v %+v", err, rep)
	}
	return sub, rep, out.Bytes()
}

// expect derives what the verifier is told from a submission and report.
func expect(sub *pipeline.Submission, rep *pipeline.Report) verify.Expect {
	exp := verify.Expect{Identity: verify.Identity{Name: sub.Identity.Name, Employer: sub.Identity.Employer}, Masks: map[int][][4]float64{}}
	for _, e := range rep.Packet.Index {
		for _, pp := range e.Pages {
			for _, m := range sub.Materials[e.Material].Masks {
				if m.Page == pp[0] {
					exp.Masks[pp[1]] = append(exp.Masks[pp[1]], m.Rect)
				}
			}
		}
	}
	return exp
}

func TestGoodPacketsPass(t *testing.T) {
	for _, name := range synth.SampleDirs {
		t.Run(name, func(t *testing.T) {
			sub, rep, pdf := packet(t, name)
			if probs := verify.Packet(bytes.NewReader(pdf), int64(len(pdf)), expect(sub, rep)); len(probs) > 0 {
				t.Fatalf("problems: %v", probs)
			}
		})
	}
}

// buffer is an in-memory packet Output.
type buffer struct{ bytes.Buffer }

func (b *buffer) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(b.Bytes()).ReadAt(p, off)
}
