package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/workers"
)

// TestSubmissionSeesPendingReprocess: while an administrator's reprocess
// waits in the critical queue, GET /v1/submissions/{id} says the
// submission is queued again, with that task — not the earlier report's
// status as if nothing were pending — and once it has run, its outcome.
func TestSubmissionSeesPendingReprocess(t *testing.T) {
	e := newEnv(t)
	sub, doc := e.upload("eng-intermediate", "")
	if r := e.do("POST", "/v1/submissions", e.tok["upload"], doc); r.code != http.StatusAccepted {
		t.Fatalf("submit: %d %s", r.code, r.body)
	}
	if v, _ := e.waitReport(sub.SubmissionID); v.State != "accepted" {
		t.Fatalf("state %s", v.State)
	}
	// Hold the reprocess in its queue.
	insp := e.deps.Inspector
	if err := insp.PauseQueue(workers.QueueCritical); err != nil {
		t.Fatal(err)
	}
	defer insp.UnpauseQueue(workers.QueueCritical)
	r := e.do("POST", "/v1/submissions/"+sub.SubmissionID+"/reprocess", e.tok["admin"], nil)
	if r.code != http.StatusAccepted {
		t.Fatalf("reprocess: %d %s", r.code, r.body)
	}
	var queued struct {
		TaskID string `json:"task_id"`
	}
	r.json(t, &queued)
	if want := workers.ReprocessTaskID(sub.SubmissionID, 1); queued.TaskID != want {
		t.Fatalf("task %s, want %s", queued.TaskID, want)
	}
	type view struct {
		State string `json:"state"`
		Task  struct {
			ID, Queue, State string
		} `json:"task"`
		Report json.RawMessage `json:"report"`
	}
	get := func() view {
		t.Helper()
		r := e.do("GET", "/v1/submissions/"+sub.SubmissionID, e.tok["upload"], nil)
		if r.code != http.StatusOK {
			t.Fatalf("GET: %d %s", r.code, r.body)
		}
		var v view
		r.json(t, &v)
		return v
	}
	v := get()
	if v.State != "queued" || v.Task.ID != queued.TaskID || v.Task.Queue != workers.QueueCritical || v.Task.State != "pending" {
		t.Errorf("with a reprocess pending: state %q, task %+v; want queued, the reprocess task", v.State, v.Task)
	}
	if len(v.Report) == 0 {
		t.Error("the earlier report is no longer shown")
	}
	if err := insp.UnpauseQueue(workers.QueueCritical); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for v.Task.State != asynq.TaskStateCompleted.String() && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		v = get()
	}
	if v.State != "accepted" || v.Task.ID != queued.TaskID || v.Task.State != "completed" {
		t.Errorf("after the reprocess: state %q, task %+v", v.State, v.Task)
	}
}
