package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/blindpack/blindpack/state"
)

// CookieName is the session cookie. The __Secure- prefix makes browsers
// refuse it unless it was set Secure over a secure connection, so that a
// network attacker cannot plant one over plain HTTP.
const CookieName = "__Secure-blindpack-console"

// identify finds who a request comes from. A bearer header decides alone:
// an administrator's is a visitor signed in, another role's is 403, an
// unknown token 401. Otherwise the session cookie, if it names a live
// session whose token is still an administrator's. Otherwise nobody.
func (c *Console) identify(r *http.Request) (*visitor, int) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		p, ok := c.d.Authenticate(strings.TrimSpace(tok))
		switch {
		case !strings.EqualFold(scheme, "Bearer") || !ok:
			return nil, http.StatusUnauthorized
		case !p.Administrator:
			c.log.Warn("console: refused a token of another role", "role", p.Role, "subject", p.Subject,
				"path", r.URL.Path, "remote", c.d.ClientAddr(r))
			return nil, http.StatusForbidden
		}
		return &visitor{p: p, signedIn: true}, http.StatusOK
	}
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" || len(ck.Value) > 128 {
		return &visitor{}, http.StatusOK
	}
	sid := sessionKey(ck.Value)
	sess, err := c.d.State.Session(r.Context(), sid)
	if err != nil {
		if !errors.Is(err, state.ErrNoSession) {
			c.log.Error("console: read session", "err", err)
		}
		return &visitor{}, http.StatusOK
	}
	// The token must still be in the tokens file, and still an
	// administrator's: taking a token out ends its sessions.
	p, ok := c.d.Lookup(sess.TokenID)
	if !ok || !p.Administrator || p.Subject != sess.Subject {
		c.d.State.CloseSession(r.Context(), sid)
		return &visitor{}, http.StatusOK
	}
	return &visitor{p: p, signedIn: true, sess: &sess, sid: sid}, http.StatusOK
}

// sessionKey is what a session is stored under: the digest of the cookie
// value, so that what Redis holds cannot be replayed as a cookie.
func sessionKey(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(sum[:])
}

// validCSRF compares a form's anti-forgery token with the session's in
// constant time.
func validCSRF(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// loginPage shows the form where an administrator pastes their token.
func (c *Console) loginPage(w http.ResponseWriter, r *http.Request, v *visitor) {
	if v.signedIn {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	c.show(w, r, v, http.StatusOK, "login", &loginView{})
}

type loginView struct {
	ErrorZH, ErrorEN string
}

// login checks the pasted token and opens a session: a new random id
// every time (no session fixation), kept server-side, the cookie
// HttpOnly, Secure, SameSite=Strict and scoped to the console.
func (c *Console) login(w http.ResponseWriter, r *http.Request, v *visitor) {
	tok := strings.TrimSpace(r.PostForm.Get("token"))
	p, ok := c.d.Authenticate(tok)
	switch {
	case !ok:
		c.log.Warn("console: sign-in with an unknown token", "remote", c.d.ClientAddr(r))
		c.show(w, r, nil, http.StatusUnauthorized, "login", &loginView{ErrorZH: "令牌无效。", ErrorEN: "This token is not valid."})
		return
	case !p.Administrator:
		c.log.Warn("console: sign-in refused to another role", "role", p.Role, "subject", p.Subject, "remote", c.d.ClientAddr(r))
		c.show(w, r, nil, http.StatusForbidden, "login", &loginView{ErrorZH: "控制台仅限管理员使用。", ErrorEN: "The console is for administrators only."})
		return
	}
	ctx := r.Context()
	if v.sid != "" {
		c.d.State.CloseSession(ctx, v.sid)
	}
	cookie, err1 := randomToken()
	csrf, err2 := randomToken()
	if err := errors.Join(err1, err2); err != nil {
		c.internalError(w, r, "session id", err)
		return
	}
	now := time.Now()
	sess := state.ConsoleSession{TokenID: p.TokenID, Role: p.Role, Subject: p.Subject, CSRF: csrf, Created: now, Expires: now.Add(c.cfg.SessionTTL)}
	if err := c.d.State.OpenSession(ctx, sessionKey(cookie), sess); err != nil {
		c.internalError(w, r, "open session", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: cookie, Path: Prefix, MaxAge: int(c.cfg.SessionTTL / time.Second),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	c.log.Info("console: signed in", "subject", p.Subject, "remote", c.d.ClientAddr(r), "expires", sess.Expires.UTC())
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

// logout ends the session on the server and clears the cookie.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, v *visitor) {
	if v.sid != "" {
		if err := c.d.State.CloseSession(r.Context(), v.sid); err != nil {
			c.internalError(w, r, "close session", err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: Prefix, MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	c.log.Info("console: signed out", "subject", v.p.Subject, "remote", c.d.ClientAddr(r))
	http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
}
