package faulttest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/internal/cluster"
	"github.com/blindpack/blindpack/internal/pdfcheck"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/workers"
)

// long skips a test that takes minutes unless BLINDPACK_FAULTS=1.
func long(t *testing.T) {
	t.Helper()
	if os.Getenv("BLINDPACK_FAULTS") != "1" {
		t.Skip("long fault test: run it with `make faults` (BLINDPACK_FAULTS=1)")
	}
}

// short lets a quick fault test run under `make test` and `make faults`,
// not under a plain `go test ./...`, which must stay free of services.
func short(t *testing.T) {
	t.Helper()
	if os.Getenv("BLINDPACK_FAULTS") != "1" && os.Getenv("BLINDPACK_TEST_SERVICES") != "required" {
		t.Skip("fault test: run it with `make test` or `make faults`")
	}
}

// needTools fails the test when what it runs is not installed (make deps
// installs all of it).
func needTools(t *testing.T) {
	t.Helper()
	var missing []string
	for _, tool := range []string{"redis-server", "qpdf"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if _, err := cluster.VersitygwPath(); err != nil {
		missing = append(missing, "versitygw")
	}
	if _, err := os.Stat(synth.FontPath); err != nil {
		missing = append(missing, synth.FontPath)
	}
	if len(missing) > 0 {
		t.Fatalf("not installed: %s (make deps)", strings.Join(missing, ", "))
	}
}

// newCluster starts Redis, versitygw and the given number of worker
// processes, and stops them when the test ends. When the test fails, the
// end of every log is printed.
func newCluster(t *testing.T, nWorkers int) *cluster.Cluster {
	t.Helper()
	return newClusterWith(t, nWorkers, cluster.Config{})
}

// newClusterWith is newCluster with settings of cfg (Dir and Bin are
// filled in).
func newClusterWith(t *testing.T, nWorkers int, cfg cluster.Config) *cluster.Cluster {
	t.Helper()
	needTools(t)
	cfg.Bin = blindpackBin(t)
	cfg.Dir = t.TempDir()
	ctx := context.Background()
	c, err := cluster.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		if t.Failed() {
			logs := []string{c.Redis.LogPath(), c.S3.LogPath()}
			if c.Seaweed != nil {
				logs = append(logs, c.Seaweed.Master.LogPath())
				for _, v := range c.Seaweed.Volumes {
					logs = append(logs, v.LogPath())
				}
			}
			if c.Sentinel != nil {
				logs = logs[1:]
				for _, n := range c.Sentinel.Nodes {
					logs = append(logs, n.LogPath())
				}
				for _, sp := range c.Sentinel.Sentinels {
					logs = append(logs, sp.LogPath())
				}
			}
			for _, w := range c.Workers() {
				logs = append(logs, w.LogPath())
			}
			for _, l := range logs {
				t.Logf("--- %s (end):\n%s", l, tail(l, 25))
			}
		}
	})
	for range nWorkers {
		if _, err := c.AddWorker(); err != nil {
			t.Fatal(err)
		}
	}
	ready, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := c.WaitReady(ready); err != nil {
		t.Fatal(err)
	}
	return c
}

func tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// prepare re-labels the samples, alternately, as n applicants whose ids
// start with prefix, with their files uploaded.
func prepare(t *testing.T, c *cluster.Cluster, prefix string, n int) []cluster.Submission {
	t.Helper()
	samples, err := cluster.Samples()
	if err != nil {
		t.Fatal(err)
	}
	subs := make([]cluster.Submission, n)
	for i := range subs {
		if subs[i], err = c.Prepare(context.Background(), samples[i%len(samples)], fmt.Sprintf("%s-%05d", prefix, i)); err != nil {
			t.Fatal(err)
		}
	}
	return subs
}

func submitAll(t *testing.T, c *cluster.Cluster, subs []cluster.Submission) {
	t.Helper()
	for _, s := range subs {
		if _, err := c.Submit(context.Background(), s); err != nil {
			t.Fatalf("submit %s: %v", s.SubmissionID, err)
		}
	}
}

// countReports is how many of subs have a report, or -1 when the store
// does not answer.
func countReports(c *cluster.Cluster, subs []cluster.Submission) int {
	have := reportKeys(c)
	if have == nil {
		return -1
	}
	n := 0
	for _, s := range subs {
		if have[s.ReportKey()] {
			n++
		}
	}
	return n
}

// reportKeys are the keys in the reports bucket, nil when the store does
// not answer.
func reportKeys(c *cluster.Cluster) map[string]bool {
	objs, err := c.Buckets.Reports.List(context.Background(), "")
	if err != nil {
		return nil
	}
	have := map[string]bool{}
	for _, o := range objs {
		have[o.Key] = true
	}
	return have
}

// waitReports waits until at least want of subs have a report.
func waitReports(t *testing.T, c *cluster.Cluster, subs []cluster.Submission, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n := countReports(c, subs)
		if n >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d reports after %s (waiting for %d)", n, len(subs), timeout, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// watcher polls the packets and reports buckets while a fault test runs
// and reads every object version it has not seen, to catch anything
// half-written the moment it is visible: a packet must be a whole PDF (its
// header, one startxref and %%EOF at the very end, as long as listed), a
// report a valid accepted report.
type watcher struct {
	c    *cluster.Cluster
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	seen     map[string]bool // bucket/key/size/modtime
	checked  int
	bad      []string
	pollErrs int
}

func watch(c *cluster.Cluster) *watcher {
	w := &watcher{c: c, stop: make(chan struct{}), done: make(chan struct{}), seen: map[string]bool{}}
	go func() {
		defer close(w.done)
		for {
			w.poll("packets", c.Buckets.Packets, checkPacket)
			w.poll("reports", c.Buckets.Reports, checkReport)
			select {
			case <-w.stop:
				return
			case <-time.After(150 * time.Millisecond):
			}
		}
	}()
	return w
}

var packetKey = regexp.MustCompile(`^2024/2024-[0-9A-Z]{4}-[0-9A-Z]{4}/packet\.pdf$`)

func checkPacket(key string, data []byte) error {
	if !packetKey.MatchString(key) {
		return errors.New("not a packet key")
	}
	end := bytes.TrimRight(data, " \r\n\t")
	switch {
	case !bytes.HasPrefix(data, []byte("%PDF-")):
		return errors.New("no %PDF- header")
	case !bytes.HasSuffix(end, []byte("%%EOF")):
		return errors.New("does not end with %%EOF")
	case bytes.Count(data, []byte("startxref")) != 1:
		return fmt.Errorf("%d startxref", bytes.Count(data, []byte("startxref")))
	}
	return nil
}

func checkReport(key string, data []byte) error {
	if !json.Valid(data) {
		return errors.New("not valid JSON")
	}
	rep, err := pipeline.ParseReport(data)
	if err != nil {
		return err
	}
	if rep.Status != pipeline.Accepted || rep.Packet == nil {
		return fmt.Errorf("status %s, findings %v", rep.Status, rep.Findings)
	}
	return nil
}

func (w *watcher) poll(bucket string, s storage.Store, check func(string, []byte) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	objs, err := s.List(ctx, "")
	if err != nil {
		w.count(func() { w.pollErrs++ })
		return
	}
	for _, o := range objs {
		id := fmt.Sprintf("%s/%s/%d/%d", bucket, o.Key, o.Size, o.ModTime.UnixNano())
		w.mu.Lock()
		seen := w.seen[id]
		w.mu.Unlock()
		if seen {
			continue
		}
		rc, info, err := s.Get(ctx, o.Key)
		if err != nil {
			w.count(func() { w.pollErrs++ })
			continue
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			w.count(func() { w.pollErrs++ })
			continue
		}
		err = check(o.Key, data)
		if err == nil && int64(len(data)) != info.Size {
			err = fmt.Errorf("%d bytes read, %d stored", len(data), info.Size)
		}
		w.mu.Lock()
		w.seen[fmt.Sprintf("%s/%s/%d/%d", bucket, o.Key, info.Size, info.ModTime.UnixNano())] = true
		w.seen[id] = true
		w.checked++
		if err != nil {
			w.bad = append(w.bad, fmt.Sprintf("%s/%s: %v", bucket, o.Key, err))
		}
		w.mu.Unlock()
	}
}

func (w *watcher) count(f func()) {
	w.mu.Lock()
	f()
	w.mu.Unlock()
}

// finish stops the watcher after one last poll and fails the test if any
// object it read was not whole. It returns how many object versions it read
// and how many polls failed (the store being down).
func (w *watcher) finish(t *testing.T) (checked, pollErrs int) {
	t.Helper()
	close(w.stop)
	<-w.done
	w.poll("packets", w.c.Buckets.Packets, checkPacket)
	w.poll("reports", w.c.Buckets.Reports, checkReport)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.bad {
		t.Errorf("partial or wrong object visible: %s", b)
	}
	return w.checked, w.pollErrs
}

// outcome is what a run left in the buckets and in Redis.
type outcome struct {
	out, lost, dup int
	// retried sums the tasks' retry counts (asynq's own, which a lease
	// expiry after a kill also increments); maxRetried is the highest.
	retried, maxRetried int
	archived            int
	// sha is each submission's packet SHA-256 by submission id.
	sha map[string]string
	// tasks are the tasks as asynq last saw them, by task id.
	tasks map[string]*asynq.TaskInfo
}

// verify checks that every submission ended with exactly one accepted
// report and one whole packet (the one the report names, with the report's
// SHA-256, sound by qpdf --check), that nothing else is in the packets and
// reports buckets, that no outcome was a return, and that asynq completed
// every task and archived none.
func verify(t *testing.T, c *cluster.Cluster, subs []cluster.Submission) outcome {
	t.Helper()
	ctx := context.Background()
	o := outcome{sha: map[string]string{}, tasks: map[string]*asynq.TaskInfo{}}
	reports, err := c.Buckets.Reports.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	packets, err := c.Buckets.Packets.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	usedPackets := map[string]string{}
	for _, s := range subs {
		if err := verifyOne(t, c, s, usedPackets, &o); err != nil {
			t.Errorf("%s: %v", s.SubmissionID, err)
			o.lost++
			continue
		}
		o.out++
	}
	// Anything more than one report per submission and one packet per
	// accepted applicant is a duplicate.
	o.dup = max(0, len(reports)-len(subs)) + max(0, len(packets)-len(usedPackets))
	if o.dup > 0 {
		t.Errorf("%d reports and %d packets for %d submissions", len(reports), len(packets), len(subs))
	}
	if sheets, err := c.Buckets.Uploads.List(ctx, "contact/"); err != nil || len(sheets) > 0 {
		t.Errorf("contact sheets (rejections) in uploads: %d, %v", len(sheets), err)
	}
	waitCompleted(c, subs, 150*time.Second)
	for _, s := range subs {
		ti, err := c.Inspector.GetTaskInfo(workers.QueueDefault, s.SubmissionID)
		if err != nil {
			t.Errorf("task %s: %v", s.SubmissionID, err)
			continue
		}
		if ti.State != asynq.TaskStateCompleted {
			t.Errorf("task %s is %s, want completed", s.SubmissionID, ti.State)
		}
		o.tasks[ti.ID] = ti
		o.retried += ti.Retried
		o.maxRetried = max(o.maxRetried, ti.Retried)
	}
	for _, q := range []string{workers.QueueDefault, workers.QueueCritical} {
		if qi, err := c.Inspector.GetQueueInfo(q); err == nil {
			o.archived += qi.Archived
		}
	}
	if o.archived != 0 {
		t.Errorf("%d tasks archived", o.archived)
	}
	return o
}

// waitCompleted gives asynq up to timeout to mark every submission's task
// completed. A report can be written before its task is: after a Redis
// failover, the mark the worker wrote to the old primary may be lost, and
// asynq marks the task again (or, its lease run out, runs it again,
// idempotently) only later (TestSentinelFailover once found two tasks
// still active with their reports written).
func waitCompleted(c *cluster.Cluster, subs []cluster.Submission, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for _, s := range subs {
		for time.Now().Before(deadline) {
			ti, err := c.Inspector.GetTaskInfo(workers.QueueDefault, s.SubmissionID)
			if err == nil && ti.State == asynq.TaskStateCompleted {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func verifyOne(t *testing.T, c *cluster.Cluster, s cluster.Submission, used map[string]string, o *outcome) error {
	t.Helper()
	ctx := context.Background()
	data, err := get(ctx, c.Buckets.Reports, s.ReportKey())
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	rep, err := pipeline.ParseReport(data)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if rep.Status != pipeline.Accepted || rep.Packet == nil {
		return fmt.Errorf("report status %s: %v", rep.Status, rep.Findings)
	}
	key, ok := strings.CutPrefix(rep.Packet.Location, storage.PacketsBucket+"/")
	if !ok || key != storage.PacketKey(s.Campaign, rep.AnonCode) {
		return fmt.Errorf("report names packet %q", rep.Packet.Location)
	}
	if other, dup := used[key]; dup {
		return fmt.Errorf("packet %s is also %s's", key, other)
	}
	used[key] = s.SubmissionID
	pdf, err := get(ctx, c.Buckets.Packets, key)
	if err != nil {
		return fmt.Errorf("packet: %w", err)
	}
	sum := sha256.Sum256(pdf)
	if got := hex.EncodeToString(sum[:]); got != rep.Packet.SHA256 || int64(len(pdf)) != rep.Packet.Bytes {
		return fmt.Errorf("packet %s: sha256 %s, %d bytes; the report says %s, %d bytes", key, got, len(pdf), rep.Packet.SHA256, rep.Packet.Bytes)
	}
	if err := checkPacket(key, pdf); err != nil {
		return fmt.Errorf("packet %s: %w", key, err)
	}
	pdfcheck.QPDFCheck(t, pdfcheck.File(t, pdf))
	o.sha[s.SubmissionID] = rep.Packet.SHA256
	app, err := c.State.Get(ctx, s.Campaign, s.ApplicantID)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if app.Status != pipeline.AppAccepted || app.Returns != 0 {
		return fmt.Errorf("state: %s with %d returns, want accepted with none", app.Status, app.Returns)
	}
	return nil
}

func get(ctx context.Context, s storage.Store, key string) ([]byte, error) {
	rc, _, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// failure is one "task failed" line of a worker's log.
type failure struct {
	at  time.Time
	err string
}

// failures reads the workers' logs for "task failed" lines, by task id, in
// the order they happened.
func failures(t *testing.T, c *cluster.Cluster) map[string][]failure {
	t.Helper()
	out := map[string][]failure{}
	for _, w := range c.Workers() {
		f, err := os.Open(w.LogPath())
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var l struct {
				Time   time.Time `json:"time"`
				Msg    string    `json:"msg"`
				TaskID string    `json:"task_id"`
				Err    string    `json:"err"`
			}
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "task failed" {
				out[l.TaskID] = append(out[l.TaskID], failure{at: l.Time, err: l.Err})
			}
		}
		f.Close()
	}
	for _, fs := range out {
		slices.SortFunc(fs, func(a, b failure) int { return a.at.Compare(b.at) })
	}
	return out
}

// unexpectedExits fails the test if a worker exited without being killed.
func unexpectedExits(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	for _, w := range c.Workers() {
		if n := w.Unexpected(); n > 0 {
			t.Errorf("worker %d exited on its own %d times (log %s)", w.ID, n, w.LogPath())
		}
	}
}

// leftovers counts the files in the workers' temp dirs.
func leftovers(c *cluster.Cluster) int {
	n := 0
	for _, w := range c.Workers() {
		files, _ := filepath.Glob(filepath.Join(w.Dir(), "tmp-*", "*"))
		n += len(files)
	}
	return n
}
