// Command load drives submissions through a private Redis and versitygw
// with W `blindpack worker` processes, for each W asked for, and prints
// throughput, time from enqueue to report and queue depth over time.
//
//	go run ./deploy/load                      # 120 submissions, W = 1, 2, 4
//	go run ./deploy/load -n 200 -workers 1,2,4,8 -concurrency 1
//	go run ./deploy/load -rehearsal 10000 -workers 2   # a campaign at full size
//
// Every run starts its own Redis (AOF) and versitygw under a temporary
// directory and stops them after, so runs do not share a queue or a
// bucket. The sample submissions in testdata/samples are re-labelled as n
// applicants, alternately, each with its own copy of the files, and
// submitted at once (a September rush); the workers run on the rehearsal
// clock so that the 2024 campaign admits them.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/blindpack/blindpack/internal/cluster"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/workers"
)

func main() {
	n := flag.Int("n", 120, "submissions per run")
	ws := flag.String("workers", "1,2,4", "comma-separated worker process counts, one run each")
	conc := flag.Int("concurrency", 1, "--concurrency of each worker (tasks at once per process)")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up on a run after this long")
	keep := flag.Bool("keep", false, "keep the services' data and logs (the directory is printed)")
	reh := flag.Int("rehearsal", 0, "instead: a campaign-scale rehearsal with this many applicants (e.g. 10000), submitted in waves, measuring what grows with the campaign")
	wave := flag.Int("wave", 1000, "with -rehearsal: applicants per wave (one row each)")
	flag.Parse()
	if *reh > 0 {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		counts, err := parseCounts(*ws)
		if err == nil {
			err = rehearsal(ctx, os.Stdout, *reh, max(*wave, 1), counts[len(counts)-1], *conc, *keep)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(1)
		}
		return
	}
	counts, err := parseCounts(*ws)
	if err != nil || *n < 1 || *conc < 1 {
		fmt.Fprintln(os.Stderr, "load: -n, -concurrency and every -workers count must be positive")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *n, counts, *conc, *timeout, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("bad worker count %q", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func run(ctx context.Context, out io.Writer, n int, counts []int, conc int, timeout time.Duration, keep bool) error {
	dir, err := os.MkdirTemp("", "blindpack-load-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintf(out, "data and logs kept in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	fmt.Fprintf(out, "building blindpack… ")
	bin, err := cluster.Build(ctx, dir)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "done")
	samples, err := cluster.Samples()
	if err != nil {
		return err
	}
	var names []string
	for _, s := range samples {
		names = append(names, filepath.Base(s))
	}
	fmt.Fprintf(out, "machine: %d CPUs (%s), load average %s at start\n", runtime.NumCPU(), cpuModel(), loadAvg())
	fmt.Fprintf(out, "each run: %d submissions (%s, alternating, each applicant its own copy of the files), enqueued at once;\n"+
		"  workers: --concurrency %d, --clock %s; fresh Redis (AOF) and versitygw per run\n\n",
		n, strings.Join(names, ", "), conc, cluster.RehearsalClock)

	began := time.Now()
	var results []result
	for _, w := range counts {
		r, err := runOnce(ctx, filepath.Join(dir, fmt.Sprintf("w%d", w)), bin, samples, n, w, conc, timeout)
		if err != nil {
			return fmt.Errorf("run with %d worker processes: %w", w, err)
		}
		r.print(out)
		results = append(results, r)
	}
	fmt.Fprintf(out, "\nREADME table (%d CPUs, %s; load average %s at the end):\n\n", runtime.NumCPU(), cpuModel(), loadAvg())
	printTable(out, results)
	fmt.Fprintln(out, "\nqueue depth, pending + active tasks, one character per second (█ = all submissions):")
	fmt.Fprintln(out, "```")
	for _, r := range results {
		fmt.Fprintf(out, "W=%d  %s\n", r.workers, sparkline(r.depth, r.n))
	}
	fmt.Fprintln(out, "```")
	fmt.Fprintf(out, "(whole load run: %.0f s)\n", time.Since(began).Seconds())
	return nil
}

// sample is the default queue's state at one moment.
type sample struct {
	at                                        time.Duration
	pending, active, retry, completed, archiv int
}

// result is one run.
type result struct {
	workers, conc, n  int
	accepted, pages   int
	makespan          time.Duration
	latencies         []time.Duration
	workerCPU, svcCPU time.Duration
	// machine is the CPU time every process on the machine used during
	// the run, ours and anyone else's.
	machine           time.Duration
	depth             []sample
	retried, archived int
}

func runOnce(ctx context.Context, dir, bin string, samples []string, n, w, conc int, timeout time.Duration) (res result, err error) {
	res = result{workers: w, conc: conc, n: n}
	c, err := cluster.Start(ctx, cluster.Config{Dir: dir, Bin: bin, Concurrency: conc})
	if err != nil {
		return res, err
	}
	defer c.Close()

	subs := make([]cluster.Submission, n)
	for i := range subs {
		if subs[i], err = c.Prepare(ctx, samples[i%len(samples)], fmt.Sprintf("A2024-%06d", 500000+i)); err != nil {
			return res, err
		}
	}
	for range w {
		if _, err := c.AddWorker(); err != nil {
			return res, err
		}
	}
	readyCtx, cancel := context.WithTimeout(ctx, time.Minute)
	err = c.WaitReady(readyCtx)
	cancel()
	if err != nil {
		return res, err
	}

	cpuAt := func() time.Duration {
		var d time.Duration
		for _, wk := range c.Workers() {
			d += wk.CPU()
		}
		return d
	}
	svcAt := func() time.Duration { return c.Redis.CPU() + c.S3.CPU() }
	cpu0, svc0, mach0 := cpuAt(), svcAt(), machineCPU()
	t0 := time.Now()

	// Queue depth, once a second, until the run ends.
	depthCtx, stopDepth := context.WithCancel(ctx)
	depthDone := make(chan []sample)
	go func() {
		var s []sample
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			if qi, err := c.Inspector.GetQueueInfo(workers.QueueDefault); err == nil {
				s = append(s, sample{at: time.Since(t0), pending: qi.Pending, active: qi.Active, retry: qi.Retry,
					completed: qi.Completed, archiv: qi.Archived})
			}
			select {
			case <-depthCtx.Done():
				depthDone <- s
				return
			case <-tick.C:
			}
		}
	}()
	defer stopDepth()

	enq := make(map[string]time.Time, n)
	for _, s := range subs {
		if _, err := c.Submit(ctx, s); err != nil {
			return res, fmt.Errorf("submit %s: %w", s.SubmissionID, err)
		}
		enq[s.ReportKey()] = time.Now()
	}

	done := make(map[string]time.Time, n)
	deadline := time.Now().Add(timeout)
	for len(done) < n {
		objs, err := c.Buckets.Reports.List(ctx, "")
		if err != nil {
			return res, err
		}
		now := time.Now()
		for _, o := range objs {
			if _, ok := done[o.Key]; !ok {
				done[o.Key] = now
			}
		}
		if now.After(deadline) {
			return res, fmt.Errorf("%d of %d reports after %s; logs in %s", len(done), n, timeout, dir)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	var last time.Time
	for k, t := range done {
		res.latencies = append(res.latencies, t.Sub(enq[k]))
		if t.After(last) {
			last = t
		}
	}
	res.makespan = last.Sub(t0)
	res.workerCPU, res.svcCPU, res.machine = cpuAt()-cpu0, svcAt()-svc0, machineCPU()-mach0
	stopDepth()
	res.depth = <-depthDone
	slices.Sort(res.latencies)

	for _, s := range subs {
		rc, _, err := c.Buckets.Reports.Get(ctx, s.ReportKey())
		if err != nil {
			return res, err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return res, err
		}
		rep, err := pipeline.ParseReport(data)
		if err != nil {
			return res, fmt.Errorf("report %s: %w", s.ReportKey(), err)
		}
		if rep.Status == pipeline.Accepted && rep.Packet != nil {
			res.accepted++
			res.pages += rep.Packet.Pages
		}
		if ti, err := c.Inspector.GetTaskInfo(workers.QueueDefault, s.SubmissionID); err == nil {
			res.retried += ti.Retried
		}
	}
	if qi, err := c.Inspector.GetQueueInfo(workers.QueueDefault); err == nil {
		res.archived = qi.Archived
	}
	if res.accepted != n {
		return res, fmt.Errorf("%d of %d submissions accepted; logs in %s", res.accepted, n, dir)
	}
	return res, nil
}

func (r result) subsPerMin() float64 { return float64(r.n) / r.makespan.Minutes() }
func (r result) pagesPerSec() float64 {
	return float64(r.pages) / r.makespan.Seconds()
}

// quantile is the nearest-rank quantile of sorted durations.
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(q*float64(len(d))+0.999999) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func (r result) print(out io.Writer) {
	fmt.Fprintf(out, "W=%d (×%d at once): %d submissions in %.1f s — %.1f submissions/min, %.1f packet pages/s; "+
		"enqueue→report p50 %.1f s, p99 %.1f s; worker CPU %.2f s/submission; retried %d, archived %d\n",
		r.workers, r.conc, r.n, r.makespan.Seconds(), r.subsPerMin(), r.pagesPerSec(),
		quantile(r.latencies, .5).Seconds(), quantile(r.latencies, .99).Seconds(),
		r.workerCPU.Seconds()/float64(r.n), r.retried, r.archived)
	fmt.Fprintln(out, "   t(s)  pending  active  completed")
	step := max(1, len(r.depth)/8)
	for i, s := range r.depth {
		if i%step == 0 || i == len(r.depth)-1 {
			fmt.Fprintf(out, "   %4.0f  %7d  %6d  %9d\n", s.at.Seconds(), s.pending, s.active, s.completed)
		}
	}
}

func printTable(out io.Writer, rs []result) {
	fmt.Fprintln(out, "| worker processes × tasks each | submissions | wall time | submissions/min | packet pages/s | enqueue→report p50 | p99 | worker CPU per submission | cores used by workers + Redis + S3 | by the whole machine |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		ours := (r.workerCPU + r.svcCPU).Seconds() / r.makespan.Seconds()
		fmt.Fprintf(out, "| %d × %d | %d | %.1f s | %.0f | %.1f | %.1f s | %.1f s | %.2f s | %.2f | %.2f of %d |\n",
			r.workers, r.conc, r.n, r.makespan.Seconds(), r.subsPerMin(), r.pagesPerSec(),
			quantile(r.latencies, .5).Seconds(), quantile(r.latencies, .99).Seconds(),
			r.workerCPU.Seconds()/float64(r.n), ours, r.machine.Seconds()/r.makespan.Seconds(), runtime.NumCPU())
	}
}

// sparkline draws pending + active per sample, scaled to full.
func sparkline(s []sample, full int) string {
	const bars = " ▁▂▃▄▅▆▇█"
	runes := []rune(bars)
	var b strings.Builder
	for _, x := range s {
		v := x.pending + x.active + x.retry
		i := (v*(len(runes)-1) + full - 1) / max(full, 1)
		b.WriteRune(runes[min(i, len(runes)-1)])
	}
	return b.String()
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// machineCPU is the CPU time all processes have used since boot: the busy
// jiffies of /proc/stat (everything but idle and iowait).
func machineCPU() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:8] { // user nice system idle iowait irq softirq
		if i == 3 || i == 4 {
			continue
		}
		x, _ := strconv.ParseInt(v, 10, 64)
		busy += x
	}
	return time.Duration(busy) * time.Second / 100 // USER_HZ
}

func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	return strings.Join(f[:min(3, len(f))], " ")
}
