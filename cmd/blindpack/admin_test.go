package main

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/workers"
)

// tasksRedisDB is a Redis database of the cmd tests' own, emptied first, so
// that its queues were never used.
const tasksRedisDB = 8

// TestTasksFailedOnUnusedQueues: a queue nothing was ever queued on has no
// failed tasks — not an error ("queue not found") — and without --queue
// every queue is listed.
func TestTasksFailedOnUnusedQueues(t *testing.T) {
	addr := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: tasksRedisDB})
	defer rdb.Close()
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	base := []string{"--redis-addr", addr, "--redis-db", "8"}
	out, err := captureStdout(t, func() error {
		return runTasks(context.Background(), append([]string{"failed", "--queue", workers.QueueCritical}, base...))
	})
	if err != nil || !strings.Contains(out, "0 failed task(s) in critical") {
		t.Errorf("tasks failed --queue critical: exit %d (%v), %q", exitCode(err), err, out)
	}
	out, err = captureStdout(t, func() error { return runTasks(context.Background(), append([]string{"failed"}, base...)) })
	if err != nil {
		t.Fatalf("tasks failed: exit %d (%v)", exitCode(err), err)
	}
	for q := range workers.Queues {
		if !strings.Contains(out, "0 failed task(s) in "+q+"\n") {
			t.Errorf("tasks failed does not report queue %s:\n%s", q, out)
		}
	}
}
