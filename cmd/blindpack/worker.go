package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/blindpack/blindpack/client"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/storage/s3"
	"github.com/blindpack/blindpack/workers"
)

func runWorker(ctx context.Context, args []string) error {
	fs := newFlagSet("worker")
	var c common
	var s services
	c.register(fs, "json")
	s.register(fs)
	var sf signerFlags // a worker with signing keys also issues result files
	sf.register(fs)
	var sc workers.ServerConfig
	fs.IntVar(&sc.Concurrency, "concurrency", 0, "tasks run at once (default: number of CPUs)")
	fs.DurationVar(&sc.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "time running tasks get to finish on SIGTERM")
	tempDir := fs.String("temp-dir", "", "`directory` for packets being built (default: the system's)")
	sweep := fs.Duration("sweep-interval", 5*time.Minute, "how often overdue returned applications are marked abandoned (0: this worker does not schedule it)")
	metricsAddr := fs.String("metrics-listen", "", "serve Prometheus metrics (submissions by outcome, job and stage durations) on this `address`, e.g. :9101; empty: off")
	webhooksFile := fs.String("webhooks", "", "webhooks `file` (YAML: endpoints, whsec_ secrets, events): tell these receivers about every report and result; empty: none")
	useOCR := fs.Bool("ocr", true, "the OCR gate (default on): stage every accepted packet until Tesseract has read it for names left unmasked, and hold it for an administrator if it finds one (needs tesseract-ocr and tesseract-ocr-chi-sim)")
	noOCR := fs.Bool("no-ocr", false, "turn the OCR gate off on purpose: publish accepted packets at once, unread, and take no OCR tasks")
	screened := fs.Bool("ocr-screen", true, ocrScreenUsage)
	var clock clockFlag
	fs.Var(&clock, "clock", "run as if it were this `time` (RFC 3339), to rehearse a campaign; empty: the real clock")
	if err := parseFlags(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	log, err := c.logger(os.Stderr)
	if err != nil {
		return err
	}
	p, err := c.pipeline(false, log)
	if err != nil {
		return err
	}
	buckets, err := s.openBuckets(ctx)
	if err != nil {
		return err
	}
	st, closeState := s.state(clock.now())
	defer closeState()
	host, _ := os.Hostname()
	h := &workers.Handler{Pipeline: p, Buckets: buckets, PacketsBucket: s.buckets.Packets, TempDir: *tempDir, Log: log,
		State: st, Actor: "worker@" + host}
	if sf.keysDir != "" || sf.certFile != "" || sf.p12File != "" {
		is, err := sf.issuer(log)
		if err != nil {
			return err
		}
		h.Result = &workers.ResultHandler{Issuer: is, Uploads: buckets.Uploads, Results: buckets.Results, Log: log}
	}
	if *metricsAddr != "" {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		h.Metrics = workers.NewMetrics(reg)
		ms := &http.Server{Addr: *metricsAddr, Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := ms.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server", "err", err)
			}
		}()
		defer ms.Close()
	}
	if *useOCR && !*noOCR {
		eng := &ocr.Tesseract{}
		if err := eng.Check(ctx); err != nil {
			return fmt.Errorf("OCR gate: %w; install it, or start with --no-ocr to publish packets unread on purpose", err)
		}
		client := asynq.NewClient(s.redis())
		defer client.Close()
		h.OCRQueue = client
		h.OCR = &workers.OCRHandler{Engine: ocrEngine(eng, *screened)}
	}
	if *webhooksFile != "" {
		hooks, err := workers.LoadWebhooks(*webhooksFile)
		if err != nil {
			return err
		}
		client := asynq.NewClient(s.redis())
		defer client.Close()
		h.Webhooks = &workers.Webhooks{Config: hooks, Queue: client, Now: clock.now()}
		// Deliveries run in a server of their own, on their own queue and
		// concurrency: slow receivers never hold a slot submissions need.
		hs, err := workers.StartWebhookServer(s.redis(), hooks, workers.ServerConfig{ShutdownTimeout: sc.ShutdownTimeout}, log.With("component", "webhooks"))
		if err != nil {
			return err
		}
		defer hs.Shutdown()
		log.Info("webhooks on", "endpoints", len(hooks.Endpoints))
	}
	// The worker takes tasks only from the queues of what it can do.
	sc.Capabilities = h.Capabilities()
	srv, err := workers.NewServer(s.redis(), sc, log)
	if err != nil {
		return err
	}
	if err := srv.Start(workers.NewMux(h)); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	if *sweep > 0 {
		sched, err := workers.NewScheduler(s.redis(), *sweep, log)
		if err != nil {
			return err
		}
		if err := sched.Start(); err != nil {
			return fmt.Errorf("start scheduler: %w", err)
		}
		defer sched.Shutdown()
	}
	log.Info("worker started", "redis", s.redisConf.describe(), "s3", s.s3.Endpoint, "capabilities", sc.Capabilities)
	<-ctx.Done()
	log.Info("worker stopping: running tasks get the shutdown timeout, then go back to the queue")
	srv.Shutdown()
	return nil
}

// openBuckets connects to S3 and checks (or creates) the buckets, waiting a
// while for a store that is still starting.
func (s *services) openBuckets(ctx context.Context) (storage.Buckets, error) {
	if err := s.validate(); err != nil {
		return storage.Buckets{}, err
	}
	cl, err := s3.Open(ctx, s.s3)
	if err != nil {
		return storage.Buckets{}, err
	}
	deadline := time.Now().Add(s.timeout)
	for {
		b, err := cl.Buckets(ctx, s.buckets, s.createBuckets)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return b, err
		}
		time.Sleep(time.Second)
	}
}

func runSubmit(ctx context.Context, args []string) error {
	fs := newFlagSet("submit")
	var s services
	s.register(fs)
	apiURL := fs.String("api", "", "submit through the HTTP API at this `URL` (https://blindpack.example), as the upload service does; empty: straight to Redis and S3")
	tokenFile := fs.String("token-file", "", "`file` holding the upload service's bearer token (with --api)")
	wait := fs.Duration("wait", 0, "with --api, wait up to this long for the report and print its status (exit 3 if not accepted)")
	var clock clockFlag
	fs.Var(&clock, "clock", "stamp the submission as if it were this `time` (RFC 3339), to rehearse a campaign (direct mode)")
	if err := parse(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	if fs.NArg() != 1 {
		return exitError{code: 2, err: fmt.Errorf("usage: blindpack submit S.json [--api URL --token-file F [--wait 2m]] [flags]")}
	}
	doc, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	if *apiURL != "" {
		return submitAPI(ctx, *apiURL, *tokenFile, doc, *wait)
	}
	buckets, err := s.openBuckets(ctx)
	if err != nil {
		return err
	}
	client := asynq.NewClient(s.redis())
	defer client.Close()
	st, closeState := s.state(clock.now())
	defer closeState()
	sub := workers.Submitter{Uploads: buckets.Uploads, Client: client, State: st, Now: clock.now()}
	p, err := sub.Submit(ctx, doc)
	switch {
	case errors.Is(err, workers.ErrAlreadyQueued):
		fmt.Printf("already queued: %s (nothing to do)\n", p.SubmissionID)
		return nil
	case err != nil:
		return err
	}
	fmt.Printf("queued: %s\nreport will be at %s/%s\n", p.SubmissionID, s.buckets.Reports, storage.ReportKey(p.Campaign, p.ApplicantID, p.SubmissionID))
	return nil
}

// submitAPI is `blindpack submit --api`: the submission goes through the
// HTTP API with the Go client, as the upload service's would.
func submitAPI(ctx context.Context, apiURL, tokenFile string, doc []byte, wait time.Duration) error {
	if tokenFile == "" {
		return exitError{code: 2, err: errors.New("submit --api needs --token-file (the upload service's token)")}
	}
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		return err
	}
	c, err := client.New(apiURL, strings.TrimSpace(string(tok)), client.Options{UserAgent: "blindpack-submit/1"})
	if err != nil {
		return exitError{code: 2, err: err}
	}
	sub, err := c.Submit(ctx, doc)
	if err != nil {
		return err
	}
	if sub.AlreadyQueued {
		fmt.Printf("already queued: %s (nothing to do)\n", sub.SubmissionID)
	} else {
		fmt.Printf("queued: %s\nstate and report: %s%s\n", sub.SubmissionID, strings.TrimRight(apiURL, "/"), sub.Href)
	}
	if wait <= 0 {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	v, err := c.WaitReport(wctx, sub.SubmissionID, time.Second)
	if err != nil {
		return err
	}
	fmt.Printf("report: %s\n", v.State)
	if v.State != string(pipeline.Accepted) {
		return exitError{code: exitRejected}
	}
	return nil
}
