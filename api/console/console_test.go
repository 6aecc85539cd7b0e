package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindpack/blindpack/api"
	"github.com/blindpack/blindpack/api/console"
	"github.com/blindpack/blindpack/api/people"
	"github.com/blindpack/blindpack/internal/peopletest"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/workers"
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
		{"GET /console/{$}", "GET", "/console/"},
		{"GET /console/submissions/{id}", "GET", base},
		{"GET /console/submissions/{id}/status", "GET", base + "/status"},
		{"GET /console/submissions/{id}/thumbs/{material}/{page}", "GET", base + "/thumbs/1/1"},
		{"GET /console/submissions/{id}/pages/{material}/{page}", "GET", base + "/pages/1/1"},
		{"GET /console/submissions/{id}/pages/{material}/{page}/image", "GET", base + "/pages/1/1/image"},
		{"POST /console/submissions/{id}/reprocess", "POST", base + "/reprocess"},
		{"POST /console/submissions/{id}/rerun", "POST", base + "/rerun"},
		{"GET /console/submissions/{id}/held/{page}/image", "GET", base + "/held/2/image"},
		{"POST /console/submissions/{id}/release", "POST", base + "/release"},
		{"POST /console/submissions/{id}/return", "POST", base + "/return"},
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

func checkHeaders(t *testing.T, what string, r peopletest.Response) {
	t.Helper()
	for k, want := range securityHeaders {
		if got := r.Header.Get(k); got != want {
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
		c, err := console.New(console.Config{}, console.Deps{Buckets: e.buckets, Queue: e.queue, Inspector: e.insp, State: e.state, Site: e.site})
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
		// A reviewer signed in to the portal, with a valid anti-forgery
		// token of their own session, is refused on every console URL.
		rev := e.client()
		revCSRF := rev.SignIn(e.person["reviewer"])
		for _, r := range routes("A1-r1") {
			t.Run("reviewer "+r.method+" "+r.path, func(t *testing.T) {
				var form url.Values
				if r.method == "POST" {
					form = url.Values{"csrf": {revCSRF}, "page": {"1:1"}, "reason": {"x"}, "confirm": {"yes"}}
				}
				res := rev.Do(r.method, r.path, form)
				if res.Code != http.StatusForbidden {
					t.Fatalf("%d, want 403", res.Code)
				}
				checkHeaders(t, r.path, res)
				if len(res.Cookies) > 0 {
					t.Errorf("a cookie was set: %v", res.Cookies)
				}
			})
		}
		// Bearer tokens are for machines: an administrator's token opens
		// no console page.
		for _, tok := range []string{e.tok["admin"], e.tok["upload"]} {
			if res := e.client().Do("GET", "/console/submissions/A1-r1", nil, "Authorization", "Bearer "+tok); res.Code != http.StatusSeeOther {
				t.Errorf("a bearer token: %d", res.Code)
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
				res := e.client().Do(r.method, r.path, form)
				want := http.StatusSeeOther // a browser is sent to the sign-in form
				if r.method == "POST" {
					want = http.StatusUnauthorized
				}
				if res.Code != want {
					t.Fatalf("%d, want %d", res.Code, want)
				}
				if want == http.StatusSeeOther && res.Header.Get("Location") != "/account/signin?next="+url.QueryEscape(r.path) {
					t.Errorf("redirected to %q", res.Header.Get("Location"))
				}
				checkHeaders(t, r.path, res)
			})
		}
		// The page's poll, signed out, gets 401 (the script reloads).
		if res := e.client().Do("GET", "/console/submissions/A1-r1/status", nil, "Accept", "application/json"); res.Code != http.StatusUnauthorized {
			t.Errorf("status poll signed out: %d", res.Code)
		}
		if res := e.client().Do("GET", "/console", nil); res.Code/100 != 3 || res.Header.Get("Location") != "/console/" {
			t.Errorf("/console: %d %q", res.Code, res.Header.Get("Location"))
		}
	})

	var csrf string
	t.Run("sign in", func(t *testing.T) {
		csrf = admin.SignIn(e.person["admin"])
		if len(admin.Cookie) < 40 {
			t.Fatalf("session cookie %q", admin.Cookie)
		}
		res := admin.Do("GET", "/console/", nil)
		if res.Code != http.StatusOK || !strings.Contains(res.Body, "admin:wang.li") {
			t.Fatalf("list: %d", res.Code)
		}
		checkHeaders(t, "list", res)
		// Already signed in, the sign-in form sends the browser on.
		if res := admin.Do("GET", "/account/signin", nil); res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/console/" {
			t.Errorf("sign-in page when signed in: %d %s", res.Code, res.Header.Get("Location"))
		}
		for name, want := range map[string]string{"site.css": "text/css; charset=utf-8", "site.js": "text/javascript; charset=utf-8"} {
			if res := admin.Do("GET", "/assets/"+name, nil); res.Code != 200 || res.Header.Get("Content-Type") != want {
				t.Errorf("%s: %d %s", name, res.Code, res.Header.Get("Content-Type"))
			}
		}
		if res := admin.Do("GET", "/assets/layout.html", nil); res.Code != http.StatusNotFound {
			t.Errorf("a template served as an asset: %d", res.Code)
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
			{"another session's token", url.Values{"confirm": {"yes"}, "csrf": {e.client().SignIn(e.person["admin2"])}}, nil},
			{"cross-site", url.Values{"confirm": {"yes"}, "csrf": {csrf}}, []string{"Sec-Fetch-Site", "cross-site"}},
			{"foreign origin", url.Values{"confirm": {"yes"}, "csrf": {csrf}}, []string{"Origin", "https://attacker.example"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for _, p := range []string{"/console/submissions/A1-r1/reprocess", "/console/submissions/F1-r1/rerun", "/account/signout"} {
					if res := admin.Do("POST", p, tc.form, tc.header...); res.Code != http.StatusForbidden {
						t.Errorf("%s: %d, want 403", p, res.Code)
					}
				}
			})
		}
		if after := len(e.trail("2024", "A1")); after != before {
			t.Errorf("refused forms left %d audit events", after-before)
		}
		if res := admin.Do("GET", "/console/", nil); res.Code != http.StatusOK {
			t.Errorf("the session did not survive: %d", res.Code)
		}
	})

	pages := map[string]string{}
	t.Run("submission page", func(t *testing.T) {
		res := admin.Do("GET", "/console/submissions/A1-r1", nil)
		if res.Code != http.StatusOK {
			t.Fatalf("%d", res.Code)
		}
		pages["submission"] = res.Body
		for _, want := range []string{
			`data-state="rejected"`, `<b>1</b> / 3`, "2024-09-22 10:00", "blurry", "图像模糊",
			repA.Findings[0].MessageZH, repA.Findings[0].MessageEN, `name="page" value="1:1"`,
			`/console/submissions/A1-r1/thumbs/1/1`, `/console/submissions/A1-r1/pages/1/1`, "rejected",
		} {
			if !strings.Contains(res.Body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		if !strings.Contains(res.Body, `class="thumb fail" data-page="2:1"`) {
			t.Error("the blurry page is not outlined")
		}
		for _, f := range repA.Findings {
			if f.Code == finding.Blurry && !strings.Contains(res.Body, f.Measured.String()+" vs "+f.Threshold.String()) {
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
			if res := admin.Do("GET", "/console/submissions/A1-r1/thumbs/1/1", nil); res.Code != 200 || res.Header.Get("Content-Type") != "image/png" {
				t.Fatalf("thumbnail: %d %s", res.Code, res.Header.Get("Content-Type"))
			}
		}
		n1, ev := count()
		if n1 != n0+1 || ev.Actor != "admin:wang.li" || !strings.Contains(ev.Detail, "thumbnails") || !strings.HasPrefix(ev.From, "127.0.0.1:") {
			t.Errorf("thumbnails audited %d times: %+v", n1-n0, ev)
		}
		res := admin.Do("GET", "/console/submissions/A1-r1/pages/1/1", nil)
		if res.Code != 200 || !strings.Contains(res.Body, `src="/console/submissions/A1-r1/pages/1/1/image"`) {
			t.Fatalf("page view: %d", res.Code)
		}
		pages["page"] = res.Body
		for i := range 2 {
			res := admin.Do("GET", "/console/submissions/A1-r1/pages/1/1/image", nil)
			if res.Code != 200 || res.Header.Get("Content-Type") != "image/jpeg" || len(res.Body) < 10000 {
				t.Fatalf("image: %d %s %d bytes", res.Code, res.Header.Get("Content-Type"), len(res.Body))
			}
			n, ev := count()
			if n != n1+i+1 || ev.Submission != "A1-r1" || ev.Detail != "material 1 (performance_summary) page 1: original, masks outlined" ||
				!strings.HasPrefix(ev.From, "127.0.0.1:") || ev.Actor != "admin:wang.li" {
				t.Errorf("view %d: %d events, last %+v", i+1, n-n1, ev)
			}
		}
		for _, p := range []string{"/console/submissions/A1-r1/pages/99/1/image", "/console/submissions/A1-r1/pages/1/9/image",
			"/console/submissions/A1-r1/thumbs/1/9", "/console/submissions/nobody-r1/pages/1/1", "/console/submissions/..%2f..%2fx/pages/1/1"} {
			if res := admin.Do("GET", p, nil); res.Code != http.StatusNotFound {
				t.Errorf("%s: %d", p, res.Code)
			}
		}
	})

	t.Run("submission-controlled text is escaped and the name never shown", func(t *testing.T) {
		res := admin.Do("GET", "/console/submissions/X1-r1", nil)
		if res.Code != 200 {
			t.Fatalf("%d", res.Code)
		}
		pages["hostile"] = res.Body
		for _, want := range []string{"&lt;img src=x onerror=alert(1)&gt;", "&#34;&gt;&lt;img src=y onerror=alert(2)&gt;.png", "unknown_material_type"} {
			if !strings.Contains(res.Body, want) {
				t.Errorf("the page lacks the escaped %q", want)
			}
		}
		for _, bad := range []string{hostileType, "<img src=y", `"><img src=y`} {
			if strings.Contains(res.Body, bad) {
				t.Errorf("unescaped %q in the page", bad)
			}
		}
		if n := strings.Count(res.Body, "<script"); n != 1 {
			t.Errorf("%d script elements, want the console's own", n)
		}
		// Every page the console has shown, and its confirmation and status
		// answers: no trace of the name, raw or escaped.
		pages["list"] = admin.Do("GET", "/console/", nil).Body
		pages["confirm"] = admin.Do("POST", "/console/submissions/X1-r1/reprocess", url.Values{"csrf": {csrf}}).Body
		pages["status"] = admin.Do("GET", "/console/submissions/X1-r1/status", nil).Body
		pages["failed"] = admin.Do("GET", "/console/submissions/F1-r1", nil).Body
		for name, body := range pages {
			for _, form := range []string{"张三丰", "alert(&#34;", "alert(\"", "&lt;script&gt;", "\\u003cscript"} {
				if strings.Contains(body, form) {
					t.Errorf("the %s page carries the applicant's name (%q)", name, form)
				}
			}
		}
	})

	t.Run("re-run a failed task", func(t *testing.T) {
		res := admin.Do("GET", "/console/submissions/F1-r1", nil)
		if res.Code != 200 || !strings.Contains(res.Body, `data-state="failed"`) || !strings.Contains(res.Body, `name="task" value="F1-r1"`) {
			t.Fatalf("failed submission page: %d", res.Code)
		}
		form := url.Values{"csrf": {csrf}, "queue": {"default"}, "task": {"F1-r1"}}
		res = admin.Do("POST", "/console/submissions/F1-r1/rerun", form)
		if res.Code != 200 || !strings.Contains(res.Body, `name="confirm" value="yes"`) || !strings.Contains(res.Body, "重新运行") {
			t.Fatalf("no confirmation step: %d", res.Code)
		}
		for _, bad := range []url.Values{
			{"csrf": {csrf}, "queue": {"default"}, "task": {"A1-r1"}, "confirm": {"yes"}}, // another submission's task
			{"csrf": {csrf}, "queue": {"nosuch"}, "task": {"F1-r1"}, "confirm": {"yes"}},
		} {
			if res := admin.Do("POST", "/console/submissions/F1-r1/rerun", bad); res.Code < 400 {
				t.Errorf("rerun %v: %d", bad, res.Code)
			}
		}
		form.Set("confirm", "yes")
		res = admin.Do("POST", "/console/submissions/F1-r1/rerun", form)
		if res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/console/submissions/F1-r1?queue=default&task=F1-r1" {
			t.Fatalf("rerun: %d %q", res.Code, res.Header.Get("Location"))
		}
		if res := admin.Do("GET", res.Header.Get("Location"), nil); !strings.Contains(res.Body, `id="follow"`) {
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
		if res := admin.Do("POST", "/console/submissions/F1-r1/rerun", form); res.Code != http.StatusConflict {
			t.Errorf("re-running a completed task: %d", res.Code)
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
				if res := admin.Do("POST", "/console/submissions/A1-r1/reprocess", tc.form); res.Code != tc.want {
					t.Errorf("%d, want %d", res.Code, tc.want)
				}
			})
		}
		form := url.Values{"csrf": {csrf}, "page": {"1:1"}, "reason": {"字迹可辨 <i>legible</i>"}}
		res := admin.Do("POST", "/console/submissions/A1-r1/reprocess", form)
		if res.Code != 200 || !strings.Contains(res.Body, "字迹可辨 &lt;i&gt;legible&lt;/i&gt;") || !strings.Contains(res.Body, `value="1:1"`) {
			t.Fatalf("confirmation: %d", res.Code)
		}
		if slices.ContainsFunc(e.trail("2024", "A1"), func(ev state.Event) bool { return ev.Action == "reprocess" }) {
			t.Fatal("queued before the confirmation")
		}
		form.Set("confirm", "yes")
		res = admin.Do("POST", "/console/submissions/A1-r1/reprocess", form)
		loc := res.Header.Get("Location")
		if res.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/submissions/A1-r1?queue=critical&task=A1-r1%3Areprocess%3A") {
			t.Fatalf("reprocess: %d %q", res.Code, loc)
		}
		u, _ := url.Parse(loc)
		waitDone(t, admin, "/console/submissions/A1-r1/status?"+u.RawQuery)
		rep := e.report("2024", "A1", "A1-r1", nil)
		if rep.Status != pipeline.Accepted || len(rep.Overrides) != 1 || rep.Overrides[0].By != "admin:wang.li" {
			t.Fatalf("after the override: %s %+v", rep.Status, rep.Overrides)
		}
		res = admin.Do("GET", "/console/submissions/A1-r1", nil)
		if !strings.Contains(res.Body, `data-state="accepted"`) || !strings.Contains(res.Body, `<b>0</b> / 3`) {
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
				res := admin.Do("GET", "/console/"+tc.query, nil)
				if res.Code != 200 {
					t.Fatalf("%d", res.Code)
				}
				for _, w := range append(tc.want, tc.countsWant...) {
					if !strings.Contains(res.Body, w) {
						t.Errorf("lacks %s", w)
					}
				}
				for _, n := range tc.not {
					if strings.Contains(res.Body, n) {
						t.Errorf("has %s", n)
					}
				}
			})
		}
	})

	t.Run("pages and find at campaign size", func(t *testing.T) {
		// 250 more returned applications of another campaign, recorded as
		// a worker records them: three pages of 100, 100 and 50.
		ctx := context.Background()
		meta := state.Meta{Series: "engineering", Level: "intermediate", Codes: []string{"blurry"}}
		for i := range 250 {
			app := fmt.Sprintf("P%04d", i)
			if _, err := e.state.Record(ctx, "2025", app, app+"-r1", pipeline.Rejected, time.Hour, meta); err != nil {
				t.Fatal(err)
			}
		}
		rows := func(body string) int { return strings.Count(body, `data-submission="P`) }
		for _, tc := range []struct {
			query      string
			rows       int
			prev, next bool
		}{
			{"?campaign=2025", 100, false, true},
			{"?campaign=2025&page=2", 100, true, true},
			{"?campaign=2025&page=3", 50, true, false},
			{"?campaign=2025&page=9", 50, true, false}, // past the end: the last page
		} {
			res := admin.Do("GET", "/console/"+tc.query, nil)
			if res.Code != 200 || rows(res.Body) != tc.rows || strings.Contains(res.Body, `rel="prev"`) != tc.prev ||
				strings.Contains(res.Body, `rel="next"`) != tc.next || !strings.Contains(res.Body, "100 / 250") && tc.rows == 100 {
				t.Errorf("%s: %d, %d rows, prev %v next %v", tc.query, res.Code, rows(res.Body), strings.Contains(res.Body, `rel="prev"`), strings.Contains(res.Body, `rel="next"`))
			}
		}
		// Find by applicant id, in the campaign given or in any campaign
		// of the policy; a submission id opens the submission.
		if res := admin.Do("GET", "/console/?campaign=2025&find=P0123", nil); res.Code != 200 || rows(res.Body) != 1 || !strings.Contains(res.Body, `data-submission="P0123-r1"`) {
			t.Errorf("find P0123 in 2025: %d, %d rows", res.Code, rows(res.Body))
		}
		if res := admin.Do("GET", "/console/?find=A1", nil); res.Code != 200 || !strings.Contains(res.Body, `data-submission="A1-`) {
			t.Errorf("find A1 (accepted, not listed): %d", res.Code)
		}
		if res := admin.Do("GET", "/console/?find=Z9999", nil); res.Code != 200 || !strings.Contains(res.Body, `id="find-missing"`) {
			t.Errorf("find Z9999: %d, no 'not found'", res.Code)
		}
		if res := admin.Do("GET", "/console/?find=A1-r1", nil); res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/console/submissions/A1-r1" {
			t.Errorf("find A1-r1: %d → %q", res.Code, res.Header.Get("Location"))
		}
	})

	t.Run("no action while a task waits or runs", func(t *testing.T) {
		docW, dirW := applicant(t, "W1", "W1-r1", false, nil)
		e.schedule(docW, dirW)
		res := admin.Do("GET", "/console/submissions/W1-r1", nil)
		if res.Code != 200 || !strings.Contains(res.Body, `id="running"`) || !strings.Contains(res.Body, `id="follow"`) {
			t.Fatalf("%d: no notice of the waiting task, or the page does not follow it", res.Code)
		}
		for _, form := range []string{`id="override-form"`, `id="reprocess-form"`, `class="rerun"`} {
			if strings.Contains(res.Body, form) {
				t.Errorf("the page offers %s while a task waits", form)
			}
		}
		before := len(e.trail("2024", "W1"))
		if res := admin.Do("POST", "/console/submissions/W1-r1/reprocess", url.Values{"csrf": {csrf}, "confirm": {"yes"}}); res.Code != http.StatusConflict {
			t.Errorf("a reprocess posted while a task waits: %d", res.Code)
		}
		if after := len(e.trail("2024", "W1")); after != before {
			t.Errorf("the refused reprocess left %d audit events", after-before)
		}
		if err := e.insp.DeleteTask(workers.QueueDefault, "W1-r1"); err != nil {
			t.Fatal(err)
		}
		if res := admin.Do("GET", "/console/submissions/W1-r1", nil); !strings.Contains(res.Body, `id="reprocess-form"`) || strings.Contains(res.Body, `id="running"`) {
			t.Error("the actions did not come back once the task was gone")
		}
	})

	t.Run("sign out", func(t *testing.T) {
		old := admin.Cookie
		res := admin.Do("POST", "/account/signout", url.Values{"csrf": {csrf}})
		if res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/account/signin" || admin.Cookie != "" {
			t.Fatalf("sign-out: %d %q, cookie %q", res.Code, res.Header.Get("Location"), admin.Cookie)
		}
		admin.Cookie = old // the old cookie, replayed, opens nothing
		if res := admin.Do("GET", "/console/", nil); res.Code != http.StatusSeeOther {
			t.Errorf("after sign-out: %d", res.Code)
		}
	})
}

// waitDone polls a status URL as the page does, until its task is done.
func waitDone(t *testing.T, c *peopletest.Client, statusURL string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		res := c.Do("GET", statusURL, nil)
		var s struct {
			Done      bool   `json:"done"`
			TaskState string `json:"task_state"`
		}
		if res.Code != 200 || json.Unmarshal([]byte(res.Body), &s) != nil {
			t.Fatalf("status: %d %s", res.Code, res.Body)
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

// TestSessions: a session ends when it idles, and at once when its
// account is disabled or its password or second factor reset, whatever
// the cookie says.
func TestSessions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acc := &people.Accounts{State: e.state}
	for _, tc := range []struct {
		name   string
		change func(name string)
	}{
		{"disabled", func(name string) { acc.SetDisabled(ctx, name, true, "admin:test") }},
		{"password reset", func(name string) { acc.ResetPassword(ctx, name, "admin:test") }},
		{"second factor reset", func(name string) { acc.ResetTOTP(ctx, name, "admin:test") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := peopletest.Add(t, e.state, "li.na."+strings.ReplaceAll(tc.name, " ", "-"), state.RoleAdministrator)
			cl := e.client()
			cl.SignIn(p)
			other := e.client()
			other.SignIn(p) // a second browser
			tc.change(p.Name)
			for _, c := range []*peopletest.Client{cl, other} {
				if res := c.Do("GET", "/console/", nil); res.Code != http.StatusSeeOther {
					t.Errorf("%s: %d, want the sign-in form", tc.name, res.Code)
				}
			}
		})
	}
	t.Run("idle", func(t *testing.T) {
		srv := e.serve(api.Config{TempDir: t.TempDir(), People: people.Config{IdleTimeout: time.Second}})
		p := peopletest.Add(t, e.state, "idle.admin", state.RoleAdministrator)
		cl := peopletest.NewClient(t, srv.URL)
		cl.SignIn(p)
		for range 3 {
			time.Sleep(600 * time.Millisecond)
			if res := cl.Do("GET", "/console/", nil); res.Code != 200 {
				t.Fatalf("a session in use idled out: %d", res.Code)
			}
		}
		time.Sleep(1300 * time.Millisecond)
		if res := cl.Do("GET", "/console/", nil); res.Code != http.StatusSeeOther {
			t.Errorf("idle: %d, want the sign-in form", res.Code)
		}
	})
	if err := (people.Config{SessionTTL: 25 * time.Hour}).Validate(); err == nil {
		t.Error("a 25-hour session is accepted")
	}
}
