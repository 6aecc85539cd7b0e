package console

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/pipeline/scan"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
)

// Prefix is where the console is mounted; the session cookie is scoped to
// it.
const Prefix = "/console/"

// Principal is who a bearer token belongs to, as package api says.
type Principal struct {
	// Administrator is true for the administrator role, the only one the
	// console lets in.
	Administrator bool
	// Role and Subject are the token's, for logs.
	Role, Subject string
	// Actor names the principal in audit trails ("admin:wang.li").
	Actor string
	// TokenID identifies the token without being it (its SHA-256 in hex):
	// a session keeps it to check, on every request, that the token is
	// still in the tokens file.
	TokenID string
}

// Config tunes the console. The zero value is the default.
type Config struct {
	// SessionTTL is how long a sign-in lasts (default 8 h, a working day;
	// at most 24 h).
	SessionTTL time.Duration
}

// Validate reports the first mistake in c.
func (c Config) Validate() error {
	if c.SessionTTL < 0 || c.SessionTTL > 24*time.Hour {
		return errors.New("console: config: SessionTTL must be between 0 (default 8 h) and 24 h")
	}
	return nil
}

// Deps are what the console works with. Buckets (uploads and reports),
// Queue, Inspector, State, Authenticate and Lookup are required.
type Deps struct {
	Buckets   storage.Buckets
	Queue     *asynq.Client
	Inspector *asynq.Inspector
	State     *state.Store
	// Authenticate returns the principal of a bearer token.
	Authenticate func(token string) (Principal, bool)
	// Lookup returns the principal of a token by its TokenID.
	Lookup func(tokenID string) (Principal, bool)
	// ClientAddr is where a request came from, for the audit trail
	// (default the connection's address).
	ClientAddr func(r *http.Request) string
	// Identified, when set, is told who a request comes from, so that the
	// server's request log can name them.
	Identified func(w http.ResponseWriter, p Principal)
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
	pages    map[string]*template.Template
	assets   fs.FS
	sheets   sheetCache
	render   chan struct{} // bounds concurrent page rendering
	patterns []string
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

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
	case d.Authenticate == nil || d.Lookup == nil:
		return nil, errors.New("console: Authenticate and Lookup are required")
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 8 * time.Hour
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
	if c.pages, err = parseTemplates(); err != nil {
		return nil, err
	}
	if c.assets, err = fs.Sub(assetFS, "assets"); err != nil {
		return nil, err
	}
	c.routes()
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.log.Warn("console: cross-origin request refused", "method", r.Method, "path", r.URL.Path, "remote", c.d.ClientAddr(r))
		c.errorPage(w, r, nil, http.StatusForbidden, "跨站请求被拒绝。", "Cross-origin request refused.")
	}))
	c.handler = securityHeaders(cop.Handler(c.mux))
	return c, nil
}

// Handler serves every URL under Prefix.
func (c *Console) Handler() http.Handler { return c.handler }

// access says who may use a route.
type access int

const (
	// open routes (the login form, styles and scripts) answer anyone but
	// the holder of another role's token.
	open access = iota
	// admin routes need an administrator: a session, or a bearer header.
	admin
)

// routes registers every console route.
func (c *Console) routes() {
	c.mux = http.NewServeMux()
	c.handle("GET /console/login", open, c.loginPage)
	c.handle("POST /console/login", open, c.login)
	c.handle("GET /console/assets/{name}", open, c.asset)
	c.handle("POST /console/logout", admin, c.logout)
	c.handle("GET /console/{$}", admin, c.list)
	c.handle("GET /console/submissions/{id}", admin, c.submission)
	c.handle("GET /console/submissions/{id}/status", admin, c.status)
	c.handle("GET /console/submissions/{id}/thumbs/{material}/{page}", admin, c.thumb)
	c.handle("GET /console/submissions/{id}/pages/{material}/{page}", admin, c.pageView)
	c.handle("GET /console/submissions/{id}/pages/{material}/{page}/image", admin, c.pageImage)
	c.handle("POST /console/submissions/{id}/reprocess", admin, c.reprocess)
	c.handle("POST /console/submissions/{id}/rerun", admin, c.rerun)
	// Anything else under the prefix: the role check first, then 404, so
	// that another role's token learns nothing about which URLs exist.
	c.handle("/console/", open, func(w http.ResponseWriter, r *http.Request, v *visitor) {
		c.errorPage(w, r, v, http.StatusNotFound, "页面不存在。", "No such page.")
	})
}

// visitor is who is asking: an administrator (by session or bearer
// header), or nobody yet.
type visitor struct {
	p Principal
	// signedIn is true for an administrator.
	signedIn bool
	// sess and sid are set for a browser session (not for a bearer
	// header, which a browser never sends by itself and so needs no
	// anti-forgery token).
	sess *state.ConsoleSession
	sid  string
}

// csrf is the anti-forgery token forms carry ("" for bearer requests).
func (v *visitor) csrf() string {
	if v == nil || v.sess == nil {
		return ""
	}
	return v.sess.CSRF
}

// handle registers h behind the role check: a bearer token of another
// role is 403 everywhere, an unknown one 401; an admin route without an
// administrator sends a browser to the login page; a POST from a session
// must carry the session's anti-forgery token.
func (c *Console) handle(pattern string, acc access, h func(http.ResponseWriter, *http.Request, *visitor)) {
	c.patterns = append(c.patterns, pattern)
	c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		v, code := c.identify(r)
		switch code {
		case http.StatusUnauthorized:
			w.Header().Set("WWW-Authenticate", `Bearer realm="blindpack"`)
			c.errorPage(w, r, nil, code, "令牌无效。", "Invalid token.")
			return
		case http.StatusForbidden:
			c.errorPage(w, r, nil, code, "控制台仅限管理员使用。", "The console is for administrators only.")
			return
		}
		if v.signedIn && c.d.Identified != nil {
			c.d.Identified(w, v.p)
		}
		if acc == admin && !v.signedIn {
			if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/status") {
				http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
				return
			}
			c.errorPage(w, r, nil, http.StatusUnauthorized, "请先登录。", "Sign in first.")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				c.errorPage(w, r, v, http.StatusBadRequest, "表单无法读取。", "The form could not be read.")
				return
			}
			if acc == admin && v.sess != nil && !validCSRF(r.PostForm.Get("csrf"), v.sess.CSRF) {
				c.log.Warn("console: form without a valid anti-forgery token refused", "path", r.URL.Path, "subject", v.p.Subject,
					"remote", c.d.ClientAddr(r))
				c.errorPage(w, r, v, http.StatusForbidden, "表单缺少有效的防伪令牌，请刷新页面后重试。",
					"The form's anti-forgery token is missing or wrong; reload the page and try again.")
				return
			}
		}
		h(w, r, v)
	})
}

// maxForm bounds a form's body: a reason and a few page numbers.
const maxForm = 16 << 10

// securityHeaders sets what every console response carries: a CSP that
// allows only the console's own files (no inline script or style, no
// framing, forms posting only here), no MIME sniffing, no caching — pages
// show originals — and no referrer beyond this origin.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

// asset serves the console's stylesheet and script.
func (c *Console) asset(w http.ResponseWriter, r *http.Request, _ *visitor) {
	name := r.PathValue("name")
	var ctype string
	switch {
	case strings.HasSuffix(name, ".css"):
		ctype = "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".js"):
		ctype = "text/javascript; charset=utf-8"
	}
	data, err := fs.ReadFile(c.assets, name)
	if err != nil || ctype == "" || strings.ContainsAny(name, "/\\") {
		c.errorPage(w, r, nil, http.StatusNotFound, "页面不存在。", "No such page.")
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Write(data)
}
