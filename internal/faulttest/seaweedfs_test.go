package faulttest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/blindpack/blindpack/internal/cluster"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/storage/s3"
	"github.com/blindpack/blindpack/storage/storagetest"
)

// needSeaweedFS skips unless the long suite runs, and fails when the weed
// binary is missing there (make faults builds it).
func needSeaweedFS(t *testing.T) {
	t.Helper()
	long(t)
	if _, err := cluster.WeedPath(); err != nil {
		t.Fatal(err)
	}
}

// TestSeaweedFSConformance runs the storage conformance suite — the one
// localdir and versitygw pass — against SeaweedFS's S3 gateway in front of
// three replicating volume servers.
func TestSeaweedFSConformance(t *testing.T) {
	needSeaweedFS(t)
	w, err := cluster.StartSeaweedFS(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	cl, err := s3.Open(t.Context(), s3.Config{Endpoint: w.S3.Endpoint, AccessKey: w.S3.AccessKey, SecretKey: w.S3.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	storagetest.Run(t, func(t *testing.T) storage.Store {
		n++
		s, err := cl.Bucket(t.Context(), fmt.Sprintf("conformance-%d", n), true)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestSeaweedFSVolumeServerLost runs submissions on workers whose object
// store is SeaweedFS (three volume servers, every file on two of them) and
// kills one volume server (SIGKILL) a quarter of the way in, keeping it
// down to the end. Nothing may be lost: every submission ends with exactly
// one report and one whole packet, and every object written before the
// kill can still be read while the server is down.
func TestSeaweedFSVolumeServerLost(t *testing.T) {
	needSeaweedFS(t)
	const n = 30
	c := newClusterWith(t, 2, cluster.Config{SeaweedFS: 3})
	subs := prepare(t, c, "W2024", n)
	w := watch(c)
	submitAll(t, c, subs)
	ctx := context.Background()

	waitReports(t, c, subs, n/4, 5*time.Minute)
	before := snapshot(t, c)
	victim := c.Seaweed.Volumes[0]
	if err := victim.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	t.Logf("volume server %s killed with %d reports written, %d objects stored", victim.Addr, countReports(c, subs), len(before))

	// Everything stored before the kill reads back whole from the copies.
	unreadable := 0
	for key, size := range before {
		b, o, _ := strings.Cut(key, "/")
		data, err := get(ctx, bucket(c, b), o)
		if err != nil || int64(len(data)) != size {
			unreadable++
			t.Errorf("%s: after the kill: %d bytes, %v (stored %d)", key, len(data), err, size)
		}
	}
	waitReports(t, c, subs, n, 10*time.Minute)
	done := time.Since(killed)
	servers, _ := c.Seaweed.VolumeStatus(ctx)
	checked, pollErrs := w.finish(t)
	o := verify(t, c, subs)
	unexpectedExits(t, c)
	record(t, row{
		fault:    "SeaweedFS volume server lost",
		injected: fmt.Sprintf("SIGKILL of 1 of 3 SeaweedFS volume servers (replication %s) with a quarter of the reports written, kept down to the end", cluster.SeaweedReplication),
		in:       n, out: o.out, lost: o.lost, dup: o.dup,
		note: fmt.Sprintf("%d objects stored before the kill, %d unreadable after it; the rest done %.0f s after the kill with %d volume servers seen by the master; %d retries (max %d for one task), %d archived; %d object versions read while it ran, none partial (%d polls failed)",
			len(before), unreadable, done.Seconds(), servers, o.retried, o.maxRetried, o.archived, checked, pollErrs),
	})
}

// snapshot lists every object of every bucket with its size, as
// "bucket/key".
func snapshot(t *testing.T, c *cluster.Cluster) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, b := range []string{"uploads", "packets", "reports"} {
		objs, err := bucket(c, b).List(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			out[b+"/"+o.Key] = o.Size
		}
	}
	return out
}

func bucket(c *cluster.Cluster, name string) storage.Store {
	switch name {
	case "uploads":
		return c.Buckets.Uploads
	case "packets":
		return c.Buckets.Packets
	case "reports":
		return c.Buckets.Reports
	}
	panic("bucket " + name)
}
