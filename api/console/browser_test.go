package console_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/workers"
)

var screenshots = flag.Bool("screenshots", false, "also write the console's screenshots to docs/ (console-list.png, console-submission.png)")

// chromiumPath is Debian's Chromium (deploy/local/install-deps.sh installs it).
const chromiumPath = "/usr/bin/chromium"

// browser starts a headless Chromium with a fresh profile, and collects
// what its pages print (a Content-Security-Policy violation is a console
// message) and every dialog they open (an injected script would).
type browser struct {
	ctx context.Context

	mu       sync.Mutex
	messages []string
	dialogs  []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	testenv.Tool(t, "chromium")
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	b := &browser{ctx: ctx}
	// Start the browser with the first action, without a timeout (a
	// timeout on the first Run would stop the browser itself).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.messages = append(b.messages, m.String())
			b.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			b.mu.Unlock()
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return b
}

// do runs steps with a timeout.
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

func run[T any](t *testing.T, b *browser, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// imagesLoaded waits until every image of the page has loaded.
func imagesLoaded() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](`Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)`,
			chromedp.WithPollingTimeout(30*time.Second))(ctx, tg)
		return chromedp.Void{}, err
	}
}

// screenshot saves a full-page screenshot in the test's directory and,
// with -screenshots, in docs/.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	png := run(t, b, chromedp.FullScreenshot(100))
	paths := []string{filepath.Join(t.TempDir(), name)}
	if *screenshots {
		paths = append(paths, filepath.Join("..", "..", "docs", name))
	}
	for _, p := range paths {
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s (%d KiB)", p, len(png)>>10)
	}
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

	b := newBrowser(t)
	base := e.srv.URL
	sub := "/console/submissions/A2024-000321-r1"

	// Sign in through the pages: wang.li chose a password and enrolled an
	// authenticator before (peopletest does what the person did).
	admin := e.person["admin"]
	e.client().SignIn(admin)
	b.do(t, "open the console",
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(chromedp.ID("user")),
	)
	if loc := run(t, b, chromedp.Location()); !strings.HasPrefix(loc, base+"/account/signin?next=") {
		t.Fatalf("not sent to the sign-in form: %s", loc)
	}
	b.do(t, "sign in",
		chromedp.SendKeys(chromedp.ID("user"), admin.Name),
		chromedp.SendKeys(chromedp.ID("password"), admin.Password),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), admin.Code(t)),
		chromedp.Click(chromedp.ID("verify")),
		chromedp.WaitVisible(chromedp.ID("attention")),
	)
	if c := run(t, b, chromedp.Evaluate[string](`document.cookie`)); c != "" {
		t.Errorf("the session cookie is readable from scripts: %q", c)
	}
	rows := run(t, b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#attention tbody tr')).map(r => r.dataset.submission)`))
	if !slices.Contains(rows, "A2024-000321-r1") || !slices.Contains(rows, "A2024-000322-r1") {
		t.Errorf("list rows %v", rows)
	}
	if txt := run(t, b, chromedp.Text(chromedp.ID("failed"))); !strings.Contains(txt, "A2024-000323-r1") || !strings.Contains(txt, "garbage-1") {
		t.Errorf("failed tasks: %q", txt)
	}
	if txt := run(t, b, chromedp.Text(chromedp.ID("counts"))); !strings.Contains(txt, "blurry") || !strings.Contains(txt, "missing_material") {
		t.Errorf("counts: %q", txt)
	}
	b.screenshot(t, "console-list.png")

	// The returned submission: its state, findings and pages.
	b.do(t, "open the submission",
		chromedp.Click(chromedp.CSS(`#attention a[href="`+sub+`"]`)),
		chromedp.WaitVisible(chromedp.ID("pages")),
		imagesLoaded(),
	)
	if st := run(t, b, chromedp.AttributeValue(chromedp.ID("state"), "data-state")); st.Value != "rejected" {
		t.Fatalf("state %q", st.Value)
	}
	if txt := run(t, b, chromedp.Text(chromedp.ID("deadline"))); !strings.Contains(txt, "2024-09-22 10:00") {
		t.Errorf("deadline: %q", txt)
	}
	failing := run(t, b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('figure.thumb.fail')).map(f => f.dataset.page + ' ' + f.innerText)`))
	if len(failing) != 1 || !strings.HasPrefix(failing[0], "2:1 ") || !strings.Contains(failing[0], "blurry") || !strings.Contains(failing[0], " vs ") {
		t.Errorf("failing thumbnails %q", failing)
	}
	b.screenshot(t, "console-submission.png")

	// The blurry page, large: the original, its view audited.
	b.do(t, "open the page large",
		chromedp.Click(chromedp.CSS(`figure.thumb.fail a`)),
		chromedp.WaitVisible(chromedp.ID("page-image")),
		imagesLoaded(),
	)
	if w := run(t, b, chromedp.Evaluate[int](`document.getElementById('page-image').naturalWidth`)); w < 1000 {
		t.Errorf("the large page is %d pixels wide", w)
	}
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
	code := run(t, b, chromedp.Evaluate[int](`fetch('`+sub+`/reprocess', {method: 'POST', body: new URLSearchParams({confirm: 'yes'})}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	if code != 403 {
		t.Errorf("a POST without the anti-forgery token: %d", code)
	}

	// Accept the page with a reason, confirm, and wait for the new report.
	const reason = "字迹可辨，签名略虚"
	b.do(t, "accept the page",
		chromedp.Click(chromedp.ID("back")),
		chromedp.WaitVisible(chromedp.ID("override-form")),
		chromedp.Click(chromedp.CSS(`input[name=page][value="1:1"]`)),
		chromedp.SendKeys(chromedp.ID("reason"), reason),
		chromedp.Click(chromedp.ID("accept")),
		chromedp.WaitVisible(chromedp.ID("confirm")),
	)
	if txt := run(t, b, chromedp.Text(chromedp.ID("confirm-reason"))); txt != reason {
		t.Errorf("confirmation shows %q", txt)
	}
	b.do(t, "confirm", chromedp.Click(chromedp.ID("confirm")), chromedp.WaitVisible(chromedp.ID("follow")))
	deadline := time.Now().Add(60 * time.Second)
	state := ""
	for time.Now().Before(deadline) && state != "accepted" {
		time.Sleep(300 * time.Millisecond)
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		state, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('state') || {dataset: {}}).dataset.state || ''`))
		cancel()
	}
	if state != "accepted" {
		t.Fatalf("the page did not turn accepted (state %q)", state)
	}
	if loc := run(t, b, chromedp.Location()); loc != base+sub {
		t.Errorf("after the report: %s", loc)
	}
	override := run(t, b, chromedp.Text(chromedp.CSS(`#trail tr[data-action="override"]`)))
	if !strings.Contains(override, "admin:wang.li") || !strings.Contains(override, reason) {
		t.Errorf("audit entry: %q", override)
	}
	if txt := run(t, b, chromedp.Text(chromedp.ID("overrides"))); !strings.Contains(txt, reason) {
		t.Errorf("overrides: %q", txt)
	}

	// Sign out; a reviewer who signs in is refused the console.
	b.do(t, "sign out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("user")))
	rev := e.person["reviewer"]
	e.client().SignIn(rev)
	b.do(t, "reviewer signs in",
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), rev.Name),
		chromedp.SendKeys(chromedp.ID("password"), rev.Password),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), rev.Code(t)),
		chromedp.Click(chromedp.ID("verify")),
		chromedp.WaitVisible(chromedp.ID("nav-packets")),
	)
	b.do(t, "the list again", chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS("p.alert")))
	if c := run(t, b, chromedp.Evaluate[int](`document.querySelectorAll('#attention').length`)); c != 0 {
		t.Error("a reviewer sees the list")
	}

	b.mu.Lock()
	seen := len(b.messages)
	for _, m := range b.messages {
		// Expected: the browser's notes on the 403s of the forged POST and
		// of the reviewer's sign-in; not one policy violation of our own.
		if strings.Contains(m, "Content Security Policy") || strings.HasPrefix(m, "exception") {
			t.Errorf("browser console: %s", m)
		}
	}
	if len(b.dialogs) > 0 {
		t.Errorf("dialogs opened: %q", b.dialogs)
	}
	b.mu.Unlock()

	// And the policy holds in the browser: a script injected into a
	// console page does not run, and the browser says why.
	ran := run(t, b, chromedp.Evaluate[bool](`(() => { const s = document.createElement('script'); s.textContent = 'window.injected = true';
		document.body.appendChild(s); return window.injected === true; })()`))
	if ran {
		t.Error("an inline script ran on a console page")
	}
	blocked := false
	for i := 0; i < 50 && !blocked; i++ {
		time.Sleep(50 * time.Millisecond)
		b.mu.Lock()
		for _, m := range b.messages[seen:] {
			blocked = blocked || strings.Contains(m, "Content Security Policy")
		}
		b.mu.Unlock()
	}
	if !blocked {
		t.Error("no Content-Security-Policy violation reported for the injected script")
	}
	t.Logf("browser test took %v", time.Since(start).Round(time.Millisecond))
}
