package wazevo

import (
	"testing"
	"unsafe"

	"github.com/tetratelabs/wazero/internal/engine/wazevo/wazevoapi"
)

// TestLoopCounterOffset is blindpack's: compiled code finds the loop
// counter at ExecutionContextOffsetLoopCounter (BLINDPACK.md); a wrong
// offset would write over another field of the execution context.
// Upstream's own offset tests are not in this copy; `make test` runs this
// one.
func TestLoopCounterOffset(t *testing.T) {
	var e executionContext
	if got := wazevoapi.Offset(unsafe.Offsetof(e.loopCounter)); got != wazevoapi.ExecutionContextOffsetLoopCounter {
		t.Fatalf("loopCounter is at %d, compiled code uses %d", got, wazevoapi.ExecutionContextOffsetLoopCounter)
	}
	if got := wazevoapi.Offset(unsafe.Offsetof(e.exitCode)); got != wazevoapi.ExecutionContextOffsetExitCodeOffset {
		t.Fatalf("exitCode is at %d, compiled code uses %d", got, wazevoapi.ExecutionContextOffsetExitCodeOffset)
	}
}
