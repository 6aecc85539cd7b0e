package workers_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

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
