// Package browsertest drives Debian's Chromium, headless, from Go tests
// (chromedp) the way a person uses the pages: it collects what the pages
// print and every dialog they open, checks a page at a phone's and a
// laptop's width for horizontal scrolling, runs axe-core (the npm
// package, which deploy/local/install-deps.sh installs) in the page and
// fails on serious or critical violations, and moves through a page with
// the Tab key alone.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/blindpack/blindpack/internal/testenv"
)

// ChromiumPath is Debian's Chromium (install-deps installs it).
const ChromiumPath = "/usr/bin/chromium"

// Widths are the screens every page must fit without horizontal
// scrolling: a 390-px phone and a 1280-px laptop.
var Widths = []int64{390, 1280}

// Browser is one headless Chromium with a fresh profile.
type Browser struct {
	Ctx context.Context

	mu       sync.Mutex
	Messages []string
	Dialogs  []string
	axeSrc   string
}

// New starts Chromium for the test (and stops it after).
func New(t testing.TB) *Browser {
	t.Helper()
	testenv.Tool(t, "chromium")
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(ChromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	b := &Browser{Ctx: ctx}
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
			b.Messages = append(b.Messages, m.String())
			b.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.Dialogs = append(b.Dialogs, ev.Message)
			b.mu.Unlock()
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return b
}

// Snapshot returns what the pages printed and the dialogs they opened so
// far.
func (b *Browser) Snapshot() (messages, dialogs []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.Messages...), append([]string(nil), b.Dialogs...)
}

// Do runs steps with a timeout, failing the test with where the browser
// was.
func (b *Browser) Do(t testing.TB, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(b.Ctx, chromedp.Location())
		t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

// Run runs one action that returns a value, with a timeout.
func Run[T any](t testing.TB, b *Browser, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 45*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// ImagesLoaded waits until every image of the page has loaded.
func ImagesLoaded() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](`Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)`,
			chromedp.WithPollingTimeout(40*time.Second))(ctx, tg)
		return chromedp.Void{}, err
	}
}

// Screenshot saves a full-page screenshot in the test's directory and, when
// docs is not "", in that directory too.
func (b *Browser) Screenshot(t testing.TB, name, docs string) {
	t.Helper()
	png := Run(t, b, chromedp.FullScreenshot(90))
	paths := []string{filepath.Join(t.TempDir(), name)}
	if docs != "" {
		paths = append(paths, filepath.Join(docs, name))
	}
	for _, p := range paths {
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s (%d KiB)", p, len(png)>>10)
	}
}

// ViewportScreenshot saves what a screen of width × height shows of the
// current page (not the whole page), like Screenshot.
func (b *Browser) ViewportScreenshot(t testing.TB, name, docs string, width, height int64) {
	t.Helper()
	b.Do(t, "resize", chromedp.EmulateViewport(width, height, chromedp.EmulatePortrait))
	time.Sleep(200 * time.Millisecond)
	png := Run(t, b, chromedp.CaptureScreenshot())
	b.Do(t, "back to the laptop's width", chromedp.EmulateViewport(1280, 900))
	paths := []string{filepath.Join(t.TempDir(), name)}
	if docs != "" {
		paths = append(paths, filepath.Join(docs, name))
	}
	for _, p := range paths {
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s (%d KiB)", p, len(png)>>10)
	}
}

// Fits checks the current page at every width of Widths: nothing may make
// the document wider than the screen (no horizontal scrolling). It leaves
// the browser at the laptop's width.
func (b *Browser) Fits(t testing.TB, name string) {
	t.Helper()
	for _, w := range Widths {
		b.Do(t, fmt.Sprintf("%s at %d px", name, w), chromedp.EmulateViewport(w, 844, chromedp.EmulatePortrait))
		time.Sleep(100 * time.Millisecond) // a layout pass
		got := Run(t, b, chromedp.Evaluate[[]int](`(() => { const wide = Array.from(document.querySelectorAll('body *'))
			.filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).length;
			return [document.documentElement.scrollWidth, window.innerWidth, wide]; })()`))
		if got[0] > got[1] {
			what := Run(t, b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('body *'))
				.filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
				.slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`))
			t.Errorf("%s at %d px: the page is %d px wide (scrolls sideways); too wide: %v", name, w, got[0], what)
		}
	}
	b.Do(t, "back to the laptop's width", chromedp.EmulateViewport(1280, 900))
}

// axePath is where install-deps puts axe-core.
func axePath() string {
	if p := os.Getenv("BLINDPACK_AXE"); p != "" {
		return p
	}
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, "blindpack", "npm", "node_modules", "axe-core", "axe.min.js")
}

// Violation is one axe-core rule a page breaks.
type Violation struct {
	ID, Impact, Help string
	Nodes            []struct {
		Target []any
		HTML   string
	}
}

// Axe runs axe-core in the current page (injected through the DevTools
// protocol, which the pages' Content-Security-Policy does not govern)
// and fails the test on every serious or critical violation.
func (b *Browser) Axe(t testing.TB, name string) {
	t.Helper()
	if b.axeSrc == "" {
		src, err := os.ReadFile(axePath())
		if err != nil {
			if os.Getenv("BLINDPACK_TEST_SERVICES") == "required" {
				t.Fatalf("axe-core is not installed (deploy/local/install-deps.sh): %v", err)
			}
			t.Skipf("axe-core is not installed (deploy/local/install-deps.sh): %v", err)
		}
		b.axeSrc = string(src)
	}
	Run(t, b, chromedp.Evaluate[any](b.axeSrc))
	raw := Run(t, b, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations))`,
		chromedp.EvalAwaitPromise))
	var vs []Violation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		t.Fatalf("axe on %s: %v", name, err)
	}
	for _, v := range vs {
		if v.Impact != "serious" && v.Impact != "critical" {
			continue
		}
		var where []string
		for i, n := range v.Nodes {
			if i == 3 {
				break
			}
			where = append(where, fmt.Sprint(n.Target)+" "+n.HTML)
		}
		t.Errorf("axe on %s: %s (%s): %s\n  %s", name, v.ID, v.Impact, v.Help, strings.Join(where, "\n  "))
	}
}

// Check runs Fits and Axe on the current page.
func (b *Browser) Check(t testing.TB, name string) {
	t.Helper()
	b.Fits(t, name)
	b.Axe(t, name)
}

// TabTo presses Tab until the element with id has the focus — proof that
// the keyboard reaches it — and fails after max presses.
func (b *Browser) TabTo(t testing.TB, id string, max int) {
	t.Helper()
	for range max {
		if Run(t, b, chromedp.Evaluate[string](`(document.activeElement || {}).id || ''`)) == id {
			return
		}
		b.Do(t, "press Tab", chromedp.KeyEvent(kb.Tab))
	}
	t.Fatalf("#%s not reached with %d presses of Tab", id, max)
}

// Type sends keys to the focused element.
func (b *Browser) Type(t testing.TB, keys string) {
	t.Helper()
	b.Do(t, "type", chromedp.KeyEvent(keys))
}

// Enter presses Enter on the focused element.
func (b *Browser) Enter(t testing.TB) {
	t.Helper()
	b.Do(t, "press Enter", chromedp.KeyEvent(kb.Enter))
}
