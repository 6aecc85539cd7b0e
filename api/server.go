package api

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/blindpack/blindpack/api/people"
	"github.com/blindpack/blindpack/api/public"
	"github.com/blindpack/blindpack/api/review"
	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
)

// Config tunes the server. The zero value is the default everywhere.
type Config struct {
	// PresignExpiry is kept for configurations that set it. Deprecated:
	// reviewers' copies are streamed through the server, with the
	// assignment checked on each request, never handed out as links.
	PresignExpiry time.Duration
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are the
	// http.Server's (defaults 10 s, 1 min, 5 min, 2 min). The write
	// timeout covers making a personal copy on a first download, which
	// reads and verifies the whole packet.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownTimeout is how long requests in flight get on shutdown
	// (default 30 s).
	ShutdownTimeout time.Duration
	// ReadyTimeout bounds each readiness check (default 2 s).
	ReadyTimeout time.Duration
	// MaxSubmissionBytes and MaxBatchBytes bound request bodies (defaults
	// 1 MiB, the workers' own limit on a submission document, and 8 MiB);
	// other bodies are bounded to 64 KiB.
	MaxSubmissionBytes, MaxBatchBytes int64
	// TempDir holds packets and copies while a copy is made (default the
	// system's).
	TempDir string
	// TrustForwardedFor records the client address from the last
	// X-Forwarded-For entry, for a server behind a reverse proxy that
	// sets it; otherwise the audit records the connection's address.
	TrustForwardedFor bool
	// People tunes accounts, sign-in and sessions of the pages for people
	// (package people); Review the reviewers' portal (package review).
	People people.Config
	Review review.Config
	// Public tunes the public results and verification pages.
	Public public.Config
}

// Validate reports the first mistake in c.
func (c Config) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"PresignExpiry", c.PresignExpiry}, {"ReadHeaderTimeout", c.ReadHeaderTimeout}, {"ReadTimeout", c.ReadTimeout},
		{"WriteTimeout", c.WriteTimeout}, {"IdleTimeout", c.IdleTimeout}, {"ShutdownTimeout", c.ShutdownTimeout}, {"ReadyTimeout", c.ReadyTimeout}} {
		if d.v < 0 {
			return fmt.Errorf("api: config: %s is negative", d.name)
		}
	}
	if c.PresignExpiry != 0 && (c.PresignExpiry < time.Second || c.PresignExpiry > 7*24*time.Hour) {
		return fmt.Errorf("api: config: PresignExpiry %v: want 1 s to 7 days", c.PresignExpiry)
	}
	if c.MaxSubmissionBytes < 0 || c.MaxBatchBytes < 0 {
		return errors.New("api: config: body limits must not be negative")
	}
	return errors.Join(c.People.Validate(), c.Review.Validate(), c.Public.Validate())
}

func (c Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.PresignExpiry, 5*time.Minute)
	def(&c.ReadHeaderTimeout, 10*time.Second)
	def(&c.ReadTimeout, time.Minute)
	def(&c.WriteTimeout, 5*time.Minute)
	def(&c.IdleTimeout, 2*time.Minute)
	def(&c.ShutdownTimeout, 30*time.Second)
	def(&c.ReadyTimeout, 2*time.Second)
	if c.MaxSubmissionBytes == 0 {
		c.MaxSubmissionBytes = 1 << 20
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = 8 << 20
	}
	return c
}

// Check is one readiness check: a dependency that must answer.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Deps are what the server works with. All but Registry and Now are
// required.
type Deps struct {
	// Buckets are the object stores.
	Buckets storage.Buckets
	// Queue enqueues tasks; Inspector reads queues for failures and
	// metrics.
	Queue     *asynq.Client
	Inspector *asynq.Inspector
	State     *state.Store
	// Font sets the reviewer stamp (the packet's font).
	Font *pdfkit.Font
	// Policy names materials and says how many returns are allowed, for
	// the console (default the policy built in).
	Policy *policy.Policy
	// AnonSecret is the workers' anonymous-code secret: with it the server
	// finds which application an anonymous code belongs to.
	AnonSecret []byte
	Tokens     *Tokens
	// Renderer draws the pages of reviewers' copies in the portal
	// (default poppler's pdftoppm, in colour).
	Renderer review.Renderer
	// ResultRoots are the trusted roots public result files must chain
	// to (/verify/, /results/); nil means the system's.
	ResultRoots *x509.CertPool
	// ResultRootsName says where ResultRoots came from.
	ResultRootsName string
	// Ready are the readiness checks (Redis, S3).
	Ready []Check
	Log   *slog.Logger
	// Registry receives the server's metrics, served on OpsHandler's
	// /metrics (default a new registry with the Go and process
	// collectors).
	Registry *prometheus.Registry
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaskOCR reads the pages without a text layer for mask suggestions
	// (POST /v1/masks/suggest); nil answers for text layers only.
	MaskOCR ocr.Engine
}

// Server is the HTTP API.
type Server struct {
	cfg      Config
	d        Deps
	log      *slog.Logger
	now      func() time.Time
	metrics  *metrics
	mux      *http.ServeMux // the public routes
	ops      *http.ServeMux // the operators' routes
	patterns []Route        // every /v1 route registered
	site     *people.Site
	portal   *review.Portal

	copyLocks [64]sync.Mutex // makers of personal copies, by key hash
	// suggestSem holds a slot per mask suggestion being made.
	suggestSem chan struct{}
}

// New checks the configuration and dependencies and builds the server.
func New(cfg Config, d Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case d.Buckets.Uploads == nil || d.Buckets.Packets == nil || d.Buckets.Reports == nil:
		return nil, errors.New("api: the uploads, packets and reports buckets are required")
	case d.Queue == nil || d.Inspector == nil || d.State == nil:
		return nil, errors.New("api: the queue client, inspector and state store are required")
	case d.Font == nil:
		return nil, errors.New("api: a font for the reviewer stamp is required")
	case len(d.AnonSecret) < 16:
		return nil, errors.New("api: the anonymous-code secret (at least 16 bytes, the workers') is required")
	case d.Tokens == nil:
		return nil, errors.New("api: tokens are required")
	}
	s := &Server{cfg: cfg.withDefaults(), d: d, log: d.Log, now: d.Now, suggestSem: make(chan struct{}, runtime.NumCPU())}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	reg := d.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m, err := newMetrics(reg, d.Inspector, s.log)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.routes(reg)
	if err := s.mountPeople(); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler is the server's public HTTP handler — the API, the console and
// /healthz — with request ids, logging and metrics, and authentication
// before routing (middleware.go).
func (s *Server) Handler() http.Handler { return s.withRequestID(s.observe(s.guard(s.mux))) }

// OpsHandler is what operators' tools read: /healthz, /readyz (Redis and S3
// answer) and /metrics (per-route counts, refusals, queue depths). None of
// it is for the public: serve it on a listener of its own that only the
// monitoring network reaches (`serve --metrics-listen`), as workers do.
func (s *Server) OpsHandler() http.Handler { return s.withRequestID(s.observe(routedBy(s.ops))) }

// Serve answers the public routes on ln until ctx is cancelled, then shuts
// down gracefully: no new connections, requests in flight get
// ShutdownTimeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.serve(ctx, ln, s.Handler())
}

// ServeOps answers the operators' routes (OpsHandler) on ln, as Serve
// does the public ones.
func (s *Server) ServeOps(ctx context.Context, ln net.Listener) error {
	return s.serve(ctx, ln, s.OpsHandler())
}

func (s *Server) serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("api: serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("api stopping: requests in flight get the shutdown timeout", "timeout", s.cfg.ShutdownTimeout)
	defer s.portal.Close()
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("api: shutdown: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("api: serve: %w", err)
	}
	return nil
}

// routes registers every route with the roles that may use it.
func (s *Server) routes(reg *prometheus.Registry) {
	s.ops = http.NewServeMux()
	s.ops.HandleFunc("GET /healthz", s.healthz)
	s.ops.HandleFunc("GET /readyz", s.readyz)
	s.ops.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))

	s.mux = http.NewServeMux()
	// Liveness stays public: it says only that the process answers.
	s.mux.HandleFunc("GET /healthz", s.healthz)

	up, admin, rev := []Role{RoleUploadService}, []Role{RoleAdministrator}, []Role{RoleReviewer}
	s.route("POST /v1/submissions", up, s.postSubmission)
	s.route("GET /v1/submissions/{id}", []Role{RoleUploadService, RoleAdministrator}, s.getSubmission)
	s.route("POST /v1/masks/suggest", up, s.suggestMasks)

	s.route("POST /v1/submissions/{id}/reprocess", admin, s.reprocess)
	s.route("POST /v1/submissions/{id}/release", admin, s.release)
	s.route("POST /v1/submissions/{id}/return", admin, s.giveBack)
	s.route("GET /v1/assignments", admin, s.listAssignments)
	s.route("POST /v1/assignments", admin, s.assign)
	s.route("DELETE /v1/assignments/{anon}/{reviewer}", admin, s.unassign)
	s.route("GET /v1/failures", admin, s.failures)
	s.route("POST /v1/results", admin, s.issueResult)
	s.route("GET /v1/applications/{campaign}/{applicant}/audit", admin, s.audit)
	s.route("GET /v1/submissions/{id}/audit", admin, s.submissionAudit)

	s.route("GET /v1/packets", rev, s.listPackets)
	s.route("GET /v1/packets/{anon}", rev, s.getPacket)

	s.route("GET /v1/openapi.json", []Role{RoleUploadService, RoleAdministrator, RoleReviewer}, s.openapi)
}

// route registers h for the roles that may use it (403 for the others).
// The guard has authenticated the caller (401) before any route answers.
func (s *Server) route(pattern string, roles []Role, h func(http.ResponseWriter, *http.Request, Principal)) {
	s.patterns = append(s.patterns, Route{Pattern: pattern, Roles: roles})
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		p, ok := principal(r.Context())
		if !ok {
			s.internalError(w, r, "route", errNoPrincipal)
			return
		}
		if !slices.Contains(roles, p.Role) {
			writeError(w, wire.CodeForbidden, "")
			return
		}
		h(w, r, p)
	})
}

// Route is one route of the API as registered with the router.
type Route struct {
	// Pattern is the router's pattern, "GET /v1/packets/{anon}".
	Pattern string
	// Roles may use it; the others get 403.
	Roles []Role
}

// Routes are the API's routes, as registered with the router: what the
// OpenAPI document must describe.
func (s *Server) Routes() []Route { return slices.Clone(s.patterns) }

// clientAddr is where a request came from, for the audit trail.
func (s *Server) clientAddr(r *http.Request) string {
	addr := r.RemoteAddr
	if s.cfg.TrustForwardedFor {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); last != "" {
				return last + " (via " + addr + ")"
			}
		}
	}
	return addr
}
