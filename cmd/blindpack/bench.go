//go:build dev

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/blindpack/blindpack/internal/bench"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// runBench generates the benchmark workload and times blindpack, the
// reference tool pipeline and the libjpeg-turbo floor on it in one run.
// blindpack itself runs in a child process of this binary (`bench
// --child`), so that its peak RSS is that of a process doing only this.
func runBench(ctx context.Context, args []string) error {
	fs := newFlagSet("bench")
	var c common
	c.register(fs, "text")
	var w bench.Workload
	fs.IntVar(&w.Applicants, "applicants", 4, "applicants in the workload")
	fs.IntVar(&w.Pages, "pages", 30, "pages per applicant, each a JPEG file in the packet")
	fs.IntVar(&w.Masked, "masked", 2, "masked pages per applicant")
	fs.IntVar(&w.PPI, "ppi", 300, "scan resolution of the pages")
	fs.IntVar(&w.Quality, "quality", 85, "JPEG quality of the pages")
	concurrency := fs.Int("concurrency", runtime.NumCPU(), "submissions (blindpack) or processes (tools) at a time; a worker's default is the number of CPUs")
	workDir := fs.String("workdir", "", "`directory` for the generated pages (kept: they are drawn once) and the tools' output; default the user cache directory")
	runs := fs.Int("runs", 1, "runs of each pipeline; the median by CPU is reported")
	skipRef := fs.Bool("skip-reference", false, "do not run the ImageMagick reference pipeline (the slowest part)")
	skipFloor := fs.Bool("skip-floor", false, "do not run the djpeg/cjpeg floor")
	compare := fs.Bool("compare-pure-go", true, "also run blindpack with image/jpeg (the codec before libjpeg-turbo)")
	typed := fs.Bool("typed", true, "also run blindpack on a typed-PDF workload (--applicants × --pages one-page typed PDFs, rendered at 200 ppi)")
	fs.BoolVar(&w.Typed, "typed-set", false, "internal: draw typed PDF pages with --generate")
	ocrRows := fs.Bool("ocr", true, "also run the OCR gate on (a)'s packets, every line and through its first pass (needs tesseract and pdftoppm)")
	memPages := fs.Int("memory-pages", 200, "also measure peak RSS building --concurrency packets of this many pages at once (0: skip)")
	jsonOut := fs.String("json", "", "also write the report as JSON to this `file`")
	child := fs.Bool("child", false, "internal: run the in-process pipeline on --set and print its result as JSON")
	set := fs.String("set", "", "internal: the generated workload directory for --child")
	codec := fs.String("codec", "", "internal: libjpeg-turbo or image/jpeg for --child")
	generate := fs.Bool("generate", false, "internal: draw the workload into the directory --set")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of blindpack's (first) run to this `file`")
	if err := parseFlags(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	if *child {
		return benchChild(ctx, &c, *set, *codec, *concurrency, *cpuProfile)
	}
	if *generate {
		_, err := bench.Generate(ctx, w, *set, runtime.NumCPU())
		return err
	}
	log, err := c.logger(os.Stderr)
	if err != nil {
		return err
	}
	if *workDir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("bench: %w (give --workdir)", err)
		}
		*workDir = filepath.Join(cache, "blindpack", "bench")
	}
	w = w.WithDefaults()
	if err := w.Validate(); err != nil {
		return exitError{code: 2, err: err}
	}
	*runs = max(1, *runs)

	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	log.Info("drawing the workload (once; kept in the work directory)", "workload", w.String(), "dir", *workDir)
	s, err := generateInChild(ctx, self, w, *workDir)
	if err != nil {
		return err
	}
	rep := &bench.Report{Machine: bench.ThisMachine(), Workload: w, InputBytes: s.InputBytes(), Concurrency: *concurrency,
		Runs: *runs, Backend: jpegcodec.Backend()}
	inProcess := func(s *bench.Set, codec string, conc int) (*bench.Result, error) {
		var rs []*bench.Result
		for range *runs {
			r, err := runChild(ctx, self, &c, s.Dir, codec, conc, *cpuProfile)
			*cpuProfile = "" // the first run only
			if err != nil {
				return nil, err
			}
			rs = append(rs, r)
		}
		return bench.Median(rs), nil
	}
	log.Info("running blindpack", "codec", rep.Backend)
	if rep.Blindpack, err = inProcess(s, rep.Backend, *concurrency); err != nil {
		return err
	}
	if *typed {
		tw := w
		tw.Typed = true
		log.Info("drawing the typed workload (once)", "workload", tw.String())
		ts, err := generateInChild(ctx, self, tw, *workDir)
		if err != nil {
			return err
		}
		log.Info("running blindpack on typed PDF pages")
		rep.TypedWorkload = &tw
		if rep.Typed, err = inProcess(ts, rep.Backend, *concurrency); err != nil {
			return err
		}
	}
	hasTurbo := rep.Backend != "image/jpeg"
	if *compare && hasTurbo {
		log.Info("running blindpack", "codec", "image/jpeg")
		if rep.PureGo, err = inProcess(s, "image/jpeg", *concurrency); err != nil {
			return err
		}
	}
	tools := bench.FindTools()
	toolRun := func(name string, f func(context.Context, *bench.Set, bench.Tools, int, string) (*bench.Result, error)) (*bench.Result, error) {
		var rs []*bench.Result
		for i := range *runs {
			dir := filepath.Join(*workDir, "out", name, strconv.Itoa(i))
			if err := os.RemoveAll(dir); err != nil {
				return nil, err
			}
			r, err := f(ctx, s, tools, *concurrency, dir)
			if err != nil {
				return nil, err
			}
			rs = append(rs, r)
			os.RemoveAll(dir)
		}
		return bench.Median(rs), nil
	}
	if !*skipFloor {
		log.Info("running the floor: djpeg + cjpeg")
		if rep.Floor, err = toolRun("floor", bench.RunFloor); err != nil {
			return err
		}
	}
	if !*skipRef {
		log.Info("running the reference pipeline: ImageMagick + img2pdf + qpdf (about a CPU-second a page)")
		if rep.Reference, err = toolRun("reference", bench.RunReference); err != nil {
			return err
		}
	}
	if *memPages > 0 {
		mw := bench.Workload{Applicants: *concurrency, Pages: *memPages, Masked: w.Masked, PPI: w.PPI, Quality: w.Quality}.WithDefaults()
		if err := mw.Validate(); err != nil {
			return exitError{code: 2, err: err}
		}
		log.Info("drawing the memory workload (once)", "workload", mw.String())
		ms, err := generateInChild(ctx, self, mw, *workDir)
		if err != nil {
			return err
		}
		rep.MemoryWorkload = &mw
		log.Info("measuring peak RSS", "packets", mw.Applicants, "pages", mw.Pages)
		if rep.Memory, err = runChild(ctx, self, &c, ms.Dir, rep.Backend, *concurrency, ""); err != nil {
			return err
		}
		if *compare && hasTurbo {
			if rep.MemoryPureGo, err = runChild(ctx, self, &c, ms.Dir, "image/jpeg", *concurrency, ""); err != nil {
				return err
			}
		}
	}
	if *ocrRows {
		if err := benchOCR(ctx, &c, s, rep, *concurrency, log); err != nil {
			return err
		}
	}
	if *jsonOut != "" {
		js, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(js, '\n'), 0o644); err != nil {
			return err
		}
	}
	return rep.Write(os.Stdout)
}

// generateInChild draws a workload in a child process: drawing 300-ppi
// pages takes a few hundred megabytes, and Linux charges a parent's peak
// RSS to the ru_maxrss of every child it starts afterwards (Go starts
// children with vfork, and exec records the old address space's high
// water mark), which would inflate the tools' figures.
func generateInChild(ctx context.Context, self string, w bench.Workload, workDir string) (*bench.Set, error) {
	sets := filepath.Join(workDir, "sets")
	if s, err := bench.Load(filepath.Join(sets, w.String())); err == nil && s.Workload == w && s.Version == bench.SetVersion {
		return s, nil
	}
	cmd := exec.CommandContext(ctx, self, "bench", "--generate", "--set", sets,
		"--applicants", strconv.Itoa(w.Applicants), "--pages", strconv.Itoa(w.Pages), "--masked", strconv.Itoa(w.Masked),
		"--ppi", strconv.Itoa(w.PPI), "--quality", strconv.Itoa(w.Quality), "--typed-set="+strconv.FormatBool(w.Typed))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("bench: drawing the workload: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return bench.Load(filepath.Join(sets, w.String()))
}

// runChild runs `blindpack bench --child` on a workload and returns what
// it measured of itself.
func runChild(ctx context.Context, self string, c *common, set, codec string, concurrency int, cpuProfile string) (*bench.Result, error) {
	args := []string{"bench", "--child", "--set", set, "--codec", codec, "--concurrency", strconv.Itoa(concurrency)}
	if cpuProfile != "" {
		args = append(args, "--cpuprofile", cpuProfile)
	}
	if c.fontFile != "" {
		args = append(args, "--font", c.fontFile, "--font-index", strconv.Itoa(c.fontIndex))
	}
	cmd := exec.CommandContext(ctx, self, args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("bench: blindpack child (%s): %w: %s", codec, err, bytes.TrimSpace(stderr.Bytes()))
	}
	var r bench.Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("bench: blindpack child output: %w", err)
	}
	if len(r.Rejected) > 0 {
		return nil, fmt.Errorf("bench: blindpack rejected the workload: %v", r.Rejected)
	}
	r.Name = "blindpack, " + codec
	return &r, nil
}

// benchChild is the in-process side: it loads the font (as a worker does
// at start-up), processes the workload and prints the result as JSON.
func benchChild(ctx context.Context, c *common, set, codec string, concurrency int, cpuProfile string) error {
	switch codec {
	case "image/jpeg":
		jpegcodec.SetPureGo(true)
	case "", jpegcodec.Backend():
	default:
		return fmt.Errorf("bench: codec %q is not built in (have %s)", codec, jpegcodec.Backend())
	}
	s, err := bench.Load(set)
	if err != nil {
		return err
	}
	p, err := benchPipeline(c)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "blindpack-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	r, err := bench.RunInProcess(ctx, s, p, concurrency, tmp)
	if err != nil {
		return err
	}
	if r.Packets == 0 && len(r.Rejected) == 0 {
		return errors.New("bench: no packet written")
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// benchOCR measures the OCR gate on the packets of workload s, the way
// a worker's OCR task reads them: every line (--ocr-screen=false) and as
// by default, through the first pass on crisp pages. Without Tesseract
// it says so and skips.
func benchOCR(ctx context.Context, c *common, s *bench.Set, rep *bench.Report, concurrency int, log *slog.Logger) error {
	engine := &ocr.Tesseract{}
	if err := engine.Check(ctx); err != nil {
		log.Warn("OCR rows skipped", "err", err)
		return nil
	}
	p, err := benchPipeline(c)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "blindpack-bench-ocr-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	log.Info("building (a)'s packets for the OCR rows")
	packets, err := bench.BuildPackets(ctx, s, p, dir)
	if err != nil {
		return err
	}
	log.Info("running the OCR gate, every line")
	if rep.OCR, err = bench.RunOCR(ctx, packets, engine, concurrency); err != nil {
		return err
	}
	log.Info("running the OCR gate, first pass")
	rep.OCRScreen, err = bench.RunOCR(ctx, packets, ocr.Screened(engine), concurrency)
	return err
}

// benchPipeline is the pipeline the benchmark runs: the bench policy, the
// development secret, the font loaded as a worker does at start-up.
func benchPipeline(c *common) (*pipeline.Pipeline, error) {
	font, err := c.font()
	if err != nil {
		return nil, err
	}
	return pipeline.New(pipeline.Config{Policy: bench.Policy(), AnonSecret: []byte(devSecret), Font: font,
		Logger: slog.New(slog.DiscardHandler)})
}
