//go:build dev

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/storage/localdir"
	"github.com/blindpack/blindpack/workers"
)

// runDemo is the one-command local run: an in-process Redis (miniredis), a
// directory for the buckets, and the same asynq server, handler and
// submitter that production uses.
func runDemo(ctx context.Context, args []string) error {
	fs := newFlagSet("demo")
	var c common
	c.register(fs, "text")
	samples := fs.String("samples", "testdata/samples", "`directory` of sample submissions (generated there if missing)")
	out := fs.String("out", "demo-out", "`directory` for the demo's buckets")
	quiet := fs.Bool("quiet", false, "no progress line on the terminal")
	// The default policy opens the 2024 campaign, 5–30 September 2024: the
	// demo plays it from the middle.
	clock := clockFlag{at: time.Date(2024, 9, 20, 10, 0, 0, 0, policy.Beijing)}
	fs.Var(&clock, "clock", "play the campaign as if it were this `time` (RFC 3339)")
	if err := parseFlags(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	log, err := c.logger(os.Stderr)
	if err != nil {
		return err
	}
	p, err := c.pipeline(true, log)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*samples, "eng-intermediate", "submission.json")); err != nil {
		fmt.Printf("generating sample submissions in %s\n", *samples)
		if err := synth.WriteSamples(*samples); err != nil {
			return fmt.Errorf("generate samples: %w", err)
		}
	}
	subs, err := filepath.Glob(filepath.Join(*samples, "*", "submission.json"))
	if err != nil || len(subs) == 0 {
		return fmt.Errorf("no sample submissions in %s", *samples)
	}

	redis, err := miniredis.Run()
	if err != nil {
		return err
	}
	defer redis.Close()
	redis.ClockTTL(true) // without it miniredis never expires keys, asynq's leases included
	buckets, err := localdir.NewBuckets(filepath.Join(*out, "buckets"))
	if err != nil {
		return err
	}
	opt := asynq.RedisClientOpt{Addr: redis.Addr()}
	now := clock.now()
	rdb := goredis.NewClient(&goredis.Options{Addr: redis.Addr()})
	defer rdb.Close()
	st := state.New(rdb, state.Options{Now: now})
	returned, err := brokenSample(subs[0], *out)
	if err != nil {
		return err
	}
	subs = append(subs, returned)
	srv, err := workers.NewServer(opt, workers.ServerConfig{Concurrency: 2, DelayedTaskCheckInterval: time.Second}, log)
	if err != nil {
		return err
	}
	if err := srv.Start(workers.NewMux(&workers.Handler{Pipeline: p, Buckets: buckets, TempDir: *out, Log: log, State: st, Actor: "demo-worker"})); err != nil {
		return err
	}
	defer srv.Shutdown()
	client := asynq.NewClient(opt)
	defer client.Close()
	submitter := workers.Submitter{Uploads: buckets.Uploads, Client: client, State: st, Now: now}

	var queued []workers.ProcessPayload
	for _, path := range subs {
		doc, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		pl, err := submitter.SubmitDir(ctx, doc, filepath.Dir(path))
		if err != nil {
			return fmt.Errorf("submit %s: %w", path, err)
		}
		queued = append(queued, pl)
		fmt.Printf("queued %s\n", pl.SubmissionID)
		// The upload service may retry; the queue keeps one task per id.
		if _, err := submitter.SubmitDir(ctx, doc, filepath.Dir(path)); !errors.Is(err, workers.ErrAlreadyQueued) {
			return fmt.Errorf("duplicate submit of %s was not refused: %v", pl.SubmissionID, err)
		}
	}

	root, _ := filepath.Abs(filepath.Join(*out, "buckets"))
	bar := newProgress(os.Stderr, *quiet)
	reports := make([]*pipeline.Report, len(queued))
	for i, pl := range queued {
		bar.Update(i, len(queued), "submissions", float64(i)/float64(len(queued)), "")
		rep, err := waitReport(ctx, buckets.Reports, storage.ReportKey(pl.Campaign, pl.ApplicantID, pl.SubmissionID), 3*time.Minute)
		if err != nil {
			return err
		}
		reports[i] = rep
	}
	bar.Done()
	for i, pl := range queued {
		rep := reports[i]
		fmt.Printf("\n%s  %s  anon %s\n  report: %s\n", pl.SubmissionID, rep.Status, rep.AnonCode,
			filepath.Join(root, storage.ReportsBucket, storage.ReportKey(pl.Campaign, pl.ApplicantID, pl.SubmissionID)))
		if rep.Packet != nil {
			fmt.Printf("  packet: %s (%d pages)\n", filepath.Join(root, rep.Packet.Location), rep.Packet.Pages)
		}
		for _, f := range rep.Findings {
			fmt.Printf("  - %s: %s\n", f.Code, f.MessageZH)
		}
		if rep.Status == pipeline.Rejected {
			app, err := st.Get(ctx, pl.Campaign, pl.ApplicantID)
			if err != nil {
				return err
			}
			fmt.Printf("  returned %d of %d times; resubmit by %s\n  contact sheet: %s\n", app.Returns, p.Policy().Returns.MaxReturns,
				app.Deadline.In(policy.Beijing).Format("2006-01-02 15:04 MST"),
				filepath.Join(root, storage.UploadsBucket, workers.ContactSheetKey(pl.Campaign, pl.ApplicantID, pl.SubmissionID)))
		}
	}
	return nil
}

// brokenSample copies a sample as another applicant whose work summary
// upload was cut short, to show a return, its reasons and contact sheet.
func brokenSample(subFile, out string) (string, error) {
	doc, err := os.ReadFile(subFile)
	if err != nil {
		return "", err
	}
	sub, err := pipeline.ParseSubmission(doc)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(out, "returned-sample")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	sub.ApplicantID, sub.SubmissionID = "A2024-000999", "A2024-000999-r1"
	for _, m := range sub.Materials {
		data, err := os.ReadFile(filepath.Join(filepath.Dir(subFile), m.File))
		if err != nil {
			return "", err
		}
		if m.Type == "performance_summary" {
			data = data[:len(data)/3]
		}
		if err := os.WriteFile(filepath.Join(dir, m.File), data, 0o644); err != nil {
			return "", err
		}
	}
	doc, err = sub.Marshal()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "submission.json")
	return path, os.WriteFile(path, doc, 0o644)
}

func waitReport(ctx context.Context, reports storage.Store, key string, timeout time.Duration) (*pipeline.Report, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		rc, _, err := reports.Get(ctx, key)
		if err == nil {
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return nil, err
			}
			return pipeline.ParseReport(data)
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no report at %s: %w", key, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
