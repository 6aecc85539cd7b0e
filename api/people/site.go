package people

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/blindpack/blindpack/state"
)

// Config tunes the site. The zero value is the default everywhere.
type Config struct {
	// SessionTTL is how long a sign-in lasts at most (default 8 h, a
	// working day; at most 24 h).
	SessionTTL time.Duration
	// IdleTimeout ends a session not used for this long (default 30 min).
	IdleTimeout time.Duration
	// StepTTL bounds the time between the password and the second factor
	// (default 10 min).
	StepTTL time.Duration
	// AccountThrottle locks an account after failed sign-ins (default 5
	// failures within 15 min lock it for 15 min); AddressThrottle does
	// the same for a client address (default 20 within 15 min, 15 min),
	// so that one address cannot try many accounts.
	AccountThrottle, AddressThrottle state.Throttle
	// Issuer names the service in authenticator apps (default
	// "blindpack").
	Issuer string
	// Argon2 are the password hashing parameters (default: see Argon2).
	Argon2 Argon2
}

// Validate reports the first mistake in c.
func (c Config) Validate() error {
	switch {
	case c.SessionTTL < 0 || c.SessionTTL > 24*time.Hour:
		return errors.New("people: config: SessionTTL must be between 0 (default 8 h) and 24 h")
	case c.IdleTimeout < 0 || c.StepTTL < 0:
		return errors.New("people: config: IdleTimeout and StepTTL must not be negative")
	}
	for _, t := range []state.Throttle{c.AccountThrottle, c.AddressThrottle} {
		if t != (state.Throttle{}) && (t.Limit < 1 || t.Window <= 0 || t.LockFor <= 0) {
			return fmt.Errorf("people: config: throttle %+v: set a limit, a window and a lock time, or nothing", t)
		}
	}
	return nil
}

func (c Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.SessionTTL, 8*time.Hour)
	def(&c.IdleTimeout, 30*time.Minute)
	def(&c.StepTTL, 10*time.Minute)
	if c.AccountThrottle == (state.Throttle{}) {
		c.AccountThrottle = state.Throttle{Limit: 5, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	}
	if c.AddressThrottle == (state.Throttle{}) {
		c.AddressThrottle = state.Throttle{Limit: 20, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	}
	if c.Issuer == "" {
		c.Issuer = "blindpack"
	}
	return c
}

// Deps are what the site works with. State and Secret are required.
type Deps struct {
	State *state.Store
	// Secret is the server's secret (at least 16 bytes); the key that
	// seals second-factor secrets is derived from it.
	Secret []byte
	// ClientAddr is where a request came from, for the audit trail and
	// the per-address throttle (default the connection's address).
	ClientAddr func(r *http.Request) string
	// Identified, when set, is told who a request comes from, so that the
	// server's request log can name them.
	Identified func(w http.ResponseWriter, v *Visitor)
	Log        *slog.Logger
	// Now is the clock second-factor codes are checked against (default
	// time.Now; never a rehearsal clock — phones keep real time).
	Now func() time.Time
}

// Site is the shared part of people's pages.
type Site struct {
	cfg    Config
	d      Deps
	log    *slog.Logger
	now    func() time.Time
	seal   *sealer
	hash   hasher
	dummy  string // a hash to check unknown names against, so they take as long
	pages  *Pages
	mux    *http.ServeMux
	assets fs.FS
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// New checks the configuration and dependencies and builds the site.
func New(cfg Config, d Deps) (*Site, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.State == nil {
		return nil, errors.New("people: the state store is required")
	}
	seal, err := newSealer(d.Secret)
	if err != nil {
		return nil, err
	}
	s := &Site{cfg: cfg.withDefaults(), d: d, log: d.Log, now: d.Now, seal: seal, hash: make(hasher, 2)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.d.ClientAddr == nil {
		s.d.ClientAddr = func(r *http.Request) string { return r.RemoteAddr }
	}
	if s.dummy, err = HashPassword("not a password anyone has", s.cfg.Argon2); err != nil {
		return nil, err
	}
	if s.assets, err = fs.Sub(assetFS, "assets"); err != nil {
		return nil, err
	}
	if s.pages, err = s.Pages(Audience{Name: "account"}, templateFS, nil, accountPages...); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Prefixes of the site's own URLs.
const (
	AccountPrefix = "/account/"
	AssetsPrefix  = "/assets/"
)

// Handler serves the site's own URLs: AccountPrefix (open to anyone; each
// step checks its own stage) and AssetsPrefix.
func (s *Site) Handler() http.Handler { return s.Public(s.mux) }

// cop refuses cross-origin requests that change something.
func (s *Site) cop(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("people: cross-origin request refused", "method", r.Method, "path", r.URL.Path, "remote", s.d.ClientAddr(r))
		s.Error(w, r, http.StatusForbidden, "跨站请求被拒绝。", "Cross-origin request refused.")
	}))
	return cop.Handler(next)
}

// securityHeaders sets what every page for people carries: a CSP that
// allows only the site's own files (no inline script or style, no
// framing, forms posting only here), no MIME sniffing, no caching unless
// the handler says otherwise, and no referrer beyond this origin.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
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

// CSP is the Content-Security-Policy of every page for people.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// asset serves the shared stylesheet and script.
func (s *Site) asset(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, AssetsPrefix)
	var ctype string
	switch {
	case strings.HasSuffix(name, ".css"):
		ctype = "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".js"):
		ctype = "text/javascript; charset=utf-8"
	}
	data, err := fs.ReadFile(s.assets, name)
	if err != nil || ctype == "" || strings.ContainsAny(name, "/\\") {
		s.Error(w, r, http.StatusNotFound, "页面不存在。", "No such page.")
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Write(data)
}
