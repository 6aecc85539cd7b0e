package pdfkit

import (
	"runtime"
	"testing"
)

// FuzzToUnicode: a ToUnicode CMap of any content parses without panic into
// at most one entry per 2-byte code, allocates in proportion to its size,
// and decodes any string.
func FuzzToUnicode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m := ParseToUnicode(data)
		runtime.ReadMemStats(&after)
		if len(m) > 1<<16 {
			t.Fatalf("%d entries", len(m))
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20+256*uint64(len(data)) {
			t.Fatalf("allocated %d MiB for a %d-byte CMap", got>>20, len(data))
		}
		m.Decode(data)
		ToUnicode(nil).Decode(data)
	})
}
