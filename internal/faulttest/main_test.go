package faulttest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/blindpack/blindpack/internal/cluster"
)

// row is one line of the fault table.
type row struct {
	fault, injected string
	in, out         int
	lost, dup       int
	note            string
}

var (
	rowsMu sync.Mutex
	rows   []row
)

func record(t *testing.T, r row) {
	t.Helper()
	rowsMu.Lock()
	rows = append(rows, r)
	rowsMu.Unlock()
	t.Logf("%s: jobs in %d, out %d, lost %d, duplicated %d; %s", r.fault, r.in, r.out, r.lost, r.dup, r.note)
}

// binDir holds the blindpack binary, built once for every test.
var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func blindpackBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() { binPath, binError = cluster.Build(context.Background(), binDir) })
	if binError != nil {
		t.Fatal(binError)
	}
	return binPath
}

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "blindpack-faulttest-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	if len(rows) > 0 {
		fmt.Println("\n| fault | how it was injected | jobs in | jobs out | lost | duplicated | also |")
		fmt.Println("|---|---|---|---|---|---|---|")
		for _, r := range rows {
			fmt.Printf("| %s | %s | %d | %d | %d | %d | %s |\n", r.fault, r.injected, r.in, r.out, r.lost, r.dup, r.note)
		}
	}
	os.Exit(code)
}
