package workers_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/blindpack/blindpack/internal/pdfcheck"
	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/storage/s3"
	"github.com/blindpack/blindpack/workers"
)

// env is a worker against the real Redis and S3 server of `make test`,
// with buckets and a Redis database of its own.
type env struct {
	buckets   storage.Buckets
	redis     asynq.RedisClientOpt
	client    *asynq.Client
	inspector *asynq.Inspector
	submitter *workers.Submitter
	handler   *workers.Handler
	state     *state.Store
	// clock is the state's clock, where a test sets it (gateEnv).
	clock *testClock
}

// redisDB is this package's Redis database: packages run in parallel, and
// each that uses Redis has its own.
const redisDB = 2

var (
	fontOnce sync.Once
	font     *pdfkit.Font
	fontErr  error
)

func newEnv(t *testing.T, wrapUploads func(storage.Store) storage.Store) *env {
	t.Helper()
	return newEnvWith(t, wrapUploads, nil)
}

// newEnvWith also gives the worker and submitter the application state
// store, on the same Redis database, with the given clock.
func newEnvWith(t *testing.T, wrapUploads func(storage.Store) storage.Store, now func() time.Time, configure ...func(*workers.Handler)) *env {
	t.Helper()
	opt, buckets, suffix := freshServices(t)
	fontOnce.Do(func() { font, fontErr = pdfkit.LoadFont(synth.FontPath, 0) })
	if fontErr != nil {
		t.Fatal(fontErr)
	}
	p, err := pipeline.New(pipeline.Config{AnonSecret: []byte("integration-secret-0123"), Font: font})
	if err != nil {
		t.Fatal(err)
	}
	workerBuckets := buckets
	if wrapUploads != nil {
		workerBuckets.Uploads = wrapUploads(buckets.Uploads)
	}
	h := &workers.Handler{Pipeline: p, Buckets: workerBuckets, PacketsBucket: "pk-" + suffix, TempDir: t.TempDir()}
	var st *state.Store
	if now != nil {
		rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: redisDB})
		t.Cleanup(func() { rdb.Close() })
		st = state.New(rdb, state.Options{Now: now})
		h.State = st
	}
	for _, c := range configure {
		c(h)
	}
	startWorker(t, opt, h)
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })
	return &env{buckets: buckets, redis: opt, client: client, inspector: insp, handler: h, state: st,
		submitter: &workers.Submitter{Uploads: buckets.Uploads, Client: client, State: st, Now: now}}
}

func randomSuffix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func sampleDoc(t *testing.T, name string) ([]byte, string) {
	t.Helper()
	dir := filepath.Join("..", "testdata", "samples", name)
	doc, err := os.ReadFile(filepath.Join(dir, "submission.json"))
	if err != nil {
		t.Fatal(err)
	}
	return doc, dir
}

func (e *env) report(t *testing.T, p workers.ProcessPayload) *pipeline.Report {
	t.Helper()
	key := storage.ReportKey(p.Campaign, p.ApplicantID, p.SubmissionID)
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		rc, _, err := e.buckets.Reports.Get(context.Background(), key)
		if err == nil {
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			rep, err := pipeline.ParseReport(data)
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		if !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no report for %s", p.SubmissionID)
	return nil
}

func (e *env) get(t *testing.T, s storage.Store, key string) []byte {
	t.Helper()
	rc, _, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// waitTask waits until the task reaches a final state and returns it.
func (e *env) waitTask(t *testing.T, queue, id string) *asynq.TaskInfo {
	t.Helper()
	return e.waitTaskFor(t, queue, id, 60*time.Second)
}

// waitTaskFor is waitTask with a deadline of its own, for tasks that run
// long (OCR).
func (e *env) waitTaskFor(t *testing.T, queue, id string, d time.Duration) *asynq.TaskInfo {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		info, err := e.inspector.GetTaskInfo(queue, id)
		if err == nil && (info.State == asynq.TaskStateCompleted || info.State == asynq.TaskStateArchived) {
			return info
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("task %s did not finish", id)
	return nil
}

func TestQueueBuildsCheckedPackets(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	for _, name := range synth.SampleDirs {
		t.Run(name, func(t *testing.T) {
			doc, dir := sampleDoc(t, name)
			p, err := e.submitter.SubmitDir(ctx, doc, dir)
			if err != nil {
				t.Fatal(err)
			}
			// The upload service retries; nothing is queued twice.
			if _, err := e.submitter.SubmitDir(ctx, doc, dir); !errors.Is(err, workers.ErrAlreadyQueued) {
				t.Fatalf("second submit: %v", err)
			}
			rep := e.report(t, p)
			if rep.Status != pipeline.Accepted {
				t.Fatalf("status %s: %+v", rep.Status, rep.Findings)
			}
			if want := "pk-"; rep.Packet.Location[:3] != want {
				t.Errorf("packet location %q", rep.Packet.Location)
			}
			pdf := e.get(t, e.buckets.Packets, storage.PacketKey(p.Campaign, rep.AnonCode))
			sub, err := pipeline.ParseSubmission(doc)
			if err != nil {
				t.Fatal(err)
			}
			pdfcheck.Packet(t, pdfcheck.File(t, pdf), sub, rep)

			info := e.waitTask(t, workers.QueueDefault, p.SubmissionID)
			if info.State != asynq.TaskStateCompleted || info.Retried != 0 {
				t.Errorf("task state %v, retried %d", info.State, info.Retried)
			}
			// The payload names no one.
			if containsAny(info.Payload, sub.Identity.Name, sub.Identity.Employer) {
				t.Error("task payload holds identity text")
			}

			// Running the same submission again (as a reprocess does)
			// republishes identical bytes.
			task := asynq.NewTask(workers.TypeProcessSubmission, info.Payload, asynq.TaskID(p.SubmissionID+"-again"), asynq.Retention(time.Hour))
			if _, err := e.client.Enqueue(task); err != nil {
				t.Fatal(err)
			}
			e.waitTask(t, workers.QueueDefault, p.SubmissionID+"-again")
			again := e.get(t, e.buckets.Packets, storage.PacketKey(p.Campaign, rep.AnonCode))
			if string(again) != string(pdf) {
				t.Error("re-run published different packet bytes")
			}
		})
	}
}

func containsAny(b []byte, s ...string) bool {
	for _, x := range s {
		if x != "" && bytesContains(b, x) {
			return true
		}
	}
	return false
}

func TestBadInputIsReportedAndNotRetried(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	doc, dir := sampleDoc(t, "eng-intermediate")
	sub, _ := pipeline.ParseSubmission(doc)
	// Another applicant whose summary upload was cut short and whose
	// degree certificate never arrived.
	work := t.TempDir()
	copyDir(t, dir, work)
	summary := filepath.Join(work, "summary.jpg")
	data, _ := os.ReadFile(summary)
	os.WriteFile(summary, data[:len(data)/3], 0o644)
	sub.ApplicantID, sub.SubmissionID = "A2024-000777", "A2024-000777-r1"
	for i := range sub.Materials {
		if sub.Materials[i].Type == "degree_certificate" {
			sub.Materials[i].File = "lost.png"
			os.WriteFile(filepath.Join(work, "lost.png"), []byte{}, 0o644) // uploaded, then…
		}
	}
	bad, _ := sub.Marshal()
	p, err := e.submitter.SubmitDir(ctx, bad, work)
	if err != nil {
		t.Fatal(err)
	}
	// …deleted from the bucket before the worker got to it.
	for i := range sub.Materials {
		if sub.Materials[i].Type == "degree_certificate" {
			e.buckets.Uploads.Delete(ctx, storagePath(sub, i, "lost.png"))
		}
	}
	rep := e.report(t, p)
	if rep.Status != pipeline.Rejected {
		t.Fatalf("status %s", rep.Status)
	}
	var codes []finding.Code
	for _, f := range rep.Findings {
		codes = append(codes, f.Code)
	}
	if !slices.Contains(codes, finding.CorruptFile) || !slices.Contains(codes, finding.FileMissing) {
		t.Errorf("codes %v", codes)
	}
	if _, err := e.buckets.Packets.Stat(ctx, storage.PacketKey(p.Campaign, rep.AnonCode)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a rejected submission has a packet: %v", err)
	}
	info := e.waitTask(t, workers.QueueDefault, p.SubmissionID)
	if info.State != asynq.TaskStateCompleted || info.Retried != 0 {
		t.Errorf("bad input: task %v retried %d", info.State, info.Retried)
	}

	// A payload that names no submission cannot be reported: it is
	// archived at once, without retries, and the worker goes on.
	if _, err := e.client.Enqueue(asynq.NewTask(workers.TypeProcessSubmission, []byte("{not json"), asynq.TaskID("garbage"), asynq.MaxRetry(5))); err != nil {
		t.Fatal(err)
	}
	info = e.waitTask(t, workers.QueueDefault, "garbage")
	if info.State != asynq.TaskStateArchived || info.Retried != 0 {
		t.Errorf("bad payload: state %v retried %d", info.State, info.Retried)
	}
	good, gdir := sampleDoc(t, "acct-senior")
	gp, err := e.submitter.SubmitDir(ctx, good, gdir)
	if err != nil {
		t.Fatal(err)
	}
	if rep := e.report(t, gp); rep.Status != pipeline.Accepted {
		t.Errorf("worker did not go on: %s", rep.Status)
	}
}

func storagePath(sub *pipeline.Submission, i int, base string) string {
	return sub.Campaign + "/" + sub.ApplicantID + "/" + sub.SubmissionID + "/" + twoDigits(i) + "-" + base
}

// flaky fails reads of material files the first few times, as an object
// store does in a bad minute.
type flaky struct {
	storage.Store
	failures atomic.Int32
}

func (f *flaky) Get(ctx context.Context, key string) (io.ReadCloser, storage.ObjectInfo, error) {
	if filepath.Ext(key) != ".json" && f.failures.Add(-1) >= 0 {
		return nil, storage.ObjectInfo{}, errors.New("503 Service Unavailable")
	}
	return f.Store.Get(ctx, key)
}

func TestTransientFailuresRetryAndLeaveNothingHalfDone(t *testing.T) {
	var fl *flaky
	e := newEnv(t, func(s storage.Store) storage.Store {
		fl = &flaky{Store: s}
		fl.failures.Store(2)
		return fl
	})
	ctx := context.Background()
	doc, dir := sampleDoc(t, "eng-intermediate")
	p, err := e.submitter.SubmitDir(ctx, doc, dir)
	if err != nil {
		t.Fatal(err)
	}
	rep := e.report(t, p)
	if rep.Status != pipeline.Accepted {
		t.Fatalf("status %s", rep.Status)
	}
	info := e.waitTask(t, workers.QueueDefault, p.SubmissionID)
	if info.State != asynq.TaskStateCompleted || info.Retried < 2 {
		t.Errorf("state %v after %d retries, want completed after 2", info.State, info.Retried)
	}
	// Only the finished packet and report exist: nothing from the failed
	// attempts.
	for _, s := range []storage.Store{e.buckets.Packets, e.buckets.Reports} {
		objs, err := s.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != 1 {
			t.Errorf("%d objects in a bucket, want 1: %+v", len(objs), objs)
		}
	}
}

// freshServices empties this package's Redis database and makes a fresh set
// of buckets on the test S3 server, named with a random suffix.
func freshServices(t *testing.T) (asynq.RedisClientOpt, storage.Buckets, string) {
	t.Helper()
	ctx := context.Background()
	opt := asynq.RedisClientOpt{Addr: testenv.Redis(t), DB: redisDB}
	rc := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: redisDB})
	if err := rc.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	srv := testenv.S3Server(t)
	cl, err := s3.Open(ctx, s3.Config{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	suffix := randomSuffix()
	buckets, err := cl.Buckets(ctx, s3.BucketNames{Uploads: "up-" + suffix, Packets: "pk-" + suffix, Reports: "rp-" + suffix, Results: "rs-" + suffix}, true)
	if err != nil {
		t.Fatal(err)
	}
	return opt, buckets, suffix
}

// TestWorkerMetrics: a worker with metrics counts each submission by its
// outcome and times the pipeline's stages.
// gather reads a registry's counters (their values) and histograms (their
// sample counts) by name and label values: "name/label…".
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, mt := range f.GetMetric() {
			key := f.GetName()
			for _, l := range mt.GetLabel() {
				key += "/" + l.GetValue()
			}
			switch {
			case mt.GetCounter() != nil:
				got[key] = mt.GetCounter().GetValue()
			case mt.GetHistogram() != nil:
				got[key] = float64(mt.GetHistogram().GetSampleCount())
			}
		}
	}
	return got
}

func TestWorkerMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := workers.NewMetrics(reg)
	e := newEnvWith(t, nil, nil, func(h *workers.Handler) { h.Metrics = m })
	doc, dir := sampleDoc(t, "eng-intermediate")
	p, err := e.submitter.SubmitDir(context.Background(), doc, dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep := e.report(t, p); rep.Status != pipeline.Accepted {
		t.Fatalf("status %s", rep.Status)
	}
	e.waitTask(t, workers.QueueDefault, p.SubmissionID)
	got := gather(t, reg)
	if got["blindpack_worker_submissions_total/accepted"] != 1 || got["blindpack_worker_packet_pages_total"] != 6 {
		t.Errorf("counts %v", got)
	}
	// Eight files, six packet pages (the cover is written at close), one
	// verification.
	for stage, n := range map[string]float64{"fetch": 8, "open": 8, "check": 9, "build": 6, "verify": 1} {
		if got["blindpack_worker_stage_duration_seconds/"+stage] != n {
			t.Errorf("stage %s observed %v times, want %v", stage, got["blindpack_worker_stage_duration_seconds/"+stage], n)
		}
	}
}
