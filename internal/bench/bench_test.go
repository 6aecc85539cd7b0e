package bench

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/ocr"
)

// small is a workload quick enough for a test.
var small = Workload{Applicants: 1, Pages: 3, Masked: 2, PPI: 100, Quality: 80}

func TestWorkloadValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    Workload
		ok   bool
	}{
		{"default", Workload{}.WithDefaults(), true},
		{"small", small, true},
		{"one page", Workload{Applicants: 1, Pages: 1, Masked: 1, PPI: 300, Quality: 85}, false},
		{"no mask", Workload{Applicants: 1, Pages: 3, Masked: -1, PPI: 300, Quality: 85}, false},
		{"more masked than pages", Workload{Applicants: 1, Pages: 3, Masked: 4, PPI: 300, Quality: 85}, false},
		{"72 ppi", Workload{Applicants: 1, Pages: 3, Masked: 1, PPI: 72, Quality: 85}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.w.Validate()
			if (err == nil) != tc.ok {
				t.Errorf("Validate(%+v) = %v", tc.w, err)
			}
			if err != nil && !errors.Is(err, ErrWorkload) {
				t.Errorf("%v does not wrap ErrWorkload", err)
			}
		})
	}
}

func generate(t *testing.T, dir string) *Set {
	t.Helper()
	s, err := Generate(context.Background(), small, dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGenerate: the workload is the same bytes every time, and a second
// call reuses what the first drew.
func TestGenerate(t *testing.T) {
	a, b := generate(t, t.TempDir()), generate(t, t.TempDir())
	if a.Pages() != 3 || len(a.Applicants) != 1 {
		t.Fatalf("%d pages, %d applicants", a.Pages(), len(a.Applicants))
	}
	for _, f := range []string{"page-001.jpg", "page-003.jpg", "submission.json"} {
		x, err := os.ReadFile(a.Path(a.Applicants[0], f))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(b.Path(b.Applicants[0], f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs", f)
		}
	}
	for i, p := range a.Applicants[0].Pages {
		if masked := len(p.Masks) > 0; masked != (i < small.Masked) {
			t.Errorf("page %d: %d masks", i+1, len(p.Masks))
		}
	}
	manifest := filepath.Join(a.Dir, "manifest.json")
	before, err := os.Stat(manifest)
	if err != nil {
		t.Fatal(err)
	}
	again := generate(t, filepath.Dir(a.Dir))
	after, err := os.Stat(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if !after.ModTime().Equal(before.ModTime()) || again.InputBytes() != a.InputBytes() {
		t.Errorf("the cached workload was drawn again")
	}
	if _, err := a.Submission(a.Applicants[0]); err != nil {
		t.Errorf("submission: %v", err)
	}
}

func TestRunInProcess(t *testing.T) {
	const fontFile = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
	if _, err := os.Stat(fontFile); err != nil {
		t.Skip("needs fonts-wqy-zenhei (deploy/local/install-deps.sh)")
	}
	font, err := pdfkit.LoadFont(fontFile, 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(pipeline.Config{Policy: Policy(), AnonSecret: []byte("a test secret of 32 bytes......."), Font: font})
	if err != nil {
		t.Fatal(err)
	}
	s := generate(t, t.TempDir())
	r, err := RunInProcess(context.Background(), s, p, 2, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rejected) > 0 || r.Packets != 1 || r.Pages != 3 {
		t.Fatalf("%+v", r)
	}
	if ratio := float64(r.OutBytes) / float64(r.InBytes); ratio < 1 || ratio > 2 {
		t.Errorf("packet %d bytes from %d bytes of pages", r.OutBytes, r.InBytes)
	}
	if r.CPU <= 0 || r.PeakRSS <= 0 {
		t.Errorf("nothing measured: %+v", r)
	}
}

func TestToolPipelines(t *testing.T) {
	tools := FindTools()
	s := generate(t, t.TempDir())
	for _, tc := range []struct {
		name string
		run  func(context.Context, *Set, Tools, int, string) (*Result, error)
	}{{"reference", RunReference}, {"floor", RunFloor}} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.run(context.Background(), s, tools, 2, t.TempDir())
			if errors.Is(err, ErrMissingTool) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Pages != 3 || r.Processes == 0 || r.CPU <= 0 || r.PeakRSS <= 0 {
				t.Errorf("%+v", r)
			}
			if tc.name == "floor" && (r.StartCPU <= 0 || r.StartCPU >= r.CPU) {
				t.Errorf("process starts %v of the floor's %v", r.StartCPU, r.CPU)
			}
		})
	}
}

func TestReportWrite(t *testing.T) {
	res := func(cpu time.Duration, out int64) *Result {
		return &Result{Pages: 100, CPU: cpu, Wall: cpu / 2, PeakRSS: 100 << 20, InBytes: 1000, OutBytes: out}
	}
	r := &Report{Machine: Machine{CPUs: 2, Model: "test CPU"}, Workload: Workload{}.WithDefaults(), Concurrency: 2, Backend: "libjpeg-turbo",
		Blindpack: res(2*time.Second, 1010), PureGo: res(8*time.Second, 1010), Reference: res(70*time.Second, 1100), Floor: res(1500*time.Millisecond, 0),
		Memory: &Result{PeakRSS: 400 << 20}, MemoryWorkload: &Workload{Applicants: 2, Pages: 200},
		OCR: &Result{Pages: 100, CPU: 100 * time.Second, Note: "every line"}, OCRScreen: &Result{Pages: 100, CPU: 25 * time.Second, Note: "first pass"}}
	r.Floor.Processes, r.Floor.StartCPU = 110, 300*time.Millisecond
	var b strings.Builder
	if err := r.Write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"(a) blindpack, libjpeg-turbo",
		"the floor's 110 process starts (djpeg of an 8×8 JPEG as often): 0.0030 CPU s/page; a/c without them: 1.67 ×", "(b) reference", "(c) floor",
		"35.0× faster than the reference (target > 10×): met",
		"1.33 × the floor (target ≤ 1.2×): NOT MET",
		"packet bytes / input bytes: 1.010",
		"(o) OCR gate on (a)'s packets, every line", "(o): every line; target ≤ 0.3 CPU s/page: NOT MET",
		"(o'): first pass; target ≤ 0.3 CPU s/page: met",
		"2 packets of 200 pages at once (libjpeg-turbo): 400 MB (target ≤ 300 MB): NOT MET",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// TestRunOCR reads the small workload's packet as the OCR gate does, with
// Tesseract, every line and through the first pass: every material page
// read, the programs' CPU counted, no hit on pages whose identity is
// masked.
func TestRunOCR(t *testing.T) {
	testenv.Tool(t, "tesseract")
	testenv.Tool(t, "pdftoppm")
	font, err := pdfkit.LoadFont(synth.FontPath, 0)
	if err != nil {
		t.Skip("needs fonts-wqy-zenhei (deploy/local/install-deps.sh)")
	}
	p, err := pipeline.New(pipeline.Config{Policy: Policy(), AnonSecret: []byte("a test secret of 32 bytes......."), Font: font})
	if err != nil {
		t.Fatal(err)
	}
	packets, err := BuildPackets(context.Background(), generate(t, t.TempDir()), p, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	engine := &ocr.Tesseract{}
	for _, e := range []ocr.Engine{engine, ocr.Screened(engine)} {
		r, err := RunOCR(context.Background(), packets, e, 2)
		if err != nil {
			t.Fatal(err)
		}
		if r.Packets != 1 || r.Pages != 3 || r.ChildCPU <= 0 || r.CPU <= r.ChildCPU {
			t.Errorf("%+v", r)
		}
		if !strings.Contains(r.Note, " 0 hits") {
			t.Errorf("hits on masked pages: %s", r.Note)
		}
	}
}
