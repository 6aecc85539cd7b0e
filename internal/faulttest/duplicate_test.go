package faulttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/internal/cluster"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/workers"
)

// TestDuplicateRuns runs each of three submissions twice at once — the
// same payload under a second task id, taken by the other worker process —
// then submits each again (refused: already queued), has an administrator
// reprocess each, and runs one locally with `blindpack process`. There must
// be one packet per applicant, with the same bytes after every run.
func TestDuplicateRuns(t *testing.T) {
	short(t)
	const n = 3
	ctx := context.Background()
	c := newCluster(t, 2)
	subs := prepare(t, c, "D2024", n)

	// Queue everything while the queue is paused, so that the two workers
	// start on it together.
	if err := c.Inspector.PauseQueue(workers.QueueDefault); err != nil {
		t.Fatal(err)
	}
	dupID := func(s cluster.Submission) string { return s.SubmissionID + "-dup" }
	for _, s := range subs {
		p, err := c.Submit(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		payload, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		task := asynq.NewTask(workers.TypeProcessSubmission, payload, asynq.TaskID(dupID(s)),
			asynq.Queue(workers.QueueDefault), asynq.MaxRetry(10), asynq.Timeout(10*time.Minute), asynq.Retention(time.Hour))
		if _, err := c.Client.Enqueue(task); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Inspector.UnpauseQueue(workers.QueueDefault); err != nil {
		t.Fatal(err)
	}
	// Watch the active list for both runs of a submission at once.
	together := map[string]bool{}
	for deadline := time.Now().Add(3 * time.Minute); ; {
		active, err := c.Inspector.ListActiveTasks(workers.QueueDefault)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, a := range active {
			ids[a.ID] = true
		}
		for _, s := range subs {
			if ids[s.SubmissionID] && ids[dupID(s)] {
				together[s.SubmissionID] = true
			}
		}
		if countReports(c, subs) == n && len(active) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d reports after 3 minutes", countReports(c, subs), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, s := range subs {
		ti, err := c.Inspector.GetTaskInfo(workers.QueueDefault, dupID(s))
		if err != nil || ti.State != asynq.TaskStateCompleted {
			t.Fatalf("duplicate task of %s: %v %v", s.SubmissionID, ti, err)
		}
	}
	first := verify(t, c, subs)
	reports := map[string][]byte{}
	for _, s := range subs {
		data, err := get(ctx, c.Buckets.Reports, s.ReportKey())
		if err != nil {
			t.Fatal(err)
		}
		reports[s.SubmissionID] = data
	}
	t.Logf("both runs of one submission active at once: %d of %d submissions", len(together), n)

	// The upload service submits again: refused by the queue, through the
	// library and through the CLI.
	refused := 0
	for _, s := range subs {
		if _, err := c.Submit(ctx, s); !errors.Is(err, workers.ErrAlreadyQueued) {
			t.Errorf("second submit of %s: %v, want already queued", s.SubmissionID, err)
			continue
		}
		refused++
	}
	doc := filepath.Join(t.TempDir(), "submission.json")
	if err := os.WriteFile(doc, subs[0].Doc, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Command(ctx, "submit", doc).CombinedOutput(); err != nil || !bytes.Contains(out, []byte("already queued")) {
		t.Errorf("blindpack submit again: %v\n%s", err, out)
	}

	// An administrator reprocesses each: a third run, on the critical queue.
	var reIDs []string
	for _, s := range subs {
		id, err := workers.Reprocess(ctx, c.Client, c.State, s.SubmissionID, "fault-test", nil)
		if err != nil {
			t.Fatal(err)
		}
		reIDs = append(reIDs, id)
	}
	for _, id := range reIDs {
		waitTask(t, c, workers.QueueCritical, id, 3*time.Minute)
	}
	second := verify(t, c, subs)
	differ := 0
	for _, s := range subs {
		if first.sha[s.SubmissionID] != second.sha[s.SubmissionID] {
			differ++
			t.Errorf("%s: packet %s after reprocess, %s before", s.SubmissionID, second.sha[s.SubmissionID], first.sha[s.SubmissionID])
		}
		data, err := get(ctx, c.Buckets.Reports, s.ReportKey())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, reports[s.SubmissionID]) {
			t.Errorf("%s: report changed by the reprocess", s.SubmissionID)
		}
	}

	// The same submission run locally, without queue or store, gives the
	// same bytes.
	local := processLocally(t, c, subs[0])
	if local != first.sha[subs[0].SubmissionID] {
		differ++
		t.Errorf("blindpack process made packet %s, the workers %s", local, first.sha[subs[0].SubmissionID])
	}
	record(t, row{
		fault:    "duplicate and concurrent runs",
		injected: fmt.Sprintf("each of %d submissions enqueued twice (same payload, second task id) for 2 worker processes at once, submitted again, reprocessed by an administrator, and run by `blindpack process`", n),
		in:       n, out: second.out, lost: second.lost, dup: second.dup + differ,
		note: fmt.Sprintf("%d queue runs (both runs active at once for %d of %d submissions), %d resubmissions refused as already queued; one packet per applicant, same SHA-256 in every run and locally",
			3*n, len(together), n, refused),
	})
}

// waitTask waits for a task to complete.
func waitTask(t *testing.T, c *cluster.Cluster, queue, id string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ti, err := c.Inspector.GetTaskInfo(queue, id)
		if err == nil && ti.State == asynq.TaskStateCompleted {
			return
		}
		if err == nil && ti.State == asynq.TaskStateArchived {
			t.Fatalf("task %s archived: %s", id, ti.LastErr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s not completed after %s: %v %v", id, timeout, ti, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// processLocally runs `blindpack process` on the sample s was made from,
// under s's ids and the cluster's secret, and returns the packet's SHA-256.
func processLocally(t *testing.T, c *cluster.Cluster, s cluster.Submission) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(s.Sample, "submission.json"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := pipeline.ParseSubmission(data)
	if err != nil {
		t.Fatal(err)
	}
	sub.ApplicantID, sub.SubmissionID = s.ApplicantID, s.SubmissionID
	if data, err = sub.Marshal(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	doc, out := filepath.Join(dir, "submission.json"), filepath.Join(dir, "out")
	if err := os.WriteFile(doc, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := c.Command(context.Background(), "process", "--submission", doc, "--input", s.Sample, "--out", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("blindpack process: %v\n%s", err, strings.TrimSpace(string(msg)))
	}
	pdf, err := os.ReadFile(filepath.Join(out, "packet.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(pdf)
	return hex.EncodeToString(sum[:])
}
