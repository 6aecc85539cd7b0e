package faulttest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blindpack/blindpack/internal/cluster"
)

// killStats counts what the killer did.
type killStats struct {
	kills  int
	waited time.Duration
}

// assembling reports whether process pid is writing a packet now, and how
// many bytes of it are written: it has a blindpack-packet-*.pdf temp file
// open (workers/handler.go names it so, and unlinks it at once, so it is
// found through /proc) with bytes in it but no %%EOF yet.
func assembling(pid int) (int64, bool) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, _ := os.ReadDir(dir)
	for _, fd := range fds {
		p := filepath.Join(dir, fd.Name())
		target, err := os.Readlink(p)
		if err != nil || !strings.HasPrefix(filepath.Base(target), "blindpack-packet-") {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		st, err := f.Stat()
		if err != nil || st.Size() == 0 {
			f.Close()
			continue
		}
		end := make([]byte, min(64, st.Size()))
		_, err = f.ReadAt(end, st.Size()-int64(len(end)))
		f.Close()
		if err == nil && !bytes.Contains(end, []byte("%%EOF")) {
			return st.Size(), true
		}
	}
	return 0, false
}

// killOne SIGKILLs the first of ws found writing a packet. It returns the
// worker killed, or nil when none was.
func killOne(ws []*cluster.Worker, logf func(string, ...any), n int, start time.Time) (*cluster.Worker, error) {
	for _, w := range ws {
		pid := w.PID()
		if pid == 0 {
			continue
		}
		size, ok := assembling(pid)
		if !ok {
			continue
		}
		if err := w.Kill(); err != nil {
			return nil, err
		}
		logf("kill %2d at %5.1fs: worker %d (pid %d) in packet assembly, %d bytes written", n, time.Since(start).Seconds(), w.ID, pid, size)
		return w, nil
	}
	return nil, nil
}

// killer SIGKILLs a worker whenever one is writing a packet, want times,
// restarting it at once. The kills are spread over the run by progress:
// kill k waits until done() reaches k/(want+1) of upto, so they land all
// along the run however fast the machine is.
func killer(ctx context.Context, c *cluster.Cluster, want int, done func() int, upto int, logf func(string, ...any)) (killStats, error) {
	var ks killStats
	start := time.Now()
	for ks.kills < want {
		if err := ctx.Err(); err != nil {
			return ks, fmt.Errorf("%d of %d kills: %w", ks.kills, want, err)
		}
		if done() < (ks.kills+1)*upto/(want+1) {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for ctx.Err() == nil {
			ws := c.Workers()
			rand.Shuffle(len(ws), func(i, j int) { ws[i], ws[j] = ws[j], ws[i] })
			w, err := killOne(ws, logf, ks.kills+1, start)
			if err != nil {
				return ks, err
			}
			if w != nil {
				ks.kills++
				if err := w.Restart(); err != nil {
					return ks, err
				}
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	ks.waited = time.Since(start)
	return ks, nil
}

// TestKilledWorkerLeavesNothing kills a worker once in the middle of
// packet assembly and looks in its temp dir: a worker that dies without
// running its deferred clean-up must not leave a partial packet there
// (they used to pile up, one per kill).
func TestKilledWorkerLeavesNothing(t *testing.T) {
	short(t)
	c := newCluster(t, 1)
	subs := prepare(t, c, "T2024", 4)
	submitAll(t, c, subs)
	w := c.Workers()[0]
	dir := w.TempDir()
	start := time.Now()
	for {
		killed, err := killOne([]*cluster.Worker{w}, t.Logf, 1, start)
		if err != nil {
			t.Fatal(err)
		}
		if killed != nil {
			break
		}
		if time.Since(start) > 2*time.Minute {
			t.Fatal("the worker was never seen writing a packet")
		}
		time.Sleep(5 * time.Millisecond)
	}
	left, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("the killed worker left %v in its temp dir", left)
	}
}

// TestKillWorkersDuringAssembly runs 150 submissions on two worker
// processes and SIGKILLs a worker 20 times while it writes a packet,
// restarting it each time. asynq gives a dead worker's task back when its
// lease has expired (30 s after the last heartbeat, then 30 s of allowed
// clock skew; the recoverer looks every minute and whenever a worker
// starts), so the run takes 2–4 minutes. Every submission must end with
// one report and one packet, and nothing half-written may ever be visible.
func TestKillWorkersDuringAssembly(t *testing.T) {
	long(t)
	const n, kills = 150, 20
	c := newCluster(t, 2)
	subs := prepare(t, c, "K2024", n)
	w := watch(c)
	submitAll(t, c, subs)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// Every kill holds a task back until its lease expires, so the kills
	// are spread over the reports of the other tasks.
	ks, err := killer(ctx, c, kills, func() int { return countReports(c, subs) }, n-kills, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d kills in %.0fs; waiting for asynq to hand the orphaned tasks back", ks.kills, ks.waited.Seconds())
	lastKill := time.Now()
	waitReports(t, c, subs, n, 5*time.Minute)
	t.Logf("all %d reports %.0f s after the last kill", n, time.Since(lastKill).Seconds())
	checked, _ := w.finish(t)
	o := verify(t, c, subs)
	unexpectedExits(t, c)

	// Each kill interrupted the one task its worker ran (--concurrency 1),
	// which asynq handed back once its lease expired: one retry per kill.
	if o.retried != ks.kills {
		t.Errorf("tasks retried %d times in all after %d kills", o.retried, ks.kills)
	}
	if n := leftovers(c); n > 0 {
		t.Errorf("killed workers left %d files in their temp dirs", n)
	}
	starts := 0
	for _, wk := range c.Workers() {
		starts += wk.Starts()
	}
	record(t, row{
		fault:    "worker killed in packet assembly",
		injected: fmt.Sprintf("SIGKILL of one of 2 worker processes (--concurrency 1) while it wrote a packet (its open temp file had bytes but no %%%%EOF), %d times in %.0f s, restarted at once", ks.kills, ks.waited.Seconds()),
		in:       n, out: o.out, lost: o.lost, dup: o.dup,
		note: fmt.Sprintf("%d re-deliveries after lease expiry (max %d for one task), %d archived; %d object versions read while it ran, none partial; %d worker starts; %d files left in temp dirs",
			o.retried, o.maxRetried, o.archived, checked, starts, leftovers(c)),
	})
}
