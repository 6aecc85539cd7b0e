package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindpack/blindpack/api/console"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/state"
)

// route is one console URL as the tests call it.
type route struct {
	pattern, method, path string
}

// routes has a request for every route the console registers (checked
// against the console's own list, so that a new route cannot miss the
// role tests).
func routes(sub string) []route {
	base := "/console/submissions/" + sub
	return []route{
		{"GET /console/login", "GET", "/console/login"},
		{"POST /console/login", "POST", "/console/login"},
		{"GET /console/assets/{name}", "GET", "/console/assets/console.css"},
		{"POST /console/logout", "POST", "/console/logout"},
		{"GET /console/{$}", "GET", "/console/"},
		{"GET /console/submissions/{id}", "GET", base},
		{"GET /console/submissions/{id}/status", "GET", base + "/status"},
		{"GET /console/submissions/{id}/thumbs/{material}/{page}", "GET", base + "/thumbs/1/1"},
		{"GET /console/submissions/{id}/pages/{material}/{page}", "GET", base + "/pages/1/1"},
		{"GET /console/submissions/{id}/pages/{material}/{page}/image", "GET", base + "/pages/1/1/image"},
		{"POST /console/submissions/{id}/reprocess", "POST", base + "/reprocess"},
		{"POST /console/submissions/{id}/rerun", "POST", base + "/rerun"},
		{"/console/", "GET", "/console/no-such-page"},
	}
}

// securityHeaders are what every console answer must carry.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	"X-Content-Type-Options": "nosniff",
	"X-Frame-Options":        "DENY",
	"Cache-Control":          "no-store",
	"Referrer-Policy":        "same-origin",
}

func checkHeaders(t *testing.T, what string, r response) {
	t.Helper()
	for k, want := range securityHeaders {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s: %s = %q, want %q", what, k, got, want)
		}
	}
}

// TestConsole drives the console over HTTP against the real worker, Redis
// and S3 server: roles, sign-in, anti-forgery, escaping, audited views,
// actions with their confirmation, filters, sign-out.
func TestConsole(t *testing.T) {
	e := newEnv(t)

	// A: the work summary blurred, returned by the clarity check.
	docA, dirA := applicant(t, "A1", "A1-r1", true, nil)
	repA := e.submit(docA, dirA)
	if repA.Status != pipeline.Rejected {
		t.Fatalf("A1-r1: %s", repA.Status)
	}
	// X: every field the applicant controls that the console shows is
	// hostile: a material type and a file name that are HTML.
	const hostileType, hostileFile = `<img src=x onerror=alert(1)>`, `"><img src=y onerror=alert(2)>.png`
	docX, dirX := applicant(t, "X1", "X1-r1", false, func(sub *pipeline.Submission, dir string) {
		for i, m := range sub.Materials {
			if m.Type == "degree_certificate" {
				os.Rename(filepath.Join(dir, m.File), filepath.Join(dir, hostileFile))
				sub.Materials[i].File = hostileFile
			}
			if m.Type == "title_certificate" || m.Type == "current_title_certificate" {
				sub.Materials[i].Type = hostileType
			}
		}
	})
	if rep := e.submit(docX, dirX); rep.Status != pipeline.Rejected {
		t.Fatalf("X1-r1: %s", rep.Status)
	}
	// F: a task that failed for good.
	docF, dirF := applicant(t, "F1", "F1-r1", false, nil)
	e.stage(docF, dirF)

	admin := e.client()

	t.Run("every route refuses other roles", func(t *testing.T) {
		c, err := console.New(console.Config{}, console.Deps{Buckets: e.buckets, Queue: e.queue, Inspector: e.insp, State: e.state,
			Authenticate: func(string) (console.Principal, bool) { return console.Principal{}, false },
			Lookup:       func(string) (console.Principal, bool) { return console.Principal{}, false }})
		if err != nil {
			t.Fatal(err)
		}
		var covered []string
		for _, r := range routes("A1-r1") {
			covered = append(covered, r.pattern)
		}
		for _, p := range c.Patterns() {
			if !slices.Contains(covered, p) {
				t.Errorf("route %q is not in the tests' table", p)
			}
		}
		before := len(e.trail("2024", "A1"))
		for _, role := range []string{"reviewer", "upload"} {
			for _, r := range routes("A1-r1") {
				t.Run(role+" "+r.method+" "+r.path, func(t *testing.T) {
					var form url.Values
					if r.method == "POST" {
						form = url.Values{"token": {e.tok[role]}, "page": {"1:1"}, "reason": {"x"}, "confirm": {"yes"}}
					}
					res := e.client().do(r.method, r.path, form, "Authorization", "Bearer "+e.tok[role])
					if res.code != http.StatusForbidden {
						t.Fatalf("%d, want 403", res.code)
					}
					checkHeaders(t, r.path, res)
					if len(res.cookies) > 0 {
						t.Errorf("a cookie was set: %v", res.cookies)
					}
				})
			}
			// Pasting the token into the login form is refused too.
			res := e.client().do("POST", "/console/login", url.Values{"token": {e.tok[role]}})
			if res.code != http.StatusForbidden || len(res.cookies) > 0 {
				t.Errorf("%s signs in: %d, cookies %v", role, res.code, res.cookies)
			}
		}
		if after := len(e.trail("2024", "A1")); after != before {
			t.Errorf("other roles left %d audit events", after-before)
		}
	})

	t.Run("without signing in", func(t *testing.T) {
		for _, r := range routes("A1-r1") {
			t.Run(r.method+" "+r.path, func(t *testing.T) {
				var form url.Values
				if r.method == "POST" {
					form = url.Values{}
				}
				res := e.client().do(r.method, r.path, form)
				want := http.StatusSeeOther // a browser is sent to the login form
				switch {
				case r.pattern == "GET /console/login" || r.pattern == "GET /console/assets/{name}":
					want = http.StatusOK
				case r.pattern == "/console/":
					want = http.StatusNotFound
				case r.method == "POST" || strings.HasSuffix(r.path, "/status"):
					want = http.StatusUnauthorized
				}
				if res.code != want {
					t.Fatalf("%d, want %d", res.code, want)
				}
				if want == http.StatusSeeOther && res.header.Get("Location") != "/console/login" {
					t.Errorf("redirected to %q", res.header.Get("Location"))
				}
				checkHeaders(t, r.path, res)
			})
		}
		if res := e.client().do("GET", "/console/", nil, "Authorization", "Bearer bp_not-a-token"); res.code != http.StatusUnauthorized {
			t.Errorf("unknown bearer token: %d", res.code)
		}
		if res := e.client().do("POST", "/console/login", url.Values{"token": {"bp_not-a-token"}}); res.code != http.StatusUnauthorized || len(res.cookies) > 0 {
			t.Errorf("unknown token in the form: %d %v", res.code, res.cookies)
		}
		if res := e.client().do("GET", "/console", nil); res.code/100 != 3 || res.header.Get("Location") != "/console/" {
			t.Errorf("/console: %d %q", res.code, res.header.Get("Location"))
		}
	})

	var csrf string
	t.Run("sign in", func(t *testing.T) {
		res := admin.do("POST", "/console/login", url.Values{"token": {e.tok["admin"]}})
		if res.code != http.StatusSeeOther {
			t.Fatalf("%d %s", res.code, res.body)
		}
		var ck *http.Cookie
		for _, c := range res.cookies {
			if c.Name == console.CookieName {
				ck = c
			}
		}
		if ck == nil || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console/" ||
			ck.MaxAge != 8*3600 || len(ck.Value) < 40 {
			t.Fatalf("session cookie %+v", ck)
		}
		if strings.Contains(ck.Value, e.tok["admin"]) {
			t.Fatal("the cookie carries the token")
		}
		res = admin.do("GET", "/console/", nil)
		if res.code != http.StatusOK || !strings.Contains(res.body, "admin:wang.li") {
			t.Fatalf("list: %d", res.code)
		}
		checkHeaders(t, "list", res)
		csrf = csrfOf(t, res.body)
		// Already signed in, the login form sends the browser on.
		if res := admin.do("GET", "/console/login", nil); res.code != http.StatusSeeOther {
			t.Errorf("login page when signed in: %d", res.code)
		}
		for name, want := range map[string]string{"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"} {
			if res := admin.do("GET", "/console/assets/"+name, nil); res.code != 200 || res.header.Get("Content-Type") != want {
				t.Errorf("%s: %d %s", name, res.code, res.header.Get("Content-Type"))
			}
		}
		if res := admin.do("GET", "/console/assets/layout.html", nil); res.code != http.StatusNotFound {
			t.Errorf("a template served as an asset: %d", res.code)
		}
	})

	t.Run("anti-forgery", func(t *testing.T) {
		before := len(e.trail("2024", "A1"))
		for _, tc := range []struct {
			name   string
			form   url.Values
			header []string
		}{
			{"no token", url.Values{"confirm": {"yes"}}, nil},
			{"wrong token", url.Values{"confirm": {"yes"}, "csrf": {csrf + "x"}}, nil},
			{"another session's token", url.Values{"confirm": {"yes"}, "csrf": {e.client().login(e.tok["admin"])}}, nil},
			{"cross-site", url.Values{"confirm": {"yes"}, "csrf": {csrf}}, []string{"Sec-Fetch-Site", "cross-site"}},
			{"foreign origin", url.Values{"confirm": {"yes"}, "csrf": {csrf}}, []string{"Origin", "https://attacker.example"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for _, p := range []string{"/console/submissions/A1-r1/reprocess", "/console/submissions/F1-r1/rerun", "/console/logout"} {
					if res := admin.do("POST", p, tc.form, tc.header...); res.code != http.StatusForbidden {
						t.Errorf("%s: %d, want 403", p, res.code)
					}
				}
			})
		}
		if after := len(e.trail("2024", "A1")); after != before {
			t.Errorf("refused forms left %d audit events", after-before)
		}
		if res := admin.do("GET", "/console/", nil); res.code != http.StatusOK {
			t.Errorf("the session did not survive: %d", res.code)
		}
	})

	pages := map[string]string{}
	t.Run("submission page", func(t *testing.T) {
		res := admin.do("GET", "/console/submissions/A1-r1", nil)
		if res.code != http.StatusOK {
			t.Fatalf("%d", res.code)
		}
		pages["submission"] = res.body
		for _, want := range []string{
			`data-state="rejected"`, `<b>1</b> / 3`, "2024-09-22 10:00", "blurry", "图像模糊",
			repA.Findings[0].MessageZH, repA.Findings[0].MessageEN, `name="page" value="1:1"`,
			`/console/submissions/A1-r1/thumbs/1/1`, `/console/submissions/A1-r1/pages/1/1`, "rejected",
		} {
			if !strings.Contains(res.body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		if !strings.Contains(res.body, `class="thumb fail" data-page="2:1"`) {
			t.Error("the blurry page is not outlined")
		}
		for _, f := range repA.Findings {
			if f.Code == finding.Blurry && !strings.Contains(res.body, f.Measured.String()+" vs "+f.Threshold.String()) {
				t.Errorf("the label lacks %s vs %s", f.Measured, f.Threshold)
			}
		}
	})

	t.Run("views of originals are audited", func(t *testing.T) {
		count := func() (n int, last state.Event) {
			for _, ev := range e.trail("2024", "A1") {
				if ev.Action == "viewed" {
					if n == 0 {
						last = ev
					}
					n++
				}
			}
			return n, last
		}
		n0, _ := count()
		for range 3 {
			if res := admin.do("GET", "/console/submissions/A1-r1/thumbs/1/1", nil); res.code != 200 || res.header.Get("Content-Type") != "image/png" {
				t.Fatalf("thumbnail: %d %s", res.code, res.header.Get("Content-Type"))
			}
		}
		n1, ev := count()
		if n1 != n0+1 || ev.Actor != "admin:wang.li" || !strings.Contains(ev.Detail, "thumbnails") || !strings.HasPrefix(ev.From, "127.0.0.1:") {
			t.Errorf("thumbnails audited %d times: %+v", n1-n0, ev)
		}
		res := admin.do("GET", "/console/submissions/A1-r1/pages/1/1", nil)
		if res.code != 200 || !strings.Contains(res.body, `src="/console/submissions/A1-r1/pages/1/1/image"`) {
			t.Fatalf("page view: %d", res.code)
		}
		pages["page"] = res.body
		for i := range 2 {
			res := admin.do("GET", "/console/submissions/A1-r1/pages/1/1/image", nil)
			if res.code != 200 || res.header.Get("Content-Type") != "image/jpeg" || len(res.body) < 10000 {
				t.Fatalf("image: %d %s %d bytes", res.code, res.header.Get("Content-Type"), len(res.body))
			}
			n, ev := count()
			if n != n1+i+1 || ev.Submission != "A1-r1" || ev.Detail != "material 1 (performance_summary) page 1: original, masks outlined" ||
				!strings.HasPrefix(ev.From, "127.0.0.1:") || ev.Actor != "admin:wang.li" {
				t.Errorf("view %d: %d events, last %+v", i+1, n-n1, ev)
			}
		}
		for _, p := range []string{"/console/submissions/A1-r1/pages/99/1/image", "/console/submissions/A1-r1/pages/1/9/image",
			"/console/submissions/A1-r1/thumbs/1/9", "/console/submissions/nobody-r1/pages/1/1", "/console/submissions/..%2f..%2fx/pages/1/1"} {
			if res := admin.do("GET", p, nil); res.code != http.StatusNotFound {
				t.Errorf("%s: %d", p, res.code)
			}
		}
	})

	t.Run("submission-controlled text is escaped and the name never shown", func(t *testing.T) {
		res := admin.do("GET", "/console/submissions/X1-r1", nil)
		if res.code != 200 {
			t.Fatalf("%d", res.code)
		}
		pages["hostile"] = res.body
		for _, want := range []string{"&lt;img src=x onerror=alert(1)&gt;", "&#34;&gt;&lt;img src=y onerror=alert(2)&gt;.png", "unknown_material_type"} {
			if !strings.Contains(res.body, want) {
				t.Errorf("the page lacks the escaped %q", want)
			}
		}
		for _, bad := range []string{hostileType, "<img src=y", `"><img src=y`} {
			if strings.Contains(res.body, bad) {
				t.Errorf("unescaped %q in the page", bad)
			}
		}
		if n := strings.Count(res.body, "<script"); n != 1 {
			t.Errorf("%d script elements, want the console's own", n)
		}
		// Every page the console has shown, and its confirmation and status
		// answers: no trace of the name, raw or escaped.
		pages["list"] = admin.do("GET", "/console/", nil).body
		pages["confirm"] = admin.do("POST", "/console/submissions/X1-r1/reprocess", url.Values{"csrf": {csrf}}).body
		pages["status"] = admin.do("GET", "/console/submissions/X1-r1/status", nil).body
		pages["failed"] = admin.do("GET", "/console/submissions/F1-r1", nil).body
		for name, body := range pages {
			for _, form := range []string{"张三丰", "alert(&#34;", "alert(\"", "&lt;script&gt;", "\\u003cscript"} {
				if strings.Contains(body, form) {
					t.Errorf("the %s page carries the applicant's name (%q)", name, form)
				}
			}
		}
	})

	t.Run("re-run a failed task", func(t *testing.T) {
		res := admin.do("GET", "/console/submissions/F1-r1", nil)
		if res.code != 200 || !strings.Contains(res.body, `data-state="failed"`) || !strings.Contains(res.body, `name="task" value="F1-r1"`) {
			t.Fatalf("failed submission page: %d", res.code)
		}
		form := url.Values{"csrf": {csrf}, "queue": {"default"}, "task": {"F1-r1"}}
		res = admin.do("POST", "/console/submissions/F1-r1/rerun", form)
		if res.code != 200 || !strings.Contains(res.body, `name="confirm" value="yes"`) || !strings.Contains(res.body, "重新运行") {
			t.Fatalf("no confirmation step: %d", res.code)
		}
		for _, bad := range []url.Values{
			{"csrf": {csrf}, "queue": {"default"}, "task": {"A1-r1"}, "confirm": {"yes"}}, // another submission's task
			{"csrf": {csrf}, "queue": {"nosuch"}, "task": {"F1-r1"}, "confirm": {"yes"}},
		} {
			if res := admin.do("POST", "/console/submissions/F1-r1/rerun", bad); res.code < 400 {
				t.Errorf("rerun %v: %d", bad, res.code)
			}
		}
		form.Set("confirm", "yes")
		res = admin.do("POST", "/console/submissions/F1-r1/rerun", form)
		if res.code != http.StatusSeeOther || res.header.Get("Location") != "/console/submissions/F1-r1?queue=default&task=F1-r1" {
			t.Fatalf("rerun: %d %q", res.code, res.header.Get("Location"))
		}
		if res := admin.do("GET", res.header.Get("Location"), nil); !strings.Contains(res.body, `id="follow"`) {
			t.Error("the page does not follow the task")
		}
		waitDone(t, admin, "/console/submissions/F1-r1/status?queue=default&task=F1-r1")
		if rep := e.report("2024", "F1", "F1-r1", nil); rep.Status != pipeline.Accepted {
			t.Errorf("after the re-run: %s", rep.Status)
		}
		var audited bool
		for _, ev := range e.trail("2024", "F1") {
			audited = audited || ev.Action == "rerun_requested" && ev.Actor == "admin:wang.li" && strings.HasPrefix(ev.From, "127.0.0.1:")
		}
		if !audited {
			t.Error("the re-run is not audited")
		}
		// Done: nothing left to re-run.
		if res := admin.do("POST", "/console/submissions/F1-r1/rerun", form); res.code != http.StatusConflict {
			t.Errorf("re-running a completed task: %d", res.code)
		}
	})

	t.Run("accept a page and reprocess", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			form url.Values
			want int
		}{
			{"no reason", url.Values{"page": {"1:1"}, "confirm": {"yes"}}, 400},
			{"not a page", url.Values{"page": {"x"}, "reason": {"ok"}, "confirm": {"yes"}}, 400},
			{"no such material", url.Values{"page": {"40:1"}, "reason": {"ok"}, "confirm": {"yes"}}, 400},
			{"reason too long", url.Values{"page": {"1:1"}, "reason": {strings.Repeat("字", 501)}, "confirm": {"yes"}}, 400},
			{"NUL in the reason", url.Values{"page": {"1:1"}, "reason": {"ok\x00"}, "confirm": {"yes"}}, 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.form.Set("csrf", csrf)
				if res := admin.do("POST", "/console/submissions/A1-r1/reprocess", tc.form); res.code != tc.want {
					t.Errorf("%d, want %d", res.code, tc.want)
				}
			})
		}
		form := url.Values{"csrf": {csrf}, "page": {"1:1"}, "reason": {"字迹可辨 <i>legible</i>"}}
		res := admin.do("POST", "/console/submissions/A1-r1/reprocess", form)
		if res.code != 200 || !strings.Contains(res.body, "字迹可辨 &lt;i&gt;legible&lt;/i&gt;") || !strings.Contains(res.body, `value="1:1"`) {
			t.Fatalf("confirmation: %d", res.code)
		}
		if slices.ContainsFunc(e.trail("2024", "A1"), func(ev state.Event) bool { return ev.Action == "reprocess" }) {
			t.Fatal("queued before the confirmation")
		}
		form.Set("confirm", "yes")
		res = admin.do("POST", "/console/submissions/A1-r1/reprocess", form)
		loc := res.header.Get("Location")
		if res.code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/submissions/A1-r1?queue=critical&task=A1-r1%3Areprocess%3A") {
			t.Fatalf("reprocess: %d %q", res.code, loc)
		}
		u, _ := url.Parse(loc)
		waitDone(t, admin, "/console/submissions/A1-r1/status?"+u.RawQuery)
		rep := e.report("2024", "A1", "A1-r1", nil)
		if rep.Status != pipeline.Accepted || len(rep.Overrides) != 1 || rep.Overrides[0].By != "admin:wang.li" {
			t.Fatalf("after the override: %s %+v", rep.Status, rep.Overrides)
		}
		res = admin.do("GET", "/console/submissions/A1-r1", nil)
		if !strings.Contains(res.body, `data-state="accepted"`) || !strings.Contains(res.body, `<b>0</b> / 3`) {
			t.Error("the page does not show the acceptance")
		}
		var actions []string
		for _, ev := range e.trail("2024", "A1") {
			actions = append(actions, ev.Action)
			if ev.Action == "override" && (ev.Actor != "admin:wang.li" || !strings.Contains(ev.Detail, "字迹可辨")) {
				t.Errorf("override event %+v", ev)
			}
			if ev.Action == "reprocess_requested" && !strings.HasPrefix(ev.From, "127.0.0.1:") {
				t.Errorf("request event %+v", ev)
			}
		}
		if len(actions) < 4 || !slices.Equal(actions[:4], []string{"accepted", "reprocess_requested", "override", "reprocess"}) {
			t.Errorf("audit trail %v", actions)
		}
	})

	t.Run("list and filters", func(t *testing.T) {
		for _, tc := range []struct {
			query      string
			want, not  []string
			countsWant []string
		}{
			{"", []string{`data-submission="X1-r1"`}, []string{`data-submission="A1-r1"`}, []string{`data-code="unknown_material_type"`}},
			{"?code=unknown_material_type", []string{`data-submission="X1-r1"`}, nil, nil},
			{"?code=blurry", nil, []string{`data-submission="X1-r1"`}, nil},
			{"?status=refused", nil, []string{`data-submission="X1-r1"`}, nil},
			{"?status=returned&series=engineering&level=intermediate&campaign=2024", []string{`data-submission="X1-r1"`}, nil, nil},
			{"?level=junior", nil, []string{`data-submission="X1-r1"`}, nil},
			{"?since=2024-09-21", nil, []string{`data-submission="X1-r1"`}, nil},
			{"?since=2024-09-20&until=2024-09-20", []string{`data-submission="X1-r1"`}, nil, nil},
			{"?status=failed", nil, []string{`data-submission="X1-r1"`}, nil},
			{"?campaign=../x&code=<b>", []string{"已忽略无效的筛选条件", `data-submission="X1-r1"`}, nil, nil},
		} {
			t.Run(tc.query, func(t *testing.T) {
				res := admin.do("GET", "/console/"+tc.query, nil)
				if res.code != 200 {
					t.Fatalf("%d", res.code)
				}
				for _, w := range append(tc.want, tc.countsWant...) {
					if !strings.Contains(res.body, w) {
						t.Errorf("lacks %s", w)
					}
				}
				for _, n := range tc.not {
					if strings.Contains(res.body, n) {
						t.Errorf("has %s", n)
					}
				}
			})
		}
	})

	t.Run("sign out", func(t *testing.T) {
		old := admin.cookie
		res := admin.do("POST", "/console/logout", url.Values{"csrf": {csrf}})
		if res.code != http.StatusSeeOther || res.header.Get("Location") != "/console/login" || admin.cookie != "" {
			t.Fatalf("logout: %d %q, cookie %q", res.code, res.header.Get("Location"), admin.cookie)
		}
		admin.cookie = old // the old cookie, replayed, opens nothing
		if res := admin.do("GET", "/console/", nil); res.code != http.StatusSeeOther {
			t.Errorf("after logout: %d", res.code)
		}
	})

	t.Run("bearer header instead of a session", func(t *testing.T) {
		c := e.client()
		res := c.do("GET", "/console/submissions/A1-r1", nil, "Authorization", "Bearer "+e.tok["admin"])
		if res.code != 200 {
			t.Fatalf("%d", res.code)
		}
		// A bearer header is never sent by a browser on its own: no session,
		// no anti-forgery token needed (nor given).
		if strings.Contains(res.body, `name="csrf"`) && csrfOf(t, res.body) != "" {
			t.Error("an anti-forgery token without a session")
		}
	})
}

// waitDone polls a status URL as the page does, until its task is done.
func waitDone(t *testing.T, c *client, statusURL string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		res := c.do("GET", statusURL, nil)
		var s struct {
			Done      bool   `json:"done"`
			TaskState string `json:"task_state"`
		}
		if res.code != 200 || json.Unmarshal([]byte(res.body), &s) != nil {
			t.Fatalf("status: %d %s", res.code, res.body)
		}
		if s.Done {
			if s.TaskState != "completed" {
				t.Fatalf("task %s", s.TaskState)
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: not done", statusURL)
}

// TestSessions: a session ends when it expires, and when its token leaves
// the tokens file, whatever the cookie says.
func TestSessions(t *testing.T) {
	e := newEnv(t)
	valid := map[string]bool{"tok-admin": true}
	who := func(tok string) (console.Principal, bool) {
		p := console.Principal{Administrator: true, Role: "administrator", Subject: "li.na", Actor: "admin:li.na", TokenID: "id-" + tok}
		return p, valid[tok]
	}
	for _, tc := range []struct {
		name  string
		ttl   time.Duration
		after func()
	}{
		{"expired", time.Second, func() { time.Sleep(1500 * time.Millisecond) }},
		{"token revoked", time.Hour, func() { delete(valid, "tok-admin") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			valid["tok-admin"] = true
			c, err := console.New(console.Config{SessionTTL: tc.ttl}, console.Deps{Buckets: e.buckets, Queue: e.queue, Inspector: e.insp, State: e.state,
				Authenticate: who, Lookup: func(id string) (console.Principal, bool) { return who(strings.TrimPrefix(id, "id-")) }})
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle(console.Prefix, c.Handler())
			srv := e.srv
			ts := newServer(t, mux)
			e.srv = ts
			defer func() { e.srv = srv }()
			cl := e.client()
			cl.login("tok-admin")
			if res := cl.do("GET", "/console/", nil); res.code != 200 {
				t.Fatalf("signed in: %d", res.code)
			}
			tc.after()
			if res := cl.do("GET", "/console/", nil); res.code != http.StatusSeeOther {
				t.Errorf("%s: %d, want the login form", tc.name, res.code)
			}
		})
	}
	if err := (console.Config{SessionTTL: 25 * time.Hour}).Validate(); err == nil {
		t.Error("a 25-hour session is accepted")
	}
}
