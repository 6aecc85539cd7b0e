package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"image"
	"image/jpeg"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/blindpack/blindpack/api"
	"github.com/blindpack/blindpack/api/people"
	"github.com/blindpack/blindpack/internal/browsertest"
	"github.com/blindpack/blindpack/internal/pdfcheck"
	"github.com/blindpack/blindpack/internal/peopletest"
	"github.com/blindpack/blindpack/internal/resulttest"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline/result"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/workers"
)

var screenshots = flag.Bool("screenshots", false, "also write the pages' screenshots to docs/")

// docsDir is where -screenshots writes.
func docsDir() string {
	if *screenshots {
		return filepath.Join("..", "docs")
	}
	return ""
}

// TestSiteBrowser drives the pages for people in Debian's Chromium, one
// browser and one server for everything: a reviewer's first sign-in (a
// password of their own, the authenticator enrolled from the key on the
// page, a code), their packets and only theirs, a packet's pages drawn
// from their stamped copy, the download, the review mark — all with the
// keyboard alone — and another reviewer's packet refused by URL; five
// wrong passwords locking an account; a disabled reviewer's open session
// ending; an administrator's console session on the same accounts; the
// public results and /verify/ saying genuine for an issued file and not
// genuine for one byte changed or a file signed by another key. Every
// page is checked at 390 and 1280 px for horizontal scrolling and with
// axe-core.
func TestSiteBrowser(t *testing.T) {
	testenv.Tool(t, "chromium")
	testenv.Tool(t, "pdftoppm")
	e := newEnv(t)
	ctx := context.Background()

	// Two applicants, accepted; E-0042 reviews A, E-0077 reviews B.
	subA, docA := e.upload("eng-intermediate", "")
	subB, docB := e.upload("acct-senior", "")
	for _, doc := range [][]byte{docA, docB} {
		if r := e.do("POST", "/v1/submissions", e.tok["upload"], doc); r.code != 202 {
			t.Fatalf("submit: %d %s", r.code, r.body)
		}
	}
	va, repA := e.waitReport(subA.SubmissionID)
	vb, repB := e.waitReport(subB.SubmissionID)
	if va.State != "accepted" || vb.State != "accepted" {
		t.Fatalf("reports: %s %s", va.State, vb.State)
	}
	anonA, anonB := repA.AnonCode, repB.AnonCode
	for _, a := range [][2]string{{anonA, "E-0042"}, {anonB, "E-0077"}} {
		body, _ := json.Marshal(map[string]string{"anon_code": a[0], "reviewer": a[1]})
		if r := e.do("POST", "/v1/assignments", e.tok["admin"], body); r.code != 201 {
			t.Fatalf("assign: %d %s", r.code, r.body)
		}
	}

	// A result file issued with the authority's keys, published; and, to
	// upload, the same file with one byte changed and one signed by
	// another key.
	batchDoc, err := os.ReadFile(filepath.Join("..", "pipeline", "result", "testdata", "batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	batch, err := result.ParseBatch(batchDoc)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(is *result.Issuer) []byte {
		var b bytes.Buffer
		if _, err := is.Issue(ctx, batch, &b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	authority, caFile := resulttest.DevIssuer(t)
	other, _ := resulttest.DevIssuer(t)
	genuine, foreign := issue(authority), issue(other)
	changed := append([]byte(nil), genuine...)
	changed[12] ^= 0x01 // inside the header's binary comment: still a PDF, no longer the signed bytes
	resultKey := workers.ResultKey(batch.Campaign, batch.DocNumber)
	if err := e.buckets.Results.Put(ctx, resultKey, bytes.NewReader(genuine), int64(len(genuine)), storage.PutOptions{ContentType: "application/pdf"}); err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := result.CertPool(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	d := e.deps
	d.ResultRoots, d.ResultRootsName = roots, "the test authority"
	srv := e.serve(api.Config{TempDir: t.TempDir()}, d)
	base := srv.URL

	rev := peopletest.Add(t, e.state, "E-0042", state.RoleReviewer)
	admin := peopletest.Add(t, e.state, "wang.li", state.RoleAdministrator)
	b := browsertest.New(t)
	start := time.Now()

	t.Run("reviewer signs in for the first time, with the keyboard alone", func(t *testing.T) {
		b.Do(t, "open the portal", chromedp.Navigate(base+"/review/"), chromedp.WaitVisible(chromedp.ID("user")))
		if loc := browsertest.Run(t, b, chromedp.Location()); loc != base+"/account/signin?next=%2Freview%2F" {
			t.Fatalf("not sent to the sign-in form: %s", loc)
		}
		b.Check(t, "sign-in")
		b.Screenshot(t, "account-signin.png", docsDir())
		b.TabTo(t, "user", 20)
		b.Type(t, rev.Name)
		b.TabTo(t, "password", 5)
		b.Type(t, rev.Password)
		b.Enter(t)
		b.Do(t, "choose a password", chromedp.WaitVisible(chromedp.ID("new")))
		b.Check(t, "choose a password")
		rev.Password = "我的评审密码-2024-E42"
		b.TabTo(t, "new", 20)
		b.Type(t, rev.Password)
		b.TabTo(t, "again", 5)
		b.Type(t, rev.Password)
		b.Enter(t)
		b.Do(t, "enrol", chromedp.WaitVisible(chromedp.ID("secret")), browsertest.ImagesLoaded())
		// The QR code is an image the page serves; the key is there as text
		// too, for people who cannot scan (and for this test).
		if w := browsertest.Run(t, b, chromedp.Evaluate[int](`document.getElementById('qr').naturalWidth`)); w < 200 {
			t.Errorf("QR code %d px wide", w)
		}
		b.Check(t, "enrolment")
		b.Screenshot(t, "account-enrol.png", docsDir())
		rev.Secret = strings.ReplaceAll(browsertest.Run(t, b, chromedp.Text(chromedp.ID("secret"))), " ", "")
		b.TabTo(t, "code", 30)
		b.Type(t, rev.Code(t))
		b.Enter(t)
		b.Do(t, "the list", chromedp.WaitVisible(chromedp.ID("progress")))
		if c := browsertest.Run(t, b, chromedp.Evaluate[string](`document.cookie`)); c != "" {
			t.Errorf("the session cookie is readable from scripts: %q", c)
		}
	})

	t.Run("the list shows only the reviewer's packets", func(t *testing.T) {
		rows := browsertest.Run(t, b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#packets tbody tr')).map(r => r.dataset.anon)`))
		if len(rows) != 1 || rows[0] != anonA {
			t.Fatalf("rows %v, want only %s", rows, anonA)
		}
		if p := browsertest.Run(t, b, chromedp.Text(chromedp.ID("progress"))); p != "0 / 1" {
			t.Errorf("progress %q", p)
		}
		body := browsertest.Run(t, b, chromedp.Text(chromedp.CSS("body")))
		for _, leak := range []string{anonB, "E-0077", subA.Identity.Name, subA.Identity.Employer, subA.ApplicantID} {
			if strings.Contains(body, leak) {
				t.Errorf("the list shows %q", leak)
			}
		}
		if !strings.Contains(body, "工程") || !strings.Contains(body, "中级") {
			t.Errorf("series and level missing: %q", body)
		}
		b.Check(t, "reviewer's list")
		b.Screenshot(t, "review-list.png", docsDir())
		b.ViewportScreenshot(t, "review-list-phone.png", docsDir(), 390, 844)
	})

	var pageImg []image.Image
	t.Run("open the packet: pages drawn from the reviewer's stamped copy", func(t *testing.T) {
		b.TabTo(t, "open-"+anonA, 30)
		b.Enter(t)
		b.Do(t, "the packet", chromedp.WaitVisible(chromedp.ID("pages")))
		n := browsertest.Run(t, b, chromedp.Evaluate[int](`document.querySelectorAll('#pages img').length`))
		if n != repA.Packet.Pages {
			t.Fatalf("%d page images, the packet has %d pages", n, repA.Packet.Pages)
		}
		// Scroll through so that every lazy image loads, as a reader would.
		b.Do(t, "read every page", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#pages img').forEach(i => i.loading = 'eager')`),
			browsertest.ImagesLoaded())
		for i := 1; i <= n; i++ {
			raw := browsertest.Run(t, b, chromedp.Evaluate[string](`fetch('/review/packets/`+anonA+`/pages/`+strconv.Itoa(i)+`').then(r => r.arrayBuffer())
				.then(b => { let s = ''; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`, chromedp.EvalAwaitPromise))
			data, _ := base64.StdEncoding.DecodeString(raw)
			img, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("page %d: %v", i, err)
			}
			pageImg = append(pageImg, img)
		}
		body := browsertest.Run(t, b, chromedp.Text(chromedp.CSS("body")))
		if strings.Contains(body, subA.Identity.Name) || strings.Contains(body, subA.ApplicantID) || strings.Contains(body, "E-0077") {
			t.Error("the packet page names the applicant or another reviewer")
		}
		b.Check(t, "packet")
		b.ViewportScreenshot(t, "review-packet.png", docsDir(), 1280, 1000)
		b.ViewportScreenshot(t, "review-packet-phone.png", docsDir(), 390, 844)
	})

	t.Run("download the personal copy", func(t *testing.T) {
		dl := t.TempDir()
		if _, err := chromedp.Call(b.Ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dl, EventsEnabled: new(true)}); err != nil {
			t.Fatal(err)
		}
		ev := chromedp.Events(b.Ctx, browser.DownloadWillBegin)
		names := make(chan string, 1)
		go func() {
			for x, err := range ev {
				if err != nil {
					return
				}
				names <- x.SuggestedFilename
				return
			}
		}()
		b.TabTo(t, "download", 30)
		b.Enter(t)
		var name string
		select {
		case name = <-names:
		case <-time.After(30 * time.Second):
			t.Fatal("no download began")
		}
		if name != anonA+".pdf" {
			t.Errorf("the browser saves the copy as %q", name)
		}
		var copyPDF []byte
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && copyPDF == nil; time.Sleep(100 * time.Millisecond) {
			files, _ := os.ReadDir(dl)
			for _, f := range files {
				if data, err := os.ReadFile(filepath.Join(dl, f.Name())); err == nil && bytes.HasSuffix(bytes.TrimSpace(data), []byte("%%EOF")) {
					copyPDF = data
				}
			}
		}
		if copyPDF == nil {
			t.Fatal("the download did not finish")
		}
		// Judged by independent tools: the copy names E-0042 on every
		// page, and every page image the browser showed is a drawing of
		// that copy — not of the packet, whose top carries no stamp.
		cp := pdfcheck.File(t, copyPDF)
		pk := filepath.Join(t.TempDir(), "packet.pdf")
		rc, _, err := e.buckets.Packets.Get(ctx, storage.PacketKey("2024", anonA))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(rc)
		rc.Close()
		os.WriteFile(pk, raw, 0o600)
		for i, shown := range pageImg {
			if text := pdfcheck.Text(t, cp, i+1, i+1); !strings.Contains(text, "评审专家E-0042") {
				t.Errorf("copy page %d has no stamp: %q", i+1, text)
			}
			ofCopy, ofPacket := pdfcheck.Render(t, cp, i+1, 110), pdfcheck.Render(t, pk, i+1, 110)
			top := image.Rect(0, 0, shown.Bounds().Dx(), shown.Bounds().Dy()*6/100)
			dCopy, dCopyTop, dPacketTop := meanDiff(shown, ofCopy, shown.Bounds()), meanDiff(shown, ofCopy, top), meanDiff(shown, ofPacket, top)
			if dCopy > 4 || dPacketTop < 2*dCopyTop+0.5 {
				t.Errorf("page %d: differs from the copy's rendering by %.2f (%.2f in the top band, where the stamp is), from the packet's by %.2f there",
					i+1, dCopy, dCopyTop, dPacketTop)
			}
		}
	})

	t.Run("mark reviewed", func(t *testing.T) {
		b.TabTo(t, "mark", 30)
		b.Enter(t)
		b.Do(t, "marked", chromedp.WaitVisible(chromedp.CSS(`#review-state[data-state="reviewed"]`)))
		b.Do(t, "the list", chromedp.Navigate(base+"/review/"), chromedp.WaitVisible(chromedp.ID("progress")))
		if p := browsertest.Run(t, b, chromedp.Text(chromedp.ID("progress"))); p != "1 / 1" {
			t.Errorf("progress %q", p)
		}
		found := false
		for _, ev := range e.trail("2024", subA.ApplicantID) {
			found = found || ev.Action == "reviewed" && ev.Actor == "reviewer:E-0042" && strings.Contains(ev.Detail, anonA) && ev.From != ""
		}
		if !found {
			t.Error("the review mark is not in the audit trail")
		}
	})

	t.Run("another reviewer's packet by URL", func(t *testing.T) {
		before := len(e.trail("2024", subB.ApplicantID))
		for _, p := range []string{"", "/pages/1", "/download"} {
			code := browsertest.Run(t, b, chromedp.Evaluate[int](`fetch('/review/packets/`+anonB+p+`').then(r => r.status)`, chromedp.EvalAwaitPromise))
			if code != 403 {
				t.Errorf("%s%s: %d", anonB, p, code)
			}
		}
		b.Do(t, "open B's packet", chromedp.Navigate(base+"/review/packets/"+anonB), chromedp.WaitVisible(chromedp.CSS("p.alert")))
		if n := browsertest.Run(t, b, chromedp.Evaluate[int](`document.querySelectorAll('#pages img').length`)); n != 0 {
			t.Error("B's pages are shown")
		}
		b.Check(t, "refusal")
		refused := 0
		for _, ev := range e.trail("2024", subB.ApplicantID) {
			if ev.Action == "access_refused" && ev.Actor == "reviewer:E-0042" {
				refused++
			}
		}
		if after := len(e.trail("2024", subB.ApplicantID)); refused != 4 || after-before != 4 {
			t.Errorf("%d refusals audited in B's trail (%d events added), want 4", refused, after-before)
		}
	})

	t.Run("a disabled reviewer's open session ends", func(t *testing.T) {
		b.Do(t, "signed in", chromedp.Navigate(base+"/review/"), chromedp.WaitVisible(chromedp.ID("progress")))
		if _, err := (&people.Accounts{State: e.state}).SetDisabled(ctx, rev.Name, true, "admin:wang.li"); err != nil {
			t.Fatal(err)
		}
		b.Do(t, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("user")))
		// A fetch follows the redirect to the sign-in page: no PDF.
		typ := browsertest.Run(t, b, chromedp.Evaluate[string](`fetch('/review/packets/`+anonA+`/download').then(r => r.headers.get('Content-Type'))`, chromedp.EvalAwaitPromise))
		if strings.Contains(typ, "pdf") {
			t.Error("a disabled reviewer still downloads")
		}
		// Signing in again is refused like a wrong password.
		b.Do(t, "sign in again",
			chromedp.SendKeys(chromedp.ID("user"), rev.Name), chromedp.SendKeys(chromedp.ID("password"), rev.Password),
			chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("login-error")))
	})

	t.Run("five wrong passwords lock the account", func(t *testing.T) {
		victim := peopletest.Add(t, e.state, "E-0100", state.RoleReviewer)
		peopletest.NewClient(t, base).SignIn(victim) // enrolled, as people are
		for i := 1; i <= 6; i++ {
			pw := "wrong-password-" + strconv.Itoa(i)
			if i == 6 {
				pw = victim.Password // the right one, too late
			}
			b.Do(t, "sign in", chromedp.Navigate(base+"/account/signin"), chromedp.WaitVisible(chromedp.ID("user")),
				chromedp.SendKeys(chromedp.ID("user"), victim.Name), chromedp.SendKeys(chromedp.ID("password"), pw),
				chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("login-error")))
			msg := browsertest.Run(t, b, chromedp.Text(chromedp.ID("login-error")))
			if locked := strings.Contains(msg, "锁定"); locked != (i >= 5) {
				t.Errorf("attempt %d: %q", i, msg)
			}
		}
		b.Check(t, "locked")
		sec, err := e.state.SecurityTrail(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		failed, locked, refused := 0, 0, 0
		for _, ev := range sec {
			if ev.Actor != "person:E-0100" {
				continue
			}
			switch ev.Action {
			case "signin_failed":
				failed++
			case "signin_locked":
				locked++
			case "signin_refused":
				refused++
			}
			if !strings.HasPrefix(ev.From, "127.0.0.1") {
				t.Errorf("event without its address: %+v", ev)
			}
		}
		if failed != 5 || locked != 1 || refused != 1 {
			t.Errorf("security trail: %d failures, %d locks, %d refusals; want 5, 1, 1", failed, locked, refused)
		}
	})

	t.Run("an administrator's console session on the same accounts", func(t *testing.T) {
		peopletest.NewClient(t, base).SignIn(admin)
		b.Do(t, "sign in",
			chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.ID("user")),
			chromedp.SendKeys(chromedp.ID("user"), admin.Name), chromedp.SendKeys(chromedp.ID("password"), admin.Password),
			chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("code")))
		b.Check(t, "code")
		b.Do(t, "code", chromedp.SendKeys(chromedp.ID("code"), admin.Code(t)), chromedp.Click(chromedp.ID("verify")),
			chromedp.WaitVisible(chromedp.ID("nav-attention")))
		if who := browsertest.Run(t, b, chromedp.Text(chromedp.CSS("header .who"))); who != "admin:wang.li" {
			t.Errorf("signed in as %q", who)
		}
		b.Check(t, "console list")
		code := browsertest.Run(t, b, chromedp.Evaluate[int](`fetch('/review/').then(r => r.status)`, chromedp.EvalAwaitPromise))
		if code != 403 {
			t.Errorf("an administrator in the reviewers' portal: %d", code)
		}
		b.Do(t, "sign out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("user")))
	})

	t.Run("public results", func(t *testing.T) {
		b.Do(t, "results", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("results-2024")))
		txt := browsertest.Run(t, b, chromedp.Text(chromedp.ID("results-2024")))
		for _, want := range []string{batch.Title, batch.DocNumber, batch.Date, strconv.Itoa(len(batch.Approved))} {
			if !strings.Contains(txt, want) {
				t.Errorf("results lack %q: %q", want, txt)
			}
		}
		b.Check(t, "results")
		b.Screenshot(t, "results.png", docsDir())
		got := browsertest.Run(t, b, chromedp.Evaluate[string](`fetch(document.querySelector('#results-2024 a.download').href)
			.then(r => r.arrayBuffer()).then(b => { let s = ''; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`,
			chromedp.EvalAwaitPromise))
		if data, _ := base64.StdEncoding.DecodeString(got); !bytes.Equal(data, genuine) {
			t.Error("the download is not the issued file")
		}
	})

	t.Run("verify", func(t *testing.T) {
		dir := t.TempDir()
		for _, tc := range []struct {
			name    string
			file    []byte
			genuine bool
			shot    string
		}{
			{"issued", genuine, true, "verify-genuine.png"},
			{"one byte changed", changed, false, ""},
			{"signed by another key", foreign, false, "verify-forged.png"},
			{"not a PDF", []byte("hello"), false, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".pdf")
				os.WriteFile(p, tc.file, 0o600)
				b.Do(t, "upload", chromedp.Navigate(base+"/verify/"), chromedp.WaitVisible(chromedp.ID("file")),
					chromedp.SetUploadFiles(chromedp.ID("file"), []string{p}), chromedp.Click(chromedp.ID("check")),
					chromedp.WaitVisible(chromedp.ID("verdict")))
				got := browsertest.Run(t, b, chromedp.AttributeValue(chromedp.ID("verdict"), "data-genuine"))
				if got.Value != strconv.FormatBool(tc.genuine) {
					t.Errorf("genuine = %s, want %t: %s", got.Value, tc.genuine, browsertest.Run(t, b, chromedp.Evaluate[string](`document.querySelector('main').innerText`)))
				}
				if tc.genuine {
					for id, want := range map[string]string{"doc-number": batch.DocNumber, "doc-date": batch.Date, "doc-persons": strconv.Itoa(len(batch.Approved))} {
						if txt := browsertest.Run(t, b, chromedp.Text(chromedp.ID(id))); txt != want {
							t.Errorf("#%s = %q, want %q", id, txt, want)
						}
					}
					if n := browsertest.Run(t, b, chromedp.Evaluate[int](`document.querySelectorAll('#published').length`)); n != 1 {
						t.Error("not recognised as the published file")
					}
				}
				b.Check(t, "verify "+tc.name)
				if tc.shot != "" {
					b.Screenshot(t, tc.shot, docsDir())
				}
			})
		}
	})

	msgs, dialogs := b.Snapshot()
	for _, m := range msgs {
		if strings.Contains(m, "Content Security Policy") || strings.HasPrefix(m, "exception") {
			t.Errorf("browser console: %s", m)
		}
	}
	if len(dialogs) > 0 {
		t.Errorf("dialogs opened: %q", dialogs)
	}
	t.Logf("browser part took %v", time.Since(start).Round(time.Millisecond))
}

// meanDiff is the mean absolute difference of the grey levels of a and
// b over r (b scaled to a's size when they differ by a pixel or two).
func meanDiff(a, b image.Image, r image.Rectangle) float64 {
	ab, bb := a.Bounds(), b.Bounds()
	var sum float64
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			bx := bb.Min.X + (x-ab.Min.X)*bb.Dx()/ab.Dx()
			by := bb.Min.Y + (y-ab.Min.Y)*bb.Dy()/ab.Dy()
			sum += math.Abs(grey(a.At(x, y)) - grey(b.At(bx, by)))
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func grey(c interface{ RGBA() (r, g, b, a uint32) }) float64 {
	r, g, b, _ := c.RGBA()
	return (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b)) / 257
}
