package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/blindpack/blindpack/pipeline"
)

// Result is what one pipeline cost on a workload.
type Result struct {
	Name string `json:"name"`
	// Pages processed and packets written.
	Pages   int `json:"pages"`
	Packets int `json:"packets"`
	// CPU is user + system time of all the work: of the child processes for
	// tools, of the process itself for the in-process pipeline.
	CPU  time.Duration `json:"cpu"`
	Wall time.Duration `json:"wall"`
	// ChildCPU is the part of CPU the in-process pipeline's own child
	// processes took (the OCR rows: pdftoppm and tesseract).
	ChildCPU time.Duration `json:"child_cpu,omitempty"`
	// GCCPU is the part of CPU the Go garbage collector took (in-process).
	GCCPU time.Duration `json:"gc_cpu,omitempty"`
	// PeakRSS in bytes: the process's high-water mark for the in-process
	// pipeline, the largest child's for tools.
	PeakRSS int64 `json:"peak_rss"`
	// Processes is the number of child processes run (tools).
	Processes int `json:"processes,omitempty"`
	// StartCPU is what as many processes of the same tool cost on an
	// image of one block, run the same way: starting them, with nothing to
	// decode (the floor; not part of CPU).
	StartCPU time.Duration `json:"start_cpu,omitempty"`
	// InBytes are the page files read, OutBytes the packets (or, for the
	// floor, the re-encoded pages) written.
	InBytes  int64 `json:"in_bytes"`
	OutBytes int64 `json:"out_bytes"`
	// Rejected lists applicants whose submission was not accepted, with
	// their first finding: a benchmark of a run that rejects is void.
	Rejected []string `json:"rejected,omitempty"`
	// Note says how the figures were taken.
	Note string `json:"note,omitempty"`
}

// CPUPerPage is CPU seconds per page.
func (r Result) CPUPerPage() float64 { return r.CPU.Seconds() / float64(max(1, r.Pages)) }

// WallPerPage is wall seconds per page.
func (r Result) WallPerPage() float64 { return r.Wall.Seconds() / float64(max(1, r.Pages)) }

// PagesPerCoreSecond is how many pages one busy core gets through per second.
func (r Result) PagesPerCoreSecond() float64 {
	if r.CPU <= 0 {
		return 0
	}
	return float64(r.Pages) / r.CPU.Seconds()
}

// RunInProcess runs p.Process on every applicant of s, concurrency at a
// time as a worker would, writing packets to temporary files in outDir
// (removed afterwards), and measures this process: CPU by getrusage, GC
// CPU by runtime/metrics, peak RSS by /proc/self/status VmHWM (which
// includes whatever the process did before; run it in a fresh process).
func RunInProcess(ctx context.Context, s *Set, p *pipeline.Pipeline, concurrency int, outDir string) (*Result, error) {
	res := &Result{Name: "blindpack", Pages: s.Pages(), InBytes: s.InputBytes()}
	type outcome struct {
		bytes    int64
		rejected string
		err      error
	}
	outs := make([]outcome, len(s.Applicants))
	work := make(chan int)
	cpu0, gc0 := cpuTime(), gcCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for range max(1, concurrency) {
		wg.Go(func() {
			for i := range work {
				outs[i].bytes, outs[i].rejected, outs[i].err = processOne(ctx, s, s.Applicants[i], p, outDir)
			}
		})
	}
	for i := range s.Applicants {
		work <- i
	}
	close(work)
	wg.Wait()
	res.Wall = time.Since(start)
	res.CPU = cpuTime() - cpu0
	res.GCCPU = gcCPU() - gc0
	res.PeakRSS = peakRSS()
	for i, o := range outs {
		if o.err != nil {
			return nil, fmt.Errorf("bench: %s: %w", s.Applicants[i].ID, o.err)
		}
		if o.rejected != "" {
			res.Rejected = append(res.Rejected, s.Applicants[i].ID+": "+o.rejected)
			continue
		}
		res.Packets++
		res.OutBytes += o.bytes
	}
	return res, nil
}

func processOne(ctx context.Context, s *Set, a Applicant, p *pipeline.Pipeline, outDir string) (int64, string, error) {
	// A temporary file, as the worker does: the packet streams to disk.
	out, err := os.CreateTemp(outDir, "packet-*.pdf")
	if err != nil {
		return 0, "", fmt.Errorf("bench: %w", err)
	}
	defer os.Remove(out.Name())
	defer out.Close()
	_, rep, err := s.process(ctx, a, p, out)
	if err != nil {
		return 0, "", err
	}
	if rejected := rejection(rep); rejected != "" {
		return 0, rejected, nil
	}
	return rep.Packet.Bytes, "", nil
}

// process runs p on applicant a's submission, the packet going to out.
func (s *Set) process(ctx context.Context, a Applicant, p *pipeline.Pipeline, out pipeline.Output) (*pipeline.Submission, *pipeline.Report, error) {
	sub, err := s.Submission(a)
	if err != nil {
		return nil, nil, err
	}
	rep, err := p.Process(ctx, sub, s.source(a), out)
	return sub, rep, err
}

// rejection is "" for an accepted report, else its status and first
// finding: a benchmark of a run that rejects is void.
func rejection(rep *pipeline.Report) string {
	if rep.Status == pipeline.Accepted {
		return ""
	}
	if len(rep.Findings) > 0 {
		return fmt.Sprintf("%s: %s", rep.Findings[0].Code, rep.Findings[0].Detail)
	}
	return string(rep.Status)
}

// source reads applicant a's files from the set, as a worker reads uploads.
func (s *Set) source(a Applicant) pipeline.Source {
	return pipeline.SourceFunc(func(_ context.Context, file string) (io.ReadCloser, error) {
		if !filepath.IsLocal(file) {
			return nil, fmt.Errorf("%w: %s", pipeline.ErrInvalidFile, file)
		}
		f, err := os.Open(s.Path(a, file))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", pipeline.ErrFileNotFound, file)
		}
		return f, err
	})
}

// cpuTime is this process's user + system time.
func cpuTime() time.Duration { return rusageOf(syscall.RUSAGE_SELF) }

// childCPU is the user + system time of this process's finished children.
func childCPU() time.Duration { return rusageOf(syscall.RUSAGE_CHILDREN) }

func rusageOf(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return rusageCPU(&ru)
}

func rusageCPU(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// gcCPU is the CPU time the garbage collector has used so far.
func gcCPU() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(s[0].Value.Float64() * float64(time.Second))
}

// peakRSS is this process's resident high-water mark (VmHWM), or the
// rusage maximum where /proc is missing.
func peakRSS() int64 {
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if f := bytes.Fields(sc.Bytes()); len(f) >= 2 && string(f[0]) == "VmHWM:" {
				if kb, err := strconv.ParseInt(string(f[1]), 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		return maxRSSBytes(&ru)
	}
	return 0
}

// maxRSSBytes converts ru_maxrss, which Linux gives in KiB.
func maxRSSBytes(ru *syscall.Rusage) int64 {
	if runtime.GOOS == "darwin" {
		return ru.Maxrss
	}
	return ru.Maxrss << 10
}
