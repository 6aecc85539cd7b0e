package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress draws one line of progress on a terminal — done of total, rate,
// time left — and draws nothing when its output is not a terminal (a log
// file, a pipe, CI) or the user asked for --quiet. Logs go to the same
// stream, so the line is cleared before it is left behind.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	on      bool
	start   time.Time
	last    time.Time
	printed bool
}

func newProgress(f *os.File, quiet bool) *progress {
	return &progress{w: f, on: !quiet && term.IsTerminal(int(f.Fd())), start: time.Now()}
}

// Update redraws the line, at most ten times a second. fraction is the
// share of the work done, from which the time left is estimated; done and
// total describe it in unit.
func (p *progress) Update(done, total int, unit string, fraction float64, detail string) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && fraction < 1 {
		return
	}
	p.last = now
	fmt.Fprint(p.w, "\r\033[K", progressLine(done, total, unit, fraction, detail, now.Sub(p.start)))
	p.printed = true
}

// progressLine is the text of the line, e.g.
// "pages 12/40 · materials 3/10 · 4.1 pages/s · ~25s left".
func progressLine(done, total int, unit string, fraction float64, detail string, elapsed time.Duration) string {
	s := fmt.Sprintf("%s %d/%d", unit, done, total)
	if detail != "" {
		s += " · " + detail
	}
	if secs := elapsed.Seconds(); secs > 0.5 && done > 0 {
		s += fmt.Sprintf(" · %.1f %s/s", float64(done)/secs, unit)
	}
	if fraction > 0.02 && fraction < 1 {
		left := time.Duration(float64(elapsed) * (1 - fraction) / fraction).Round(time.Second)
		s += fmt.Sprintf(" · ~%s left", left)
	}
	return s
}

// Done clears the line.
func (p *progress) Done() {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.printed {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
