// Package peopletest signs test people in to `blindpack serve` the way a
// browser does — password, a password of their own, the second factor
// enrolled from the key on the page, codes from an authenticator — so
// that tests of the pages for people go through the real sign-in.
package peopletest

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/blindpack/blindpack/api/people"
	"github.com/blindpack/blindpack/state"
)

// Person is a test account and what its owner knows.
type Person struct {
	Name     string
	Role     state.Role
	Password string
	// Secret is the second factor's key, once enrolled.
	Secret   string
	lastStep int64
}

// Add makes an account with a one-time password, as `blindpack users add`
// does.
func Add(t testing.TB, st *state.Store, name string, role state.Role) *Person {
	t.Helper()
	pw, err := (&people.Accounts{State: st}).Add(context.Background(), name, role, "admin:test-setup")
	if err != nil {
		t.Fatal(err)
	}
	return &Person{Name: name, Role: role, Password: pw}
}

// Code is a code of the person's authenticator that the server has not
// seen yet: the current step's, or a later one within the one step of
// skew the server allows, waiting for the clock when both are used.
func (p *Person) Code(t testing.TB) string {
	t.Helper()
	for {
		now := time.Now()
		step := now.Unix() / 30
		use := max(step, p.lastStep+1)
		if use <= step+1 {
			p.lastStep = use
			code, err := totp.GenerateCodeCustom(p.Secret, time.Unix(use*30, 0), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
			if err != nil {
				t.Fatal(err)
			}
			return code
		}
		time.Sleep(time.Until(time.Unix((step+1)*30, 0)) + 50*time.Millisecond)
	}
}

// Client is a browser-like HTTP client: it keeps the session cookie
// (net/http/cookiejar would not send a __Host- cookie over the test
// server's plain HTTP; browsers do, to loopback) and does not follow
// redirects.
type Client struct {
	T      testing.TB
	Base   string
	HC     *http.Client
	Cookie string
}

// NewClient is a client of the server at base.
func NewClient(t testing.TB, base string) *Client {
	return &Client{T: t, Base: base, HC: &http.Client{Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Response is what came back.
type Response struct {
	Code    int
	Header  http.Header
	Body    string
	Cookies []*http.Cookie
}

// Do sends a request with the session cookie, if any; header holds name,
// value pairs.
func (c *Client) Do(method, p string, form url.Values, header ...string) Response {
	c.T.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.Base+p, body)
	if err != nil {
		c.T.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.Cookie != "" {
		req.AddCookie(&http.Cookie{Name: people.CookieName, Value: c.Cookie})
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.HC.Do(req)
	if err != nil {
		c.T.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	for _, ck := range resp.Cookies() {
		if ck.Name == people.CookieName {
			c.Cookie = ck.Value
			if ck.MaxAge < 0 {
				c.Cookie = ""
			}
		}
	}
	return Response{Code: resp.StatusCode, Header: resp.Header, Body: string(data), Cookies: resp.Cookies()}
}

var (
	csrfRE   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	secretRE = regexp.MustCompile(`<code id="secret"[^>]*>([A-Z2-7 ]+)</code>`)
)

// CSRF is the anti-forgery token in a page.
func CSRF(t testing.TB, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no anti-forgery token in the page")
	}
	return html.UnescapeString(m[1])
}

// SignIn signs p in through every step the server asks for — the first
// time choosing a password and enrolling the second factor — and returns
// the signed-in session's anti-forgery token, read from the page the
// server lands on.
func (c *Client) SignIn(p *Person) string {
	c.T.Helper()
	r := c.Do("POST", "/account/signin", url.Values{"user": {p.Name}, "password": {p.Password}})
	for range 4 {
		if r.Code != http.StatusSeeOther {
			c.T.Fatalf("sign-in of %s: %d %.300s", p.Name, r.Code, r.Body)
		}
		loc := r.Header.Get("Location")
		if !strings.HasPrefix(loc, people.AccountPrefix) {
			page := c.Do("GET", loc, nil)
			if page.Code != http.StatusOK {
				c.T.Fatalf("after sign-in, %s: %d", loc, page.Code)
			}
			return CSRF(c.T, page.Body)
		}
		page := c.Do("GET", loc, nil)
		if page.Code != http.StatusOK {
			c.T.Fatalf("%s: %d", loc, page.Code)
		}
		csrf := CSRF(c.T, page.Body)
		switch strings.TrimPrefix(loc, people.AccountPrefix) {
		case "password":
			p.Password = "pw-" + p.Name + "-chosen"
			r = c.Do("POST", loc, url.Values{"csrf": {csrf}, "new": {p.Password}, "again": {p.Password}})
		case "enrol":
			m := secretRE.FindStringSubmatch(page.Body)
			if m == nil {
				c.T.Fatalf("no key on the enrolment page")
			}
			p.Secret, p.lastStep = strings.ReplaceAll(m[1], " ", ""), 0
			r = c.Do("POST", loc, url.Values{"csrf": {csrf}, "code": {p.Code(c.T)}})
		case "totp":
			r = c.Do("POST", loc, url.Values{"csrf": {csrf}, "code": {p.Code(c.T)}})
		default:
			c.T.Fatalf("sign-in went to %s", loc)
		}
	}
	c.T.Fatalf("sign-in of %s did not end", p.Name)
	return ""
}
