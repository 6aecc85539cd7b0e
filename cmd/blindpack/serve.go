package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/api"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/pipeline/result"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage/s3"
)

// runServe is `blindpack serve`: the HTTP API of the upload service,
// administrators and reviewers.
func runServe(ctx context.Context, args []string) error {
	fs := newFlagSet("serve")
	var c common
	var s services
	c.register(fs, "json")
	s.register(fs)
	listen := fs.String("listen", "127.0.0.1:8080", "`address` to listen on (host:port; \":8080\" for every interface)")
	metricsAddr := fs.String("metrics-listen", "", "serve /metrics, /readyz and /healthz on this `address` for monitoring and probes, e.g. :9100 (not the public listener); empty: off")
	tokensFile := fs.String("tokens", "", "tokens `file` (YAML: sha256, role, subject per token; see `blindpack tokens`) (required)")
	var cfg api.Config
	fs.DurationVar(&cfg.PresignExpiry, "presign-expiry", 5*time.Minute, "ignored (reviewers' copies are streamed, never linked); accepted for old configurations")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "time requests in flight get on SIGTERM")
	fs.StringVar(&cfg.TempDir, "temp-dir", "", "`directory` for packets while personal copies are made (default: the system's)")
	fs.BoolVar(&cfg.TrustForwardedFor, "trust-forwarded-for", false, "audit the client address from X-Forwarded-For (only behind a proxy that sets it)")
	noMaskOCR := fs.Bool("no-mask-ocr", false, "mask suggestions (POST /v1/masks/suggest) search text layers only, even when Tesseract is installed")
	resultsCA := fs.String("results-ca", "", "root certificate `file` (PEM) genuine result files chain to, for the public /verify/ page (default: the system's roots)")
	var clock clockFlag
	fs.Var(&clock, "clock", "run as if it were this `time` (RFC 3339), to rehearse a campaign; empty: the real clock")
	if err := parseFlags(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	if *tokensFile == "" {
		return exitError{code: 2, err: errors.New("serve: --tokens FILE is required (make entries with `blindpack tokens new`)")}
	}
	log, err := c.logger(os.Stderr)
	if err != nil {
		return err
	}
	tokens, err := api.LoadTokens(*tokensFile)
	if err != nil {
		return err
	}
	if tokens.Len() == 0 {
		log.Warn("the tokens file lists no tokens: every request will be refused")
	}
	secret, err := c.secret(false, log)
	if err != nil {
		return err
	}
	pol, err := loadPolicy(c.policyFile)
	if err != nil {
		return err
	}
	font, err := c.font()
	if err != nil {
		return err
	}
	if err := s.validate(); err != nil {
		return err
	}
	cl, err := s3.Open(ctx, s.s3)
	if err != nil {
		return err
	}
	// Wait a while for a store that is still starting, as workers do.
	deadline := time.Now().Add(s.timeout)
	buckets, err := cl.Buckets(ctx, s.buckets, s.createBuckets)
	for err != nil && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(time.Second)
		buckets, err = cl.Buckets(ctx, s.buckets, s.createBuckets)
	}
	if err != nil {
		return err
	}
	rdb := s.redisConf.client()
	defer rdb.Close()
	queue := asynq.NewClient(s.redis())
	defer queue.Close()
	insp := asynq.NewInspector(s.redis())
	defer insp.Close()
	var roots *x509.CertPool
	if *resultsCA != "" {
		pemData, err := os.ReadFile(*resultsCA)
		if err != nil {
			return err
		}
		if roots, err = result.CertPool(pemData); err != nil {
			return err
		}
	}
	var maskOCR ocr.Engine
	if !*noMaskOCR {
		t := &ocr.Tesseract{}
		if err := t.Check(ctx); err != nil {
			log.Warn("mask suggestions search text layers only: no usable Tesseract", "err", err)
		} else {
			maskOCR = ocr.Screened(t) // advice, checked by the gate later: the first pass serves it
		}
	}
	srv, err := api.New(cfg, api.Deps{
		MaskOCR:     maskOCR,
		ResultRoots: roots, ResultRootsName: *resultsCA,
		Buckets: buckets, Queue: queue, Inspector: insp,
		State: state.New(rdb, state.Options{Now: clock.now()}),
		Font:  font, Policy: pol, AnonSecret: secret, Tokens: tokens, Log: log, Now: clock.now(),
		Ready: []api.Check{
			{Name: "redis", Ping: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
			{Name: "s3", Ping: cl.Ping},
		},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	// Metrics and readiness on a listener of their own: per-route counts,
	// refusals and queue depths are not for whoever reaches the API.
	// When either listener fails, both stop.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	opsDone := make(chan error, 1)
	if *metricsAddr != "" {
		opsLn, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("serve: metrics: %w", err)
		}
		log.Info("metrics and probes listening", "addr", opsLn.Addr().String())
		go func() { opsDone <- srv.ServeOps(ctx, opsLn); stop() }()
	} else {
		opsDone <- nil
	}
	// A token taken out of the file stops working within seconds, or at
	// once on SIGHUP, without a restart.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go api.WatchTokens(ctx, *tokensFile, tokens, 2*time.Second, hup, log)
	log.Info("api listening", "addr", ln.Addr().String(), "tokens", tokens.Len(), "redis", s.redisConf.describe(), "s3", s.s3.Endpoint)
	err = srv.Serve(ctx, ln)
	stop()
	return errors.Join(err, <-opsDone)
}

// runTokens is `blindpack tokens`: make a bearer token and its entry for
// the tokens file, or hash a token read from standard input. Tokens are
// printed once and never stored; the file holds only their SHA-256.
func runTokens(_ context.Context, args []string) error {
	fs := newFlagSet("tokens")
	role := fs.String("role", "", "role of a new token: upload_service, reviewer or administrator")
	subject := fs.String("subject", "", "who holds it: the reviewer's code, the administrator's name, the service's name")
	if err := parse(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	usage := errors.New("usage: blindpack tokens new --role ROLE --subject WHO | blindpack tokens hash < TOKEN")
	switch {
	case fs.NArg() == 1 && fs.Arg(0) == "new":
		tok, err := api.NewToken()
		if err != nil {
			return err
		}
		entry := fmt.Sprintf("tokens:\n  - sha256: %s\n    role: %s\n    subject: %s\n", api.HashToken(tok), *role, *subject)
		// Check the entry as serve will read it before handing it out.
		if _, err := api.ParseTokens([]byte(entry)); err != nil {
			return exitError{code: 2, err: err}
		}
		fmt.Fprintf(os.Stderr, "token (give it to %s; it is not stored anywhere):\n", *subject)
		fmt.Println(tok)
		fmt.Fprintln(os.Stderr, "entry for the tokens file:")
		fmt.Fprint(os.Stderr, strings.TrimPrefix(entry, "tokens:\n"))
		return nil
	case fs.NArg() == 1 && fs.Arg(0) == "hash":
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		tok := strings.TrimSpace(line)
		if tok == "" {
			return exitError{code: 2, err: errors.New("tokens hash: no token on standard input")}
		}
		fmt.Println(api.HashToken(tok))
		return nil
	}
	return exitError{code: 2, err: usage}
}
