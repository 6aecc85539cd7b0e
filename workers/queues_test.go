package workers_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/blindpack/blindpack/workers"
)

// TestQueuesFollowCapabilities: a worker takes from the priority queues and
// from the queues of what it can do, and from no other; every capability a
// task type needs has a queue.
func TestQueuesFollowCapabilities(t *testing.T) {
	keys := func(m map[string]int) []string { return slices.Sorted(maps.Keys(m)) }
	for _, tc := range []struct {
		caps []workers.Capability
		want []string
	}{
		{nil, []string{"critical", "default", "low"}},
		{[]workers.Capability{workers.Signing}, []string{"critical", "default", "low", "signing"}},
		{[]workers.Capability{workers.OCR}, []string{"critical", "default", "low", "ocr"}},
	} {
		if got := keys(workers.QueuesFor(tc.caps...)); !slices.Equal(got, tc.want) {
			t.Errorf("QueuesFor(%v) = %v, want %v", tc.caps, got, tc.want)
		}
	}
	if got := keys(workers.Queues); !slices.Equal(got, []string{"critical", "default", "low", "ocr", "signing"}) {
		t.Errorf("Queues = %v", got)
	}
	for typ, c := range workers.Needs {
		if !c.Valid() || workers.Queues[c.Queue()] == 0 {
			t.Errorf("%s needs %q, which has no queue", typ, c)
		}
	}
	if caps := (&workers.Handler{Result: &workers.ResultHandler{}, OCR: &workers.OCRHandler{}}).Capabilities(); !slices.Equal(caps, []workers.Capability{workers.Signing, workers.OCR}) {
		t.Errorf("capabilities %v", caps)
	}
	if _, err := workers.NewServer(nil, workers.ServerConfig{Capabilities: []workers.Capability{"telepathy"}}, nil); err == nil {
		t.Error("a worker with an unknown capability was configured")
	}
}
