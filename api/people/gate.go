package people

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/blindpack/blindpack/state"
)

// CookieName is the session cookie. The __Host- prefix makes browsers
// refuse it unless it was set Secure, for the whole site and this host
// only, so that neither plain HTTP nor a sibling domain can plant one.
const CookieName = "__Host-blindpack"

// Visitor is who a request comes from.
type Visitor struct {
	// Account and Role are the signed-in account's; Account is "" for a
	// visitor who is not signed in.
	Account string
	Role    state.Role
	// CSRF is the session's anti-forgery token, for forms.
	CSRF string
	sid  string
	sess state.Session
}

// SignedIn reports whether the visitor is signed in (both steps done).
func (v *Visitor) SignedIn() bool { return v != nil && v.Account != "" && v.sess.Stage == "" }

// Actor names the visitor in audit trails, as the API names the holder of
// a token: "admin:wang.li", "reviewer:E-0042".
func (v *Visitor) Actor() string {
	if v == nil || v.Account == "" {
		return "anonymous"
	}
	if v.Role == state.RoleAdministrator {
		return "admin:" + v.Account
	}
	return string(v.Role) + ":" + v.Account
}

type visitorKey struct{}

// FromContext returns the visitor the site's gate put in a request's
// context (nil outside the gate).
func FromContext(ctx context.Context) *Visitor {
	v, _ := ctx.Value(visitorKey{}).(*Visitor)
	return v
}

// sessionKey is what a session is stored under: the digest of the cookie
// value, so that what Redis holds cannot be replayed as a cookie.
func sessionKey(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(sum[:])
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// validCSRF compares a form's anti-forgery token with the session's in
// constant time.
func validCSRF(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// identify finds the session a request's cookie names, if it is live and
// its account still exists, is enabled, has the role and epoch the
// session was opened with. Any other session is closed on the spot. The
// visitor is never nil.
func (s *Site) identify(r *http.Request) *Visitor {
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" || len(ck.Value) > 128 {
		return &Visitor{}
	}
	ctx := r.Context()
	sid := sessionKey(ck.Value)
	sess, err := s.d.State.Session(ctx, sid)
	if err != nil {
		if !errors.Is(err, state.ErrNoSession) {
			s.log.Error("people: read session", "err", err)
		}
		return &Visitor{}
	}
	acct, err := s.d.State.Account(ctx, sess.Account)
	if err != nil || acct.Disabled || acct.Epoch != sess.Epoch || acct.Role != sess.Role {
		if err != nil && !errors.Is(err, state.ErrNoAccount) {
			s.log.Error("people: read account", "err", err)
			return &Visitor{}
		}
		s.d.State.CloseSession(ctx, sid, sess.Account)
		return &Visitor{}
	}
	if err := s.d.State.TouchSession(ctx, sid, sess); err != nil {
		s.log.Error("people: touch session", "err", err)
	}
	return &Visitor{Account: sess.Account, Role: sess.Role, CSRF: sess.CSRF, sid: sid, sess: sess}
}

// maxForm bounds a form's body: a reason, a few page numbers, a password.
const maxForm = 16 << 10

// Public serves h to anyone, with the site's headers, cross-origin
// protection and the visitor (signed in or not) in the request's context.
// POSTs carrying a session must carry its anti-forgery token; POSTs
// without one are h's to judge.
func (s *Site) Public(h http.Handler) http.Handler {
	return securityHeaders(s.cop(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := s.identify(r)
		if v.SignedIn() && s.d.Identified != nil {
			s.d.Identified(w, v)
		}
		r = r.WithContext(context.WithValue(r.Context(), visitorKey{}, v))
		h.ServeHTTP(w, r)
	})))
}

// Require serves h only to people signed in with role: a visitor who is
// not signed in is sent to the sign-in page (or answered 401 when the
// request is not a page a browser navigates to), another role is
// answered 403 on every URL — so that nobody learns which URLs exist — and
// a POST must carry the session's anti-forgery token, checked before h
// runs.
func (s *Site) Require(role state.Role, h http.Handler) http.Handler {
	return securityHeaders(s.cop(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := s.identify(r)
		if v.SignedIn() && s.d.Identified != nil {
			s.d.Identified(w, v)
		}
		r = r.WithContext(context.WithValue(r.Context(), visitorKey{}, v))
		switch {
		case !v.SignedIn():
			if r.Method == http.MethodGet && !strings.Contains(r.Header.Get("Accept"), "application/json") {
				http.Redirect(w, r, AccountPrefix+"signin?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
				return
			}
			s.Error(w, r, http.StatusUnauthorized, "请先登录。", "Sign in first.")
			return
		case v.Role != role:
			s.log.Warn("people: refused another role", "role", v.Role, "account", v.Account, "path", r.URL.Path, "remote", s.d.ClientAddr(r))
			zh, en := "此页面仅限评审专家使用。", "These pages are for reviewers only."
			if role == state.RoleAdministrator {
				zh, en = "控制台仅限管理员使用。", "The console is for administrators only."
			}
			s.Error(w, r, http.StatusForbidden, zh, en)
			return
		}
		if r.Method == http.MethodPost && !s.checkForm(w, r, v) {
			return
		}
		h.ServeHTTP(w, r)
	})))
}

// checkForm reads a posted form (bounded) and checks its anti-forgery
// token against the session's.
func (s *Site) checkForm(w http.ResponseWriter, r *http.Request, v *Visitor) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		s.Error(w, r, http.StatusBadRequest, "表单无法读取。", "The form could not be read.")
		return false
	}
	if !validCSRF(r.PostForm.Get("csrf"), v.CSRF) {
		s.log.Warn("people: form without a valid anti-forgery token refused", "path", r.URL.Path, "account", v.Account,
			"remote", s.d.ClientAddr(r))
		s.Error(w, r, http.StatusForbidden, "表单缺少有效的防伪令牌，请刷新页面后重试。",
			"The form's anti-forgery token is missing or wrong; reload the page and try again.")
		return false
	}
	return true
}

// setCookie sends the session cookie (value "" clears it).
func setCookie(w http.ResponseWriter, value string, maxAge int) {
	if value == "" {
		maxAge = -1
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

// home is where a role lands after signing in.
func home(role state.Role) string {
	if role == state.RoleAdministrator {
		return "/console/"
	}
	return "/review/"
}

// safeNext keeps a post-sign-in destination only if it is a page of the
// role's own area on this site (no other host, no scheme tricks).
func safeNext(next string, role state.Role) string {
	h := home(role)
	if !strings.HasPrefix(next, h) || strings.ContainsAny(next, "\\\r\n") || strings.Contains(next, "//") {
		return h
	}
	return next
}
