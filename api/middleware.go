package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"path"
	"regexp"
	"strings"

	"github.com/blindpack/blindpack/api/wire"
)

// HeaderRequestID carries a request's id: on every response, and in the
// log line of the request and any error it logged. A caller may send its
// own (letters, digits and . _ : -, at most 64) to follow a request across
// services; otherwise the server makes one.
const HeaderRequestID = "X-Request-Id"

type requestIDKey struct{}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// requestID is the id of the request ctx belongs to.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// withRequestID is the outermost layer: it gives the request its id (in
// the context and the X-Request-Id header) — the API's and the pages for
// people alike — marks every answer nosniff — JSON, a reviewer's PDF or
// a page, each says its type and no browser should guess otherwise — and
// turns a handler's panic into a 500 in the error shape, logged with the
// request id.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(HeaderRequestID)
		if !requestIDPattern.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set(HeaderRequestID, id)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("request panicked", "request_id", id, "route", r.Pattern, "panic", v)
				if rec.status == 0 {
					writeError(rec, wire.CodeInternal, "")
				}
			}
		}()
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// guard authenticates every /v1/ request before the router answers it: an
// unauthenticated caller gets 401 whatever the path and method, so that it
// cannot tell which routes exist (the router would answer 405 or a
// redirect first). Authenticated callers, and every other path, get the
// router's 404 and 405 in the error shape too. Roles are checked by each
// route (route).
func (s *Server) guard(mux *http.ServeMux) http.Handler {
	routed := routedBy(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAPIPath(r.URL.Path) {
			p, ok := s.d.Tokens.Authenticate(bearer(r))
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="blindpack"`)
				writeError(w, wire.CodeUnauthenticated, "")
				return
			}
			if rec, ok := w.(*recorder); ok {
				rec.principal = p
			}
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
		routed.ServeHTTP(w, r)
	})
}

// routedBy serves mux's routes, and answers what no route takes in the
// error shape (unrouted).
func routedBy(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); (pattern == "" || isAPIPath(r.URL.Path) && !isClean(r.URL.Path)) && unrouted(mux, w, r) {
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// isAPIPath reports whether a path is under /v1 once cleaned, as the
// router would clean it before redirecting.
func isAPIPath(p string) bool {
	c := path.Clean("/" + p)
	return c == "/v1" || strings.HasPrefix(c, "/v1/")
}

// isClean reports whether the router would take p as it is, without
// redirecting to a cleaned form.
func isClean(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// unrouted answers a request no route takes: 405 with Allow when the path
// exists with other methods, 404 otherwise — in the error shape. Under /v1
// a path the router would redirect to its clean form is a 404 (no client
// of the API needs the redirect); elsewhere (/console → /console/) the
// redirect is left to the router: unrouted reports false and answers
// nothing.
func unrouted(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) bool {
	h, _ := mux.Handler(r)
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	switch {
	case isAPIPath(r.URL.Path) && !isClean(r.URL.Path):
		writeError(w, wire.CodeNotFound, "the path is not in its clean form")
	case probe.status == http.StatusMethodNotAllowed:
		allow := probe.header.Get("Allow")
		w.Header().Set("Allow", allow)
		writeError(w, wire.CodeMethodNotAllowed, "allowed: "+allow)
	case probe.status >= 300 && probe.status < 400 && !isAPIPath(r.URL.Path):
		return false
	default:
		writeError(w, wire.CodeNotFound, "")
	}
	return true
}

// headerProbe records what the router's own fallback handler would answer
// (its status and Allow header), discarding its plain-text body.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *headerProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}

type principalKey struct{}

// principal is who the guard authenticated.
func principal(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// errNoPrincipal is what route answers if a handler is reached without the
// guard: it never happens through Handler.
var errNoPrincipal = errors.New("api: route reached without authentication")
