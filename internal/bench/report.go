package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
)

// Targets of the September-rush issue.
const (
	// TargetFloorRatio: blindpack's CPU per page at most this many times
	// the floor's (#11, with every image rewritten in canonical form).
	TargetFloorRatio = 1.2
	// TargetReferenceSpeedup: blindpack more than this many times faster
	// than the reference tool pipeline.
	TargetReferenceSpeedup = 10.0
	// TargetBytesRatio: packet bytes at most this many times the input's.
	TargetBytesRatio = 1.05
	// TargetTypedCPU: CPU seconds per typed A4 page on the render path.
	TargetTypedCPU = 0.15
	// TargetOCRCPU: CPU seconds per packet page for the OCR gate (#13).
	TargetOCRCPU = 0.3
	// TargetPeakRSS: one worker's peak RSS while building 200-page packets
	// at its default concurrency.
	TargetPeakRSS = 300 << 20
)

// Report is one `blindpack bench` run.
type Report struct {
	Machine     Machine  `json:"machine"`
	Workload    Workload `json:"workload"`
	InputBytes  int64    `json:"input_bytes"`
	Concurrency int      `json:"concurrency"`
	Runs        int      `json:"runs"`
	// Blindpack is the in-process pipeline as built (libjpeg-turbo where
	// cgo is available); PureGo the same forced onto image/jpeg, the
	// "before" of the codec change; nil when not run.
	Blindpack *Result `json:"blindpack"`
	PureGo    *Result `json:"pure_go,omitempty"`
	Reference *Result `json:"reference,omitempty"`
	Floor     *Result `json:"floor,omitempty"`
	// Memory is the in-process pipeline building Concurrency packets of
	// MemoryWorkload.Pages pages at once.
	Memory         *Result   `json:"memory,omitempty"`
	MemoryWorkload *Workload `json:"memory_workload,omitempty"`
	MemoryPureGo   *Result   `json:"memory_pure_go,omitempty"`
	// Typed is the in-process pipeline on TypedWorkload: one-page typed
	// PDFs, every page drawn by the sandboxed renderer.
	Typed         *Result   `json:"typed,omitempty"`
	TypedWorkload *Workload `json:"typed_workload,omitempty"`
	// OCR is the OCR gate reading the workload's packets every line
	// (--ocr-screen=false); OCRScreen as it does by default, through its
	// first pass on crisp pages. Nil when not run.
	OCR       *Result `json:"ocr,omitempty"`
	OCRScreen *Result `json:"ocr_screen,omitempty"`
	// Backend is the JPEG codec of the Blindpack row.
	Backend string `json:"backend"`
}

// Machine describes where the figures were taken.
type Machine struct {
	CPUs   int    `json:"cpus"`
	Model  string `json:"model"`
	OS     string `json:"os"`
	Arch   string `json:"arch"`
	Go     string `json:"go"`
	Kernel string `json:"kernel,omitempty"`
}

// ThisMachine describes the machine the process runs on.
func ThisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// Median returns the run with the median CPU time (the lower one of an
// even count), nil for none.
func Median(rs []*Result) *Result {
	if len(rs) == 0 {
		return nil
	}
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b *Result) int { return int(a.CPU - b.CPU) })
	return s[(len(s)-1)/2]
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }

// Write prints the report as the table the README quotes.
func (r *Report) Write(w io.Writer) error {
	m := r.Machine
	wl := r.Workload
	fmt.Fprintf(w, "machine: %d × %s, %s/%s, %s\n", m.CPUs, m.Model, m.OS, m.Arch, m.Go)
	fmt.Fprintf(w, "workload: %d applicants × %d pages (%d masked each), A4 %d ppi grey JPEG q%d, %.1f MB; %d at a time",
		wl.Applicants, wl.Pages, wl.Masked, wl.PPI, wl.Quality, float64(r.InputBytes)/1e6, r.Concurrency)
	if r.Runs > 1 {
		fmt.Fprintf(w, "; median of %d runs", r.Runs)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pipeline\tCPU s/page\twall s/page\tpages/s/core\tpeak RSS\tout/in bytes\t")
	row := func(label string, res *Result, bytesRatio bool) {
		if res == nil {
			return
		}
		ratio := "–"
		if bytesRatio && res.InBytes > 0 && res.OutBytes > 0 {
			ratio = fmt.Sprintf("%.3f", float64(res.OutBytes)/float64(res.InBytes))
		}
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.1f\t%s\t%s\t\n", label, res.CPUPerPage(), res.WallPerPage(), res.PagesPerCoreSecond(), mb(res.PeakRSS), ratio)
	}
	row("(a) blindpack, "+r.Backend, r.Blindpack, true)
	row("(a0) blindpack, image/jpeg (before)", r.PureGo, true)
	row("(b) reference: ImageMagick + img2pdf + qpdf", r.Reference, true)
	row("(c) floor: djpeg all + cjpeg masked", r.Floor, false)
	row("(t) blindpack, typed PDF pages rendered", r.Typed, false)
	row("(o) OCR gate on (a)'s packets, every line", r.OCR, false)
	row("(o') OCR gate on (a)'s packets (default)", r.OCRScreen, false)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "CPU is user+system: for (a) getrusage of the blindpack process around the runs (GC included),")
	fmt.Fprintln(w, "for (b) and (c) the rusage of every child process. pages/s/core = pages ÷ CPU seconds. Peak RSS:")
	fmt.Fprintln(w, "VmHWM of the blindpack child process; for (b) and (c), the largest single tool process.")
	if tw := r.TypedWorkload; tw != nil && r.Typed != nil {
		fmt.Fprintf(w, "(t): %d applicants × %d one-page typed A4 PDFs (36 lines of 10.5-pt CJK text, embedded font; %d masked each),\n", tw.Applicants, tw.Pages, tw.Masked)
		fmt.Fprintf(w, "drawn by pdfium-wasm at 200 ppi; target ≤ %.2f CPU s/page: %s\n", TargetTypedCPU, verdict(r.Typed.CPUPerPage() <= TargetTypedCPU))
	}
	for _, o := range []struct {
		label string
		res   *Result
	}{{"(o)", r.OCR}, {"(o')", r.OCRScreen}} {
		if o.res != nil {
			fmt.Fprintf(w, "%s: %s; target ≤ %.1f CPU s/page: %s\n", o.label, o.res.Note, TargetOCRCPU, verdict(o.res.CPUPerPage() <= TargetOCRCPU))
		}
	}
	if a := r.Blindpack; a != nil {
		for _, rej := range a.Rejected {
			fmt.Fprintf(w, "WARNING: blindpack rejected %s — the run is void\n", rej)
		}
		fmt.Fprintln(w)
		if g := a.GCCPU; g > 0 {
			fmt.Fprintf(w, "(a) GC: %.1f%% of its CPU\n", 100*g.Seconds()/a.CPU.Seconds())
		}
		if r.PureGo != nil {
			fmt.Fprintf(w, "(a) vs (a0): %.2f× less CPU per page\n", r.PureGo.CPUPerPage()/a.CPUPerPage())
		}
		if b := r.Reference; b != nil {
			fmt.Fprintf(w, "a/b CPU per page: %.4f — blindpack %.1f× faster than the reference (target > %.0f×): %s\n",
				a.CPUPerPage()/b.CPUPerPage(), b.CPUPerPage()/a.CPUPerPage(), TargetReferenceSpeedup, verdict(b.CPUPerPage()/a.CPUPerPage() > TargetReferenceSpeedup))
		}
		if c := r.Floor; c != nil {
			ratio := a.CPUPerPage() / c.CPUPerPage()
			fmt.Fprintf(w, "a/c CPU per page: %.2f × the floor (target ≤ %.1f×): %s\n", ratio, TargetFloorRatio, verdict(ratio <= TargetFloorRatio))
			if st := c.StartCPU; st > 0 && st < c.CPU {
				fmt.Fprintf(w, "  the floor's %d process starts (djpeg of an 8×8 JPEG as often): %.4f CPU s/page; a/c without them: %.2f ×\n",
					c.Processes, st.Seconds()/float64(max(1, c.Pages)), a.CPUPerPage()/((c.CPU-st).Seconds()/float64(max(1, c.Pages))))
			}
			if r.PureGo != nil {
				fmt.Fprintf(w, "a0/c CPU per page: %.2f × the floor\n", r.PureGo.CPUPerPage()/c.CPUPerPage())
			}
		}
		if a.InBytes > 0 && a.OutBytes > 0 {
			ratio := float64(a.OutBytes) / float64(a.InBytes)
			fmt.Fprintf(w, "packet bytes / input bytes: %.3f (target ≤ %.2f): %s\n", ratio, TargetBytesRatio, verdict(ratio <= TargetBytesRatio))
		}
	}
	if mr := r.Memory; mr != nil && r.MemoryWorkload != nil {
		fmt.Fprintf(w, "peak RSS building %d packets of %d pages at once (%s): %s (target ≤ %s): %s\n",
			r.MemoryWorkload.Applicants, r.MemoryWorkload.Pages, r.Backend, mb(mr.PeakRSS), mb(TargetPeakRSS), verdict(mr.PeakRSS <= TargetPeakRSS))
		if p := r.MemoryPureGo; p != nil {
			fmt.Fprintf(w, "  the same with image/jpeg (before): %s\n", mb(p.PeakRSS))
		}
		for _, rej := range mr.Rejected {
			fmt.Fprintf(w, "WARNING: memory run rejected %s — the figure is void\n", rej)
		}
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT MET"
}
