package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"time"
)

// Replace makes the tokens of other the set t authenticates against, for
// every request from now on.
func (t *Tokens) Replace(other *Tokens) {
	e := other.entries()
	t.set.Store(&e)
}

// WatchTokens keeps t in step with the tokens file at path until ctx
// ends: it reads the file again when its contents change (looked at every
// interval; default 2 s) and whenever reload delivers (SIGHUP). A file
// that cannot be read or parsed leaves the tokens in force — as a web
// server keeps its configuration when a new one is broken — and is logged
// as an error each time it changes, so that a typo does not lock every
// machine out, nor silently keep a removed token: the error says so.
func WatchTokens(ctx context.Context, path string, t *Tokens, interval time.Duration, reload <-chan os.Signal, log *slog.Logger) {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sum := func() [sha256.Size]byte {
		data, err := os.ReadFile(path)
		if err != nil {
			return [sha256.Size]byte{}
		}
		return sha256.Sum256(data)
	}
	// The first pass reloads whatever is there: the file may have changed
	// since t was loaded.
	var last [sha256.Size]byte
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for first := true; ; first = false {
		forced := first
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			case <-reload:
				forced = true
			}
		}
		now := sum()
		if !forced && bytes.Equal(now[:], last[:]) {
			continue
		}
		last = now
		nt, err := LoadTokens(path)
		if err != nil {
			log.Error("tokens file not reloaded: the tokens in force stay until it is fixed", "path", path, "err", err)
			continue
		}
		before := t.Len()
		t.Replace(nt)
		log.Info("tokens reloaded", "path", path, "tokens", nt.Len(), "before", before, "signal", forced)
	}
}
