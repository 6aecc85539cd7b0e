package console_test

import (
	"context"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/internal/browsertest"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/workers"
)

var screenshots = flag.Bool("screenshots", false, "also write the console's screenshots to docs/ (console-list.png, console-submission.png)")

// docsDir is where -screenshots writes.
func docsDir() string {
	if *screenshots {
		return filepath.Join("..", "..", "docs")
	}
	return ""
}

// TestConsoleBrowser is the administrator's path through the console in
// Debian's Chromium: sign in with password and second factor, open a submission the
// clarity check returned, look at the blurry page, accept it with a
// reason, confirm, and see the page turn accepted by itself when the new
// report arrives, with the override in the audit trail. A reviewer is
// refused, and a form posted without the anti-forgery token is
// refused by the server.
func TestConsoleBrowser(t *testing.T) {
	testenv.Tool(t, "chromium")
	start := time.Now()
	e := newEnv(t)

	// The list shows a return for a blurred page, one for a missing
	// material, and a task that failed for good.
	docA, dirA := applicant(t, "A2024-000321", "A2024-000321-r1", true, nil)
	if rep := e.submit(docA, dirA); rep.Status != pipeline.Rejected {
		t.Fatalf("A: %s", rep.Status)
	}
	docB, dirB := applicant(t, "A2024-000322", "A2024-000322-r1", false, func(sub *pipeline.Submission, _ string) {
		sub.Materials = slices.DeleteFunc(sub.Materials, func(m pipeline.Material) bool { return m.Type == "recommendation_opinion" })
	})
	if rep := e.submit(docB, dirB); rep.Status != pipeline.Rejected {
		t.Fatalf("B: %s", rep.Status)
	}
	docF, dirF := applicant(t, "A2024-000323", "A2024-000323-r1", false, nil)
	e.stage(docF, dirF)
	// And a task nobody can act on, which the worker archives at once.
	if _, err := e.queue.Enqueue(asynq.NewTask(workers.TypeProcessSubmission, []byte("not json"), asynq.TaskID("garbage-1"))); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if info, err := e.insp.GetTaskInfo(workers.QueueDefault, "garbage-1"); err == nil && info.State == asynq.TaskStateArchived {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("submissions ready in %v", time.Since(start).Round(time.Millisecond))

	b := browsertest.New(t)
	base := e.srv.URL
	sub := "/console/submissions/A2024-000321-r1"

	// Sign in through the pages: wang.li chose a password and enrolled an
	// authenticator before (peopletest does what the person did).
	admin := e.person["admin"]
	e.client().SignIn(admin)
	b.Do(t, "open the console",
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(chromedp.ID("user")),
	)
	if loc := browsertest.Run(t, b, chromedp.Location()); !strings.HasPrefix(loc, base+"/account/signin?next=") {
		t.Fatalf("not sent to the sign-in form: %s", loc)
	}
	b.Do(t, "sign in", signIn(t, admin, "attention")...)
	if c := browsertest.Run(t, b, chromedp.Evaluate[string](`document.cookie`)); c != "" {
		t.Errorf("the session cookie is readable from scripts: %q", c)
	}
	rows := browsertest.Run(t, b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#attention tbody tr')).map(r => r.dataset.submission)`))
	if !slices.Contains(rows, "A2024-000321-r1") || !slices.Contains(rows, "A2024-000322-r1") {
		t.Errorf("list rows %v", rows)
	}
	if txt := browsertest.Run(t, b, chromedp.Text(chromedp.ID("failed"))); !strings.Contains(txt, "A2024-000323-r1") || !strings.Contains(txt, "garbage-1") {
		t.Errorf("failed tasks: %q", txt)
	}
	if txt := browsertest.Run(t, b, chromedp.Text(chromedp.ID("counts"))); !strings.Contains(txt, "blurry") || !strings.Contains(txt, "missing_material") {
		t.Errorf("counts: %q", txt)
	}
	b.Check(t, "console list")
	b.Screenshot(t, "console-list.png", docsDir())

	// The returned submission: its state, findings and pages.
	b.Do(t, "open the submission",
		chromedp.Click(chromedp.CSS(`#attention a[href="`+sub+`"]`)),
		chromedp.WaitVisible(chromedp.ID("pages")),
		browsertest.ImagesLoaded(),
	)
	if st := browsertest.Run(t, b, chromedp.AttributeValue(chromedp.ID("state"), "data-state")); st.Value != "rejected" {
		t.Fatalf("state %q", st.Value)
	}
	if txt := browsertest.Run(t, b, chromedp.Text(chromedp.ID("deadline"))); !strings.Contains(txt, "2024-09-22 10:00") {
		t.Errorf("deadline: %q", txt)
	}
	failing := browsertest.Run(t, b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('figure.thumb.fail')).map(f => f.dataset.page + ' ' + f.innerText)`))
	if len(failing) != 1 || !strings.HasPrefix(failing[0], "2:1 ") || !strings.Contains(failing[0], "blurry") || !strings.Contains(failing[0], " vs ") {
		t.Errorf("failing thumbnails %q", failing)
	}
	b.Check(t, "console submission")
	b.Screenshot(t, "console-submission.png", docsDir())

	// The blurry page, large: the original, its view audited.
	b.Do(t, "open the page large",
		chromedp.Click(chromedp.CSS(`figure.thumb.fail a`)),
		chromedp.WaitVisible(chromedp.ID("page-image")),
		browsertest.ImagesLoaded(),
	)
	if w := browsertest.Run(t, b, chromedp.Evaluate[int](`document.getElementById('page-image').naturalWidth`)); w < 1000 {
		t.Errorf("the large page is %d pixels wide", w)
	}
	b.Check(t, "console page")
	var viewed bool
	for _, ev := range e.trail("2024", "A2024-000321") {
		viewed = viewed || ev.Action == "viewed" && ev.Actor == "admin:wang.li" && strings.Contains(ev.Detail, "material 1 (performance_summary) page 1") &&
			strings.HasPrefix(ev.From, "127.0.0.1:")
	}
	if !viewed {
		t.Error("the view of the original is not audited")
	}

	// A form posted without the anti-forgery token, from the console's own
	// page with its cookie, is refused.
	code := browsertest.Run(t, b, chromedp.Evaluate[int](`fetch('`+sub+`/reprocess', {method: 'POST', body: new URLSearchParams({confirm: 'yes'})}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	if code != 403 {
		t.Errorf("a POST without the anti-forgery token: %d", code)
	}

	// Accept the page with a reason, confirm, and wait for the new report.
	const reason = "字迹可辨，签名略虚"
	// Accepting with no page ticked is stopped by the page's check, and the
	// form stays usable (it used to stay disabled until a reload).
	b.Do(t, "accept with no page",
		chromedp.Click(chromedp.ID("back")),
		chromedp.WaitVisible(chromedp.ID("override-form")),
		chromedp.SendKeys(chromedp.ID("reason"), "x"),
		chromedp.Click(chromedp.ID("accept")),
	)
	for i := 0; i < 50; i++ {
		if _, d := b.Snapshot(); len(d) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if disabled := browsertest.Run(t, b, chromedp.Evaluate[bool](`document.getElementById('accept').disabled || !!document.getElementById('override-form').dataset.sent`)); disabled {
		t.Error("after the page check's alert, Accept is disabled")
	}
	b.Do(t, "clear the reason", chromedp.Evaluate[chromedp.Void](`document.getElementById('reason').value = ''`))
	b.Do(t, "accept the page",
		chromedp.Click(chromedp.CSS(`input[name=page][value="1:1"]`)),
		chromedp.SendKeys(chromedp.ID("reason"), reason),
		chromedp.Click(chromedp.ID("accept")),
		chromedp.WaitVisible(chromedp.ID("confirm")),
	)
	if txt := browsertest.Run(t, b, chromedp.Text(chromedp.ID("confirm-reason"))); txt != reason {
		t.Errorf("confirmation shows %q", txt)
	}
	b.Check(t, "console confirmation")
	b.Do(t, "confirm", chromedp.Click(chromedp.ID("confirm")), chromedp.WaitVisible(chromedp.ID("follow")))
	deadline := time.Now().Add(60 * time.Second)
	state := ""
	for time.Now().Before(deadline) && state != "accepted" {
		time.Sleep(300 * time.Millisecond)
		ctx, cancel := context.WithTimeout(b.Ctx, 5*time.Second)
		state, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('state') || {dataset: {}}).dataset.state || ''`))
		cancel()
	}
	if state != "accepted" {
		t.Fatalf("the page did not turn accepted (state %q)", state)
	}
	if loc := browsertest.Run(t, b, chromedp.Location()); loc != base+sub {
		t.Errorf("after the report: %s", loc)
	}
	override := browsertest.Run(t, b, chromedp.Text(chromedp.CSS(`#trail tr[data-action="override"]`)))
	if !strings.Contains(override, "admin:wang.li") || !strings.Contains(override, reason) {
		t.Errorf("audit entry: %q", override)
	}
	if txt := browsertest.Run(t, b, chromedp.Text(chromedp.ID("overrides"))); !strings.Contains(txt, reason) {
		t.Errorf("overrides: %q", txt)
	}

	// Sign out; a reviewer who signs in is refused the console.
	b.Do(t, "sign out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("user")))
	rev := e.person["reviewer"]
	e.client().SignIn(rev)
	b.Do(t, "reviewer opens the console", chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.ID("user")))
	b.Do(t, "reviewer signs in", signIn(t, rev, "nav-packets")...)
	b.Do(t, "the list again", chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS("p.alert")))
	if c := browsertest.Run(t, b, chromedp.Evaluate[int](`document.querySelectorAll('#attention').length`)); c != 0 {
		t.Error("a reviewer sees the list")
	}

	messages, dialogs := b.Snapshot()
	seen := len(messages)
	for _, m := range messages {
		// Expected: the browser's notes on the 403s of the forged POST and
		// of the reviewer's sign-in; not one policy violation of our own.
		if strings.Contains(m, "Content Security Policy") || strings.HasPrefix(m, "exception") {
			t.Errorf("browser console: %s", m)
		}
	}
	if len(dialogs) != 1 || !strings.Contains(dialogs[0], "请至少选择一页") {
		t.Errorf("dialogs opened: %q, want the one of the page check", dialogs)
	}

	// And the policy holds in the browser: a script injected into a
	// console page does not run, and the browser says why.
	ran := browsertest.Run(t, b, chromedp.Evaluate[bool](`(() => { const s = document.createElement('script'); s.textContent = 'window.injected = true';
		document.body.appendChild(s); return window.injected === true; })()`))
	if ran {
		t.Error("an inline script ran on a console page")
	}
	blocked := false
	for i := 0; i < 50 && !blocked; i++ {
		time.Sleep(50 * time.Millisecond)
		messages, _ := b.Snapshot()
		for _, m := range messages[seen:] {
			blocked = blocked || strings.Contains(m, "Content Security Policy")
		}
	}
	if !blocked {
		t.Error("no Content-Security-Policy violation reported for the injected script")
	}
	t.Logf("browser test took %v", time.Since(start).Round(time.Millisecond))
}
