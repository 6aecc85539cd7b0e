// Package samplepacket builds, for tests, the packets of the committed
// sample submissions in testdata/samples, through the real pipeline.
package samplepacket

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/storage/localdir"
	"github.com/blindpack/blindpack/workers"
)

var (
	fontOnce sync.Once
	font     *pdfkit.Font
	fontErr  error
)

// Font is the CJK font the pipeline embeds, loaded once.
func Font(t testing.TB) *pdfkit.Font {
	t.Helper()
	fontOnce.Do(func() { font, fontErr = pdfkit.LoadFont(synth.FontPath, 0) })
	if fontErr != nil {
		t.Fatalf("font (apt-get install fonts-wqy-zenhei): %v", fontErr)
	}
	return font
}

// Buffer is an in-memory pipeline.Output.
type Buffer struct{ bytes.Buffer }

// ReadAt reads back what was written.
func (b *Buffer) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(b.Bytes()).ReadAt(p, off)
}

// Dir is the directory of a committed sample.
func Dir(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "samples", name)
}

// Build runs the pipeline on a committed sample and returns its
// submission, report and packet; the sample must be accepted.
func Build(t testing.TB, name string) (*pipeline.Submission, *pipeline.Report, []byte) {
	t.Helper()
	p, err := pipeline.New(pipeline.Config{AnonSecret: []byte("sample-packet-secret-01"), Font: Font(t)})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(Dir(name), "submission.json"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := pipeline.ParseSubmission(doc)
	if err != nil {
		t.Fatal(err)
	}
	src, err := localdir.New(Dir(name))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out Buffer
	rep, err := p.Process(context.Background(), sub, workers.Source(src), &out)
	if err != nil || rep.Status != pipeline.Accepted {
		t.Fatalf("sample %s: %v %+v", name, err, rep)
	}
	return sub, rep, out.Bytes()
}
