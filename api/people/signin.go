package people

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"time"

	"github.com/pquerna/otp"

	"github.com/blindpack/blindpack/state"
)

// Stages of a session before it is signed in.
const (
	stagePassword = "password" // choose a password (the one in hand was handed out)
	stageEnrol    = "enrol"    // set up the second factor
	stageTOTP     = "totp"     // type a code
)

var accountPages = []string{"signin", "totp", "enrol", "password"}

// routes registers the account pages.
func (s *Site) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET "+AssetsPrefix+"{name}", s.asset)
	s.mux.HandleFunc("GET /account/signin", s.signinPage)
	s.mux.HandleFunc("POST /account/signin", s.signin)
	s.mux.HandleFunc("GET /account/totp", s.step(stageTOTP, s.totpPage))
	s.mux.HandleFunc("POST /account/totp", s.step(stageTOTP, s.totp))
	s.mux.HandleFunc("GET /account/enrol", s.step(stageEnrol, s.enrolPage))
	s.mux.HandleFunc("GET /account/enrol/qr.png", s.step(stageEnrol, s.enrolQR))
	s.mux.HandleFunc("POST /account/enrol", s.step(stageEnrol, s.enrol))
	s.mux.HandleFunc("GET /account/password", s.step(stagePassword, s.passwordPage))
	s.mux.HandleFunc("POST /account/password", s.step(stagePassword, s.password))
	s.mux.HandleFunc("POST /account/signout", s.signout)
	s.mux.HandleFunc("/account/", func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, http.StatusNotFound, "页面不存在。", "No such page.")
	})
	s.mux.HandleFunc("/assets/", func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, http.StatusNotFound, "页面不存在。", "No such page.")
	})
}

// audit appends a security event; a failure to audit is logged, and the
// caller decides whether to go on.
func (s *Site) audit(r *http.Request, actor, action, detail string) error {
	err := s.d.State.SecurityAudit(r.Context(), state.Event{At: time.Now(), Actor: actor, Action: action, Detail: detail, From: s.d.ClientAddr(r)})
	if err != nil {
		s.log.Error("people: audit", "action", action, "err", err)
	}
	return err
}

// addrSubject is the throttle subject of a client address: the host part
// only, so that a client's ports do not count as many clients.
func (s *Site) addrSubject(r *http.Request) string {
	a := s.d.ClientAddr(r)
	if i := strings.Index(a, " (via "); i >= 0 {
		a = a[:i]
	}
	if i := strings.LastIndex(a, ":"); i > 0 && !strings.HasSuffix(a, "]") {
		a = a[:i]
	}
	return "addr:" + strings.Trim(a, "[]")
}

type signinView struct {
	Name, Next string
	ErrorZH    string
	ErrorEN    string
}

func (s *Site) signinPage(w http.ResponseWriter, r *http.Request) {
	v := FromContext(r.Context())
	next := r.URL.Query().Get("next")
	if v.SignedIn() {
		http.Redirect(w, r, safeNext(next, v.Role), http.StatusSeeOther)
		return
	}
	s.pages.Show(w, r, http.StatusOK, "signin", "登录 Sign in", &signinView{Next: next})
}

// lockedMessage says, in both languages, until when sign-in is locked.
func lockedMessage(d time.Duration) (string, string) {
	until := Beijing(time.Now().Add(d + time.Minute - 1).Truncate(time.Minute))
	return "登录失败次数过多，已暂时锁定，请于 " + until + "（北京时间）后再试。",
		"Too many failed sign-ins: locked until " + until + " (Beijing time)."
}

// fail counts a failed step against the account and the address, audits
// it, and says what to tell the person.
func (s *Site) fail(r *http.Request, name, what string) (zh, en string) {
	ctx := r.Context()
	zh, en = "用户名或密码错误。", "Wrong user name or password."
	if what == "totp" {
		zh, en = "验证码错误或已使用。", "Wrong or already used code."
	}
	s.audit(r, "person:"+name, "signin_failed", what)
	locked := time.Duration(0)
	for _, f := range []struct {
		subject string
		t       state.Throttle
	}{{"account:" + name, s.cfg.AccountThrottle}, {s.addrSubject(r), s.cfg.AddressThrottle}} {
		d, err := s.d.State.FailSignIn(ctx, f.subject, f.t)
		if err != nil {
			s.log.Error("people: count failed sign-in", "err", err)
			continue
		}
		if d > 0 {
			s.audit(r, "person:"+name, "signin_locked", fmt.Sprintf("%s locked for %s after %d failures", f.subject, d.Round(time.Second), f.t.Limit))
			s.log.Warn("people: sign-in locked", "subject", f.subject, "for", d)
		}
		locked = max(locked, d)
	}
	if locked > 0 {
		zh, en = lockedMessage(locked)
	}
	return zh, en
}

// locked reports how long the account or the address is still locked.
func (s *Site) locked(ctx context.Context, r *http.Request, name string) (time.Duration, error) {
	var most time.Duration
	for _, subject := range []string{"account:" + name, s.addrSubject(r)} {
		d, err := s.d.State.SignInLocked(ctx, subject)
		if err != nil {
			return 0, err
		}
		most = max(most, d)
	}
	return most, nil
}

// signin checks a user name and password and opens a session at the
// step that follows: choose a password, enrol, or type a code.
func (s *Site) signin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		s.Error(w, r, http.StatusBadRequest, "表单无法读取。", "The form could not be read.")
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("user"))
	pw := r.PostForm.Get("password")
	view := &signinView{Name: name, Next: r.PostForm.Get("next")}
	show := func(code int, zh, en string) {
		view.ErrorZH, view.ErrorEN = zh, en
		s.pages.Show(w, r, code, "signin", "登录 Sign in", view)
	}
	if name == "" || len(name) > 64 || pw == "" || len(pw) > 4*MaxPasswordLen {
		show(http.StatusBadRequest, "请输入用户名和密码。", "Enter your user name and password.")
		return
	}
	if d, err := s.locked(ctx, r, name); err != nil {
		s.pages.InternalError(w, r, "sign-in lock", err)
		return
	} else if d > 0 {
		// Refused before the password is even looked at: a locked account
		// gives a guesser nothing.
		s.audit(r, "person:"+name, "signin_refused", "locked")
		zh, en := lockedMessage(d)
		show(http.StatusTooManyRequests, zh, en)
		return
	}
	acct, err := s.d.State.Account(ctx, name)
	if err != nil && !errors.Is(err, state.ErrNoAccount) {
		s.pages.InternalError(w, r, "account", err)
		return
	}
	hash := acct.PasswordHash
	if err != nil || hash == "" {
		hash = s.dummy // an unknown name takes as long as a known one
	}
	ok, herr := s.hash.check(ctx, hash, pw)
	if herr != nil && !errors.Is(herr, errBadHash) {
		s.pages.InternalError(w, r, "check password", herr)
		return
	}
	if err != nil || !ok || acct.PasswordHash == "" {
		zh, en := s.fail(r, name, "password")
		show(http.StatusUnauthorized, zh, en)
		return
	}
	if acct.Disabled {
		// The same answer as a wrong password: a disabled account's
		// password says nothing about the account.
		s.audit(r, "person:"+name, "signin_refused", "account disabled")
		show(http.StatusUnauthorized, "用户名或密码错误。", "Wrong user name or password.")
		return
	}
	stage := stageTOTP
	switch {
	case acct.MustChangePassword:
		stage = stagePassword
	case acct.TOTPSecret == "":
		stage = stageEnrol
	}
	if err := s.open(w, r, acct, stage, view.Next, s.cfg.StepTTL); err != nil {
		s.pages.InternalError(w, r, "open session", err)
		return
	}
	http.Redirect(w, r, AccountPrefix+stage, http.StatusSeeOther)
}

// open starts a session at stage with a new random id — never the id of
// a session the browser had (no fixation) — closing the old one.
func (s *Site) open(w http.ResponseWriter, r *http.Request, acct state.Account, stage, next string, ttl time.Duration) error {
	ctx := r.Context()
	if old := FromContext(ctx); old != nil && old.sid != "" {
		s.d.State.CloseSession(ctx, old.sid, old.sess.Account)
	}
	cookie, err1 := randomToken()
	csrf, err2 := randomToken()
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	now := time.Now()
	sess := state.Session{Account: acct.Name, Role: acct.Role, Epoch: acct.Epoch, Stage: stage, Next: next, CSRF: csrf,
		Created: now, Expires: now.Add(ttl), Idle: s.cfg.IdleTimeout}
	if stage != "" {
		// A sign-in in progress has its own short lifetime, however long
		// hashing a password or finding the phone takes.
		sess.Idle = 0
	}
	if err := s.d.State.OpenSession(ctx, sessionKey(cookie), sess); err != nil {
		return err
	}
	setCookie(w, cookie, int(ttl/time.Second))
	return nil
}

// stepVisitor is the session of a sign-in in progress.
type stepVisitor struct {
	sid  string
	sess state.Session
	acct state.Account
}

// step serves h only to a session waiting at stage (whose account is
// still there and enabled); a POST must carry its anti-forgery token.
func (s *Site) step(stage string, h func(http.ResponseWriter, *http.Request, *stepVisitor)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ck, err := r.Cookie(CookieName)
		if err != nil || ck.Value == "" || len(ck.Value) > 128 {
			http.Redirect(w, r, AccountPrefix+"signin", http.StatusSeeOther)
			return
		}
		sid := sessionKey(ck.Value)
		sess, err := s.d.State.Session(ctx, sid)
		if err != nil || sess.Stage != stage {
			http.Redirect(w, r, AccountPrefix+"signin", http.StatusSeeOther)
			return
		}
		acct, err := s.d.State.Account(ctx, sess.Account)
		if err != nil || acct.Disabled || acct.Epoch != sess.Epoch {
			s.d.State.CloseSession(ctx, sid, sess.Account)
			http.Redirect(w, r, AccountPrefix+"signin", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil || !validCSRF(r.PostForm.Get("csrf"), sess.CSRF) {
				s.Error(w, r, http.StatusForbidden, "表单缺少有效的防伪令牌，请重新登录。",
					"The form's anti-forgery token is missing or wrong; sign in again.")
				return
			}
		}
		h(w, r, &stepVisitor{sid: sid, sess: sess, acct: acct})
	}
}

type codeView struct {
	Name, CSRF       string
	ErrorZH, ErrorEN string
	// Secret is the base32 secret being enrolled, for people who cannot
	// scan the QR code.
	Secret string
	Issuer string
	Period int
}

func (s *Site) totpPage(w http.ResponseWriter, r *http.Request, sv *stepVisitor) {
	s.pages.Show(w, r, http.StatusOK, "totp", "验证码 Code", &codeView{Name: sv.acct.Name, CSRF: sv.sess.CSRF})
}

// totp checks the code of the second factor and signs the person in.
func (s *Site) totp(w http.ResponseWriter, r *http.Request, sv *stepVisitor) {
	ctx := r.Context()
	view := &codeView{Name: sv.acct.Name, CSRF: sv.sess.CSRF}
	if d, err := s.locked(ctx, r, sv.acct.Name); err != nil {
		s.pages.InternalError(w, r, "sign-in lock", err)
		return
	} else if d > 0 {
		s.d.State.CloseSession(ctx, sv.sid, sv.acct.Name)
		setCookie(w, "", 0)
		view.ErrorZH, view.ErrorEN = lockedMessage(d)
		s.pages.Show(w, r, http.StatusTooManyRequests, "signin", "登录 Sign in", &signinView{Name: sv.acct.Name, ErrorZH: view.ErrorZH, ErrorEN: view.ErrorEN})
		return
	}
	secret, err := s.seal.open(sv.acct.Name, sv.acct.TOTPSecret)
	if err != nil {
		s.pages.InternalError(w, r, "open second-factor secret", err)
		return
	}
	step, ok := checkCode(secret, r.PostForm.Get("code"), s.now())
	if ok {
		if ok, err = s.d.State.UseTOTPStep(ctx, sv.acct.Name, sv.acct.TOTPSecret, step); err != nil {
			s.pages.InternalError(w, r, "use code", err)
			return
		}
	}
	if !ok {
		view.ErrorZH, view.ErrorEN = s.fail(r, sv.acct.Name, "totp")
		if d, _ := s.locked(ctx, r, sv.acct.Name); d > 0 {
			s.d.State.CloseSession(ctx, sv.sid, sv.acct.Name)
			setCookie(w, "", 0)
			s.pages.Show(w, r, http.StatusTooManyRequests, "signin", "登录 Sign in", &signinView{Name: sv.acct.Name, ErrorZH: view.ErrorZH, ErrorEN: view.ErrorEN})
			return
		}
		s.pages.Show(w, r, http.StatusUnauthorized, "totp", "验证码 Code", view)
		return
	}
	s.signedIn(w, r, sv, "password and code")
}

// signedIn ends a sign-in: a new session id for the signed-in session,
// the account's failures forgotten, the sign-in audited.
func (s *Site) signedIn(w http.ResponseWriter, r *http.Request, sv *stepVisitor, how string) {
	ctx := r.Context()
	s.d.State.CloseSession(ctx, sv.sid, sv.acct.Name)
	acct, err := s.d.State.Account(ctx, sv.acct.Name)
	if err != nil {
		s.pages.InternalError(w, r, "account", err)
		return
	}
	if err := s.open(w, r, acct, "", sv.sess.Next, s.cfg.SessionTTL); err != nil {
		s.pages.InternalError(w, r, "open session", err)
		return
	}
	s.d.State.ClearSignIn(ctx, "account:"+acct.Name, false)
	s.audit(r, actorOf(acct), "signin", how)
	s.log.Info("people: signed in", "account", acct.Name, "role", acct.Role, "remote", s.d.ClientAddr(r))
	http.Redirect(w, r, safeNext(sv.sess.Next, acct.Role), http.StatusSeeOther)
}

func actorOf(a state.Account) string {
	return (&Visitor{Account: a.Name, Role: a.Role}).Actor()
}

// pendingKey returns the secret being enrolled, making and storing one
// (sealed, in the session) the first time.
func (s *Site) pendingKey(r *http.Request, sv *stepVisitor) (*otp.Key, error) {
	if sv.sess.Pending != "" {
		url, err := s.seal.open(sv.acct.Name, sv.sess.Pending)
		if err != nil {
			return nil, err
		}
		return otp.NewKeyFromURL(url)
	}
	k, err := newTOTPKey(s.cfg.Issuer, sv.acct.Name)
	if err != nil {
		return nil, err
	}
	sealed, err := s.seal.seal(sv.acct.Name, k.URL())
	if err != nil {
		return nil, err
	}
	if err := s.d.State.AdvanceSession(r.Context(), sv.sid, stageEnrol, sealed); err != nil {
		return nil, err
	}
	sv.sess.Pending = sealed
	return k, nil
}

func (s *Site) enrolPage(w http.ResponseWriter, r *http.Request, sv *stepVisitor) {
	k, err := s.pendingKey(r, sv)
	if err != nil {
		s.pages.InternalError(w, r, "enrolment key", err)
		return
	}
	s.pages.Show(w, r, http.StatusOK, "enrol", "设置验证器 Set up your authenticator",
		&codeView{Name: sv.acct.Name, CSRF: sv.sess.CSRF, Secret: groupSecret(k.Secret()), Issuer: s.cfg.Issuer, Period: totpPeriod})
}

// groupSecret spaces a base32 secret in groups of four, for typing.
func groupSecret(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// enrolQR serves the QR code of the secret being enrolled: never cached,
// and only to the session enrolling.
func (s *Site) enrolQR(w http.ResponseWriter, r *http.Request, sv *stepVisitor) {
	k, err := s.pendingKey(r, sv)
	if err != nil {
		s.pages.InternalError(w, r, "enrolment key", err)
		return
	}
	img, err := k.Image(240, 240)
	if err != nil {
		s.pages.InternalError(w, r, "qr code", err)
		return
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		s.pages.InternalError(w, r, "qr code", err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Write(b.Bytes())
}

// enrol checks a code of the secret being enrolled and makes it the
// account's second factor.
func (s *Site) enrol(w http.ResponseWriter, r *http.Request, sv *stepVisitor) {
	ctx := r.Context()
	k, err := s.pendingKey(r, sv)
	if err != nil {
		s.pages.InternalError(w, r, "enrolment key", err)
		return
	}
	step, ok := checkCode(k.Secret(), r.PostForm.Get("code"), s.now())
	if !ok {
		view := &codeView{Name: sv.acct.Name, CSRF: sv.sess.CSRF, Secret: groupSecret(k.Secret()), Issuer: s.cfg.Issuer, Period: totpPeriod}
		view.ErrorZH, view.ErrorEN = s.fail(r, sv.acct.Name, "totp")
		s.pages.Show(w, r, http.StatusUnauthorized, "enrol", "设置验证器 Set up your authenticator", view)
		return
	}
	sealed, err := s.seal.seal(sv.acct.Name, k.Secret())
	if err != nil {
		s.pages.InternalError(w, r, "seal secret", err)
		return
	}
	if _, err := s.d.State.UpdateAccount(ctx, sv.acct.Name, state.AccountChange{TOTPSecret: &sealed}); err != nil {
		s.pages.InternalError(w, r, "store secret", err)
		return
	}
	if _, err := s.d.State.UseTOTPStep(ctx, sv.acct.Name, sealed, step); err != nil {
		s.pages.InternalError(w, r, "use code", err)
		return
	}
	s.audit(r, actorOf(sv.acct), "totp_enrolled", "")
	s.signedIn(w, r, sv, "password and a code of the newly enrolled authenticator")
}

type passwordView struct {
	Name, CSRF       string
	ErrorZH, ErrorEN string
	Min              int
}

func (s *Site) passwordPage(w http.ResponseWriter, r *http.Request, sv *stepVisitor) {
	s.pages.Show(w, r, http.StatusOK, "password", "设置密码 Choose a password",
		&passwordView{Name: sv.acct.Name, CSRF: sv.sess.CSRF, Min: MinPasswordLen})
}

// password sets the password the person chose in place of the one handed
// out, then moves on to the second factor.
func (s *Site) password(w http.ResponseWriter, r *http.Request, sv *stepVisitor) {
	ctx := r.Context()
	pw, again := r.PostForm.Get("new"), r.PostForm.Get("again")
	view := &passwordView{Name: sv.acct.Name, CSRF: sv.sess.CSRF, Min: MinPasswordLen}
	bad := func(zh, en string) {
		view.ErrorZH, view.ErrorEN = zh, en
		s.pages.Show(w, r, http.StatusBadRequest, "password", "设置密码 Choose a password", view)
	}
	if pw != again {
		bad("两次输入的密码不一致。", "The two passwords differ.")
		return
	}
	if err := CheckNewPassword(sv.acct.Name, pw); err != nil {
		bad(fmt.Sprintf("密码至少 %d 个字符，最多 %d 个，且不能与用户名相同。", MinPasswordLen, MaxPasswordLen),
			fmt.Sprintf("A password has %d to %d characters and is not the user name.", MinPasswordLen, MaxPasswordLen))
		return
	}
	if ok, _ := s.hash.check(ctx, sv.acct.PasswordHash, pw); ok {
		bad("请设置一个新密码，不要沿用管理员提供的临时密码。", "Choose a new password, not the one you were given.")
		return
	}
	hash, err := HashPassword(pw, s.cfg.Argon2)
	if err != nil {
		s.pages.InternalError(w, r, "hash password", err)
		return
	}
	no := false
	if _, err := s.d.State.UpdateAccount(ctx, sv.acct.Name, state.AccountChange{PasswordHash: &hash, MustChangePassword: &no}); err != nil {
		s.pages.InternalError(w, r, "store password", err)
		return
	}
	s.audit(r, actorOf(sv.acct), "password_changed", "the one-time password replaced")
	next := stageTOTP
	if sv.acct.TOTPSecret == "" {
		next = stageEnrol
	}
	if err := s.d.State.AdvanceSession(ctx, sv.sid, next, ""); err != nil {
		s.pages.InternalError(w, r, "advance session", err)
		return
	}
	http.Redirect(w, r, AccountPrefix+next, http.StatusSeeOther)
}

// signout ends the session on the server and clears the cookie.
func (s *Site) signout(w http.ResponseWriter, r *http.Request) {
	v := FromContext(r.Context())
	if v.sid != "" {
		if !s.checkForm(w, r, v) {
			return
		}
		if err := s.d.State.CloseSession(r.Context(), v.sid, v.sess.Account); err != nil {
			s.pages.InternalError(w, r, "close session", err)
			return
		}
		s.audit(r, v.Actor(), "signout", "")
	}
	setCookie(w, "", 0)
	http.Redirect(w, r, AccountPrefix+"signin", http.StatusSeeOther)
}
