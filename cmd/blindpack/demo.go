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

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline"
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
	if err := parse(fs, args); err != nil {
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
	srv, err := workers.NewServer(opt, workers.ServerConfig{Concurrency: 2, DelayedTaskCheckInterval: time.Second}, log)
	if err != nil {
		return err
	}
	if err := srv.Start(workers.NewMux(&workers.Handler{Pipeline: p, Buckets: buckets, TempDir: *out, Log: log})); err != nil {
		return err
	}
	defer srv.Shutdown()
	client := asynq.NewClient(opt)
	defer client.Close()
	submitter := workers.Submitter{Uploads: buckets.Uploads, Client: client}

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
	for _, pl := range queued {
		rep, err := waitReport(ctx, buckets.Reports, storage.ReportKey(pl.Campaign, pl.ApplicantID, pl.SubmissionID), 3*time.Minute)
		if err != nil {
			return err
		}
		fmt.Printf("\n%s  %s  anon %s\n  report: %s\n", pl.SubmissionID, rep.Status, rep.AnonCode,
			filepath.Join(root, storage.ReportsBucket, storage.ReportKey(pl.Campaign, pl.ApplicantID, pl.SubmissionID)))
		if rep.Packet != nil {
			fmt.Printf("  packet: %s (%d pages)\n", filepath.Join(root, rep.Packet.Location), rep.Packet.Pages)
		}
		for _, f := range rep.Findings {
			fmt.Printf("  - %s: %s\n", f.Code, f.MessageZH)
		}
	}
	return nil
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
