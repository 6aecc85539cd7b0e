package workers_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/workers"
)

// startWorker runs a worker server for h on the test Redis until the test
// ends, taking from the queues of what h can do, as `blindpack worker`
// does.
func startWorker(t *testing.T, opt asynq.RedisClientOpt, h *workers.Handler) {
	t.Helper()
	srv, err := workers.NewServer(opt, workers.ServerConfig{Concurrency: 2, DelayedTaskCheckInterval: 200 * time.Millisecond, Capabilities: h.Capabilities()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(workers.NewMux(h)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

func bytesContains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }

func twoDigits(i int) string { return fmt.Sprintf("%02d", i) }

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
