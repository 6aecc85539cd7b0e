package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		done, total int
		fraction    float64
		elapsed     time.Duration
		want        []string
		not         []string
	}{
		{0, 0, 0, 0, []string{"pages 0/0"}, []string{"/s", "left"}},
		{12, 40, 0.3, 3 * time.Second, []string{"pages 12/40", "4.0 pages/s", "~7s left"}, nil},
		{40, 40, 1, 10 * time.Second, []string{"pages 40/40", "4.0 pages/s"}, []string{"left"}},
	} {
		got := progressLine(tc.done, tc.total, "pages", tc.fraction, "", tc.elapsed)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%q lacks %q", got, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%q has %q", got, n)
			}
		}
	}
}

// TestProgressIsQuietOffTerminal: a file or pipe gets no progress line,
// so logs and redirected output stay clean.
func TestProgressIsQuietOffTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := newProgress(f, false)
	p.Update(1, 2, "pages", 0.5, "")
	p.Done()
	data, _ := os.ReadFile(f.Name())
	if len(data) > 0 {
		t.Errorf("wrote %q to a file", data)
	}
	var nilBar *progress
	nilBar.Update(1, 2, "pages", 0.5, "") // a nil bar is a no-op
	if q := newProgress(os.Stderr, true); q.on {
		t.Error("--quiet still draws")
	}
}
