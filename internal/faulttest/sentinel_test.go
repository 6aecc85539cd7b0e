package faulttest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/internal/cluster"
	"github.com/blindpack/blindpack/workers"
)

// TestSentinelFailover runs submissions on workers that reach Redis through
// three Sentinels, and kills the primary (SIGKILL) a quarter of the way in.
// The Sentinels promote the replica; every client — the workers' queue and
// state store, the submitter — follows. Every submission must end with
// exactly one report and one whole packet, none duplicated, nothing
// partial visible, and the application state accepted.
//
// Replication is asynchronous, so the newest writes the old primary
// acknowledged may not have reached the replica: a completed task can come
// back (and run again, idempotently), and an enqueue can be lost. The
// upload service submits again when no report comes (README); this test
// does the same for any submission whose task the new primary does not
// know.
//
// Under `make test` 12 submissions and one kill; under `make faults` 40
// submissions, and the old primary, back as a replica, is killed in its
// turn after a second failover the other way.
func TestSentinelFailover(t *testing.T) {
	short(t)
	n, kills := 12, 1
	if os.Getenv("BLINDPACK_FAULTS") == "1" {
		n, kills = 40, 2
	}
	c := newClusterWith(t, 2, cluster.Config{Sentinel: true})
	subs := prepare(t, c, "S2024", n)
	w := watch(c)
	submitAll(t, c, subs)
	ctx := context.Background()

	var notes []string
	for k := 1; k <= kills; k++ {
		waitReports(t, c, subs, k*n/(kills+2), 3*time.Minute)
		before := countReports(c, subs)
		primary, err := c.Sentinel.Primary(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := primary.Kill(); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		t.Logf("kill %d: primary %s killed with %d reports written", k, primary.Addr, before)
		fctx, cancel := context.WithTimeout(ctx, time.Minute)
		newAddr, err := c.Sentinel.WaitFailover(fctx, primary.Addr)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		failover := time.Since(killed)
		// Progress again: the next report written after the kill.
		waitReports(t, c, subs, before+1, 3*time.Minute)
		progress := time.Since(killed)
		t.Logf("kill %d: %s is primary after %.1f s; next report %.1f s after the kill", k, newAddr, failover.Seconds(), progress.Seconds())
		resubmitted := resubmitLost(t, c, subs)
		// The old primary comes back; the Sentinels make it a replica.
		if err := primary.Restart(); err != nil {
			t.Fatal(err)
		}
		notes = append(notes, fmt.Sprintf("kill %d: new primary after %.1f s, reports again %.1f s after the kill, %d submissions re-submitted",
			k, failover.Seconds(), progress.Seconds(), resubmitted))
	}

	waitResubmitting(t, c, subs, 5*time.Minute)
	checked, _ := w.finish(t)
	o := verify(t, c, subs)
	unexpectedExits(t, c)
	record(t, row{
		fault:    "Redis primary lost (Sentinel failover)",
		injected: fmt.Sprintf("SIGKILL of the primary redis-server (2 nodes with AOF, 3 Sentinels, quorum 2, down after %s) %d time(s) mid-run, restarted after the failover", "1 s", kills),
		in:       n, out: o.out, lost: o.lost, dup: o.dup,
		note: fmt.Sprintf("%s; %d retries (max %d for one task), %d archived; %d object versions read while it ran, none partial",
			strings.Join(notes, "; "), o.retried, o.maxRetried, o.archived, checked),
	})
}

// resubmitLost submits again, as the upload service would, every
// submission that has neither a report nor a task the queue knows: its
// enqueue was acknowledged by a primary that died before the replica had
// it. It returns how many it submitted.
func resubmitLost(t *testing.T, c *cluster.Cluster, subs []cluster.Submission) int {
	t.Helper()
	have := reportKeys(c)
	n := 0
	for _, s := range subs {
		if have[s.ReportKey()] {
			continue
		}
		_, err := c.Inspector.GetTaskInfo(workers.QueueDefault, s.SubmissionID)
		if !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
			continue
		}
		if _, err := c.Submit(context.Background(), s); err != nil {
			t.Logf("re-submit %s: %v", s.SubmissionID, err)
			continue
		}
		n++
	}
	return n
}

// waitResubmitting waits for every report, re-submitting lost submissions
// now and then as an upload service does.
func waitResubmitting(t *testing.T, c *cluster.Cluster, subs []cluster.Submission, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for countReports(c, subs) < len(subs) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d reports after %s", countReports(c, subs), len(subs), timeout)
		}
		resubmitLost(t, c, subs)
		time.Sleep(2 * time.Second)
	}
}
