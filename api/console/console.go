package console

import (
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/api/people"
	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/pipeline/scan"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
)

// Prefix is where the console is mounted.
const Prefix = "/console/"

// Config tunes the console. The zero value is the default; sessions are
// people's (package people).
type Config struct{}

// Validate reports the first mistake in c.
func (c Config) Validate() error { return nil }

// Deps are what the console works with. Buckets (uploads and reports),
// Queue, Inspector, State and Site are required.
type Deps struct {
	Buckets   storage.Buckets
	Queue     *asynq.Client
	Inspector *asynq.Inspector
	State     *state.Store
	// Site is people's shared sign-in, sessions and layout: the console
	// is mounted behind its administrators' gate.
	Site *people.Site
	// ClientAddr is where a request came from, for the audit trail
	// (default the connection's address).
	ClientAddr func(r *http.Request) string
	// Policy names materials, series and levels and says how many returns
	// are allowed (default policy.Default()).
	Policy *policy.Policy
	// Limits bound each uploaded file read for display (scan's defaults).
	Limits scan.Limits
	Log    *slog.Logger
	// Now is the clock deadlines are shown against (default time.Now); a
	// rehearsal clock here does not change how long sessions last.
	Now func() time.Time
}

// Console is the administrators' console.
type Console struct {
	cfg      Config
	d        Deps
	log      *slog.Logger
	now      func() time.Time
	pol      *policy.Policy
	mux      *http.ServeMux
	handler  http.Handler
	pages    *people.Pages
	sheets   sheetCache
	render   chan struct{} // bounds concurrent page rendering
	patterns []string
}

//go:embed templates/*.html
var templateFS embed.FS

// New checks the configuration and dependencies and builds the console.
func New(cfg Config, d Deps) (*Console, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case d.Buckets.Uploads == nil || d.Buckets.Reports == nil:
		return nil, errors.New("console: the uploads and reports buckets are required")
	case d.Queue == nil || d.Inspector == nil || d.State == nil:
		return nil, errors.New("console: the queue client, inspector and state store are required")
	case d.Site == nil:
		return nil, errors.New("console: people's site (sign-in and sessions) is required")
	}
	c := &Console{cfg: cfg, d: d, log: d.Log, now: d.Now, pol: d.Policy, render: make(chan struct{}, 2)}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.pol == nil {
		c.pol = policy.Default()
	}
	if c.d.ClientAddr == nil {
		c.d.ClientAddr = func(r *http.Request) string { return r.RemoteAddr }
	}
	var err error
	if c.pages, err = parseTemplates(d.Site); err != nil {
		return nil, err
	}
	c.routes()
	// The administrators' rule is checked before any handler runs.
	c.handler = d.Site.Require(state.RoleAdministrator, c.mux)
	return c, nil
}

// Handler serves every URL under Prefix.
func (c *Console) Handler() http.Handler { return c.handler }

// routes registers every console route.
func (c *Console) routes() {
	c.mux = http.NewServeMux()
	c.handle("GET /console/{$}", c.list)
	c.handle("GET /console/submissions/{id}", c.submission)
	c.handle("GET /console/submissions/{id}/status", c.status)
	c.handle("GET /console/submissions/{id}/thumbs/{material}/{page}", c.thumb)
	c.handle("GET /console/submissions/{id}/pages/{material}/{page}", c.pageView)
	c.handle("GET /console/submissions/{id}/pages/{material}/{page}/image", c.pageImage)
	c.handle("POST /console/submissions/{id}/reprocess", c.reprocess)
	c.handle("POST /console/submissions/{id}/rerun", c.rerun)
	c.handle("GET /console/submissions/{id}/held/{page}/image", c.heldImage)
	c.handle("POST /console/submissions/{id}/release", c.release)
	c.handle("POST /console/submissions/{id}/return", c.giveBack)
	// Anything else under the prefix: 404, after the gate, so that
	// another role learns nothing about which URLs exist.
	c.handle("/console/", func(w http.ResponseWriter, r *http.Request, v *visitor) {
		c.errorPage(w, r, v, http.StatusNotFound, "页面不存在。", "No such page.")
	})
}

// visitor is the signed-in administrator, as the gate found them.
type visitor = people.Visitor

// handle registers h; the gate in front of the mux has already checked
// that the visitor is a signed-in administrator and, for a POST, the
// form's anti-forgery token.
func (c *Console) handle(pattern string, h func(http.ResponseWriter, *http.Request, *visitor)) {
	c.patterns = append(c.patterns, pattern)
	c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		h(w, r, people.FromContext(r.Context()))
	})
}
