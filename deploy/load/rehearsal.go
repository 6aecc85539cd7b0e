package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/blindpack/blindpack/api"
	"github.com/blindpack/blindpack/internal/cluster"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/workers"
)

// rehearsal plays a campaign at full size: n applicants (10,000 by
// default) submitted in waves, through W worker processes on one Redis and
// one S3 server, and after each wave measures what grows with the
// campaign — Redis memory per application, the attention list, the API's
// list and lookup routes — and how long a submission takes as the state
// grows.
//
// The applicants are the samples re-labelled, sharing one uploaded copy of
// each file (every job still reads, checks, masks, builds and verifies all
// of it; only the uploads bucket stays small). One applicant in ten names
// a file that is not there: returned, so that the attention list grows as
// it would in September.
func rehearsal(ctx context.Context, out io.Writer, n, wave, nWorkers, conc int, keep bool) error {
	dir, err := os.MkdirTemp("", "blindpack-rehearsal-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintf(out, "data and logs kept in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	fmt.Fprintf(out, "building blindpack… ")
	bin, err := cluster.Build(ctx, dir)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "done")
	c, err := cluster.Start(ctx, cluster.Config{Dir: dir, Bin: bin, Concurrency: conc})
	if err != nil {
		return err
	}
	defer c.Close()
	docs, err := sharedSamples(ctx, c)
	if err != nil {
		return err
	}
	for range nWorkers {
		if _, err := c.AddWorker(); err != nil {
			return err
		}
	}
	admin, reviewer, tokens, err := writeTokens(dir)
	if err != nil {
		return err
	}
	apiProc, err := c.StartAPI(tokens)
	if err != nil {
		return err
	}
	defer apiProc.Stop(5 * time.Second)
	readyCtx, cancel := context.WithTimeout(ctx, time.Minute)
	err = c.WaitReady(readyCtx)
	cancel()
	if err != nil {
		return err
	}
	rdb := redis.NewClient(&redis.Options{Addr: c.Redis.Addr})
	defer rdb.Close()
	mem0, _ := usedMemory(ctx, rdb)

	fmt.Fprintf(out, "machine: %d CPUs (%s), load average %s at start\n", runtime.NumCPU(), cpuModel(), loadAvg())
	fmt.Fprintf(out, "rehearsal: %d applicants in waves of %d, %d worker processes × %d tasks, one Redis (AOF) and versitygw; 1 in 10 returned (a missing file)\n\n",
		n, wave, nWorkers, conc)
	fmt.Fprintln(out, "| applications | wave wall time | submissions/s | enqueue p50 / p99 | Redis memory | per application | attention list (state, 300 newest) | GET /v1/failures?status=returned | GET /v1/submissions/{id} | GET /v1/packets (30 assigned) |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|")
	began := time.Now()
	var reviewed []string
	for done := 0; done < n; {
		size := min(wave, n-done)
		t0 := time.Now()
		var enqueue []time.Duration
		var last cluster.Submission
		for i := done; i < done+size; i++ {
			sub := docs[i%len(docs)].as(fmt.Sprintf("A2024-%06d", 100000+i), i%10 == 9)
			t := time.Now()
			if _, err := c.Submitter.Submit(ctx, sub.Doc); err != nil {
				return fmt.Errorf("submit %s: %w", sub.SubmissionID, err)
			}
			enqueue = append(enqueue, time.Since(t))
			last = sub
		}
		if err := waitCompleted(ctx, c, done+size, 30*time.Minute); err != nil {
			return err
		}
		wall := time.Since(t0)
		done += size
		// A reviewer with 30 packets: assign the newest accepted ones.
		if len(reviewed) < 30 {
			if reviewed, err = assignSome(ctx, c, reviewer.subject, 30); err != nil {
				return err
			}
		}
		mem, _ := usedMemory(ctx, rdb)
		st := time.Now()
		if _, err := c.State.Attention(ctx, state.Filter{Campaign: "2024"}, 300); err != nil {
			return err
		}
		attention := time.Since(st)
		failures, err := timeGET(ctx, apiProc.Addr, admin.token, "/v1/failures?campaign=2024&status=returned")
		if err != nil {
			return err
		}
		lookup, err := timeGET(ctx, apiProc.Addr, admin.token, "/v1/submissions/"+last.SubmissionID)
		if err != nil {
			return err
		}
		packets, err := timeGET(ctx, apiProc.Addr, reviewer.token, "/v1/packets")
		if err != nil {
			return err
		}
		slices.Sort(enqueue)
		fmt.Fprintf(out, "| %d | %.0f s | %.1f | %.1f / %.1f ms | %.1f MB | %.1f KB | %.0f ms | %.0f ms | %.0f ms | %.0f ms |\n",
			done, wall.Seconds(), float64(size)/wall.Seconds(),
			ms(quantile(enqueue, .5)), ms(quantile(enqueue, .99)),
			float64(mem)/1e6, float64(mem-mem0)/float64(done)/1e3,
			ms(attention), ms(failures), ms(lookup), ms(packets))
	}
	keys, _ := rdb.DBSize(ctx).Result()
	fmt.Fprintf(out, "\n%d applicants in %.0f s; %d Redis keys; load average %s at the end\n", n, time.Since(began).Seconds(), keys, loadAvg())
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// sharedDoc is a sample submission whose files are uploaded once.
type sharedDoc struct{ sub *pipeline.Submission }

// as re-labels the sample as applicant's first submission; missing names
// a file that is not there, so that it is returned.
func (d sharedDoc) as(applicant string, missing bool) cluster.Submission {
	s := *d.sub
	s.ApplicantID, s.SubmissionID = applicant, applicant+"-r1"
	s.Materials = slices.Clone(s.Materials)
	if missing {
		s.Materials[1].File = path.Join("shared", "missing", applicant+".jpg")
	}
	doc, err := s.Marshal()
	if err != nil {
		panic(err) // the sample parsed; it marshals
	}
	return cluster.Submission{Campaign: s.Campaign, ApplicantID: s.ApplicantID, SubmissionID: s.SubmissionID, Doc: doc}
}

// sharedSamples uploads every sample's files once, under shared/.
func sharedSamples(ctx context.Context, c *cluster.Cluster) ([]sharedDoc, error) {
	dirs, err := cluster.Samples()
	if err != nil {
		return nil, err
	}
	var out []sharedDoc
	for _, dir := range dirs {
		doc, err := os.ReadFile(filepath.Join(dir, "submission.json"))
		if err != nil {
			return nil, err
		}
		sub, err := pipeline.ParseSubmission(doc)
		if err != nil {
			return nil, err
		}
		for i, m := range sub.Materials {
			data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(m.File)))
			if err != nil {
				return nil, err
			}
			key := path.Join("shared", filepath.Base(dir), strconv.Itoa(i)+"-"+path.Base(m.File))
			if err := c.Buckets.Uploads.Put(ctx, key, strings.NewReader(string(data)), int64(len(data)), storage.PutOptions{}); err != nil {
				return nil, err
			}
			sub.Materials[i].File = key
		}
		out = append(out, sharedDoc{sub: sub})
	}
	return out, nil
}

// waitCompleted waits until want submission tasks have completed.
func waitCompleted(ctx context.Context, c *cluster.Cluster, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		qi, err := c.Inspector.GetQueueInfo(workers.QueueDefault)
		if err == nil && qi.Completed+qi.Archived >= want {
			if qi.Archived > 0 {
				return fmt.Errorf("%d tasks archived", qi.Archived)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d tasks completed after %s", qi.Completed, want, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

type principal struct{ token, subject string }

// writeTokens writes a tokens file with an administrator and a reviewer.
func writeTokens(dir string) (admin, reviewer principal, file string, err error) {
	admin = principal{token: randomToken(), subject: "rehearsal.admin"}
	reviewer = principal{token: randomToken(), subject: "E-0001"}
	text := fmt.Sprintf("tokens:\n  - sha256: %s\n    role: administrator\n    subject: %s\n  - sha256: %s\n    role: reviewer\n    subject: %s\n",
		api.HashToken(admin.token), admin.subject, api.HashToken(reviewer.token), reviewer.subject)
	file = filepath.Join(dir, "tokens.yaml")
	return admin, reviewer, file, os.WriteFile(file, []byte(text), 0o600)
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// assignSome assigns up to k accepted packets to the reviewer and returns
// their anonymous codes.
func assignSome(ctx context.Context, c *cluster.Cluster, reviewer string, k int) ([]string, error) {
	objs, err := c.Buckets.Packets.List(ctx, "2024/")
	if err != nil {
		return nil, err
	}
	var codes []string
	for _, o := range objs {
		if parts := strings.Split(o.Key, "/"); len(parts) == 3 && parts[2] == "packet.pdf" {
			if _, err := c.State.Assign(ctx, parts[1], reviewer); err != nil {
				return nil, err
			}
			if codes = append(codes, parts[1]); len(codes) == k {
				break
			}
		}
	}
	return codes, nil
}

// timeGET times one GET of the API, which must answer 200.
func timeGET(ctx context.Context, addr, token, route string) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+route, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	t := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(t)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", route, resp.Status)
	}
	return d, err
}

// usedMemory is Redis's used_memory in bytes.
func usedMemory(ctx context.Context, rdb *redis.Client) (int64, error) {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("no used_memory in INFO")
}
