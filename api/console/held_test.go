package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/internal/browsertest"
	"github.com/blindpack/blindpack/internal/peopletest"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/workers"
)

// nameEngine "reads" the applicant's name at the same place on every
// page, outside every mask of the sample: the OCR of a scan whose mask
// was drawn in the wrong place, without Tesseract's second a page.
type nameEngine struct{}

func (nameEngine) Recognize(_ context.Context, img image.Image) ([]ocr.Word, error) {
	b := img.Bounds()
	box := image.Rect(b.Min.X+b.Dx()*10/100, b.Min.Y+b.Dy()*5/100, b.Min.X+b.Dx()*22/100, b.Min.Y+b.Dy()*7/100)
	return []ocr.Word{{Text: hostileName, Box: box, Conf: 95}}, nil
}

// gatedEnv is the console in front of a worker whose OCR gate reads with
// nameEngine: every accepted packet is held.
func gatedEnv(t *testing.T) *env {
	t.Helper()
	ocrQueue := asynq.NewClient(asynq.RedisClientOpt{Addr: testenv.Redis(t), DB: redisDB})
	t.Cleanup(func() { ocrQueue.Close() })
	return newEnvWith(t, func(h *workers.Handler) {
		h.OCRQueue = ocrQueue
		h.OCR = &workers.OCRHandler{Engine: nameEngine{}} // every page read (not ocr.Screened)
	})
}

// call is one request to the API with a bearer token.
func (e *env) call(method, path, token string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// held submits an applicant's copy of the sample and waits for its held
// report.
func (e *env) held(applicantID string) *pipeline.Report {
	e.t.Helper()
	doc, dir := applicant(e.t, applicantID, applicantID+"-r1", false, nil)
	p, err := e.submitter.SubmitDir(context.Background(), doc, dir)
	if err != nil {
		e.t.Fatal(err)
	}
	rep := e.report(p.Campaign, p.ApplicantID, p.SubmissionID, nil)
	if rep.Status != pipeline.Held {
		e.t.Fatalf("%s: %s, want held", p.SubmissionID, rep.Status)
	}
	return rep
}

// signIn fills in the sign-in form and the second factor for p, then
// waits for the element with id then.
func signIn(t *testing.T, p *peopletest.Person, then string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.SendKeys(chromedp.ID("user"), p.Name),
		chromedp.SendKeys(chromedp.ID("password"), p.Password),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), p.Code(t)),
		chromedp.Click(chromedp.ID("verify")),
		chromedp.WaitVisible(chromedp.ID(then)),
	}
}

// waitState polls the page's state until it is want.
func waitState(t *testing.T, b *browsertest.Browser, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	state := ""
	for time.Now().Before(deadline) && state != want {
		time.Sleep(300 * time.Millisecond)
		ctx, cancel := context.WithTimeout(b.Ctx, 5*time.Second)
		state, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('state') || {dataset: {}}).dataset.state || ''`))
		cancel()
	}
	if state != want {
		t.Fatalf("the page did not turn %s (state %q)", want, state)
	}
}

// TestHeldBrowser: a scan whose mask is in the wrong place is held, and
// no reviewer can download it; an administrator sees the page with the
// box drawn, in the browser at a phone's and a laptop's width and with
// the keyboard, and releases it with a reason — published, downloadable —
// or returns another — a return, the box in the findings and the contact
// sheet.
func TestHeldBrowser(t *testing.T) {
	testenv.Tool(t, "chromium")
	testenv.Tool(t, "pdftoppm")
	e := gatedEnv(t)
	ctx := context.Background()
	repR, repT := e.held("H2024-000501"), e.held("H2024-000502")

	// Assigned, and still not downloadable while held.
	if code, body := e.call("POST", "/v1/assignments", e.tok["admin"], map[string]string{"anon_code": repR.AnonCode, "reviewer": "E-0042"}); code != 201 {
		t.Fatalf("assign: %d %s", code, body)
	}
	if code, body := e.call("GET", "/v1/packets/"+repR.AnonCode, e.tok["reviewer"], nil); code != 404 || !bytes.Contains(body, []byte("packet_unavailable")) {
		t.Fatalf("download of a held packet: %d %s", code, body)
	}
	if _, err := e.buckets.Packets.Stat(ctx, storage.PacketKey("2024", repR.AnonCode)); err == nil {
		t.Fatal("a held packet is in the packets bucket")
	}
	available := func() bool {
		t.Helper()
		code, body := e.call("GET", "/v1/packets", e.tok["reviewer"], nil)
		var v struct {
			Packets []struct {
				AnonCode  string `json:"anon_code"`
				Available bool   `json:"available"`
			} `json:"packets"`
		}
		if code != 200 || json.Unmarshal(body, &v) != nil || len(v.Packets) != 1 || v.Packets[0].AnonCode != repR.AnonCode {
			t.Fatalf("reviewer's list: %d %s", code, body)
		}
		return v.Packets[0].Available
	}
	if available() {
		t.Fatal("the reviewer's list offers a held packet")
	}

	b := browsertest.New(t)
	base := e.srv.URL
	admin := e.person["admin"]
	e.client().SignIn(admin)
	b.Do(t, "open the console", chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.ID("user")))
	b.Do(t, "sign in", signIn(t, admin, "attention")...)
	rows := browsertest.Run(t, b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#attention tbody tr')).map(r => r.dataset.submission + ' ' + r.innerText)`))
	if len(rows) != 2 || !strings.Contains(rows[0], "held") || !strings.Contains(rows[1], "held") {
		t.Errorf("attention rows %q, want the two held submissions", rows)
	}

	sub := "/console/submissions/H2024-000501-r1"
	b.Do(t, "open the held submission",
		chromedp.Navigate(base+sub),
		chromedp.WaitVisible(chromedp.ID("held")),
		browsertest.ImagesLoaded(),
	)
	if st := browsertest.Run(t, b, chromedp.AttributeValue(chromedp.ID("state"), "data-state")); st.Value != "held" {
		t.Fatalf("state %q", st.Value)
	}
	// One image per material page, each the staged packet's page drawn
	// with its box: red pixels where the hit is.
	imgs := browsertest.Run(t, b, chromedp.Evaluate[[]int](`Array.from(document.querySelectorAll('#held img')).map(i => i.naturalWidth)`))
	if len(imgs) != repR.Packet.Pages-1 || imgs[0] < 500 {
		t.Fatalf("held images %v, want %d drawn pages", imgs, repR.Packet.Pages-1)
	}
	// The frame crosses the middle of the box's height near its left
	// edge (10 % of the width; OCR places it within a few pixels).
	red := browsertest.Run(t, b, chromedp.Evaluate[int](`(() => { const i = document.querySelector('#held img'); const c = document.createElement('canvas');
		c.width = i.naturalWidth; c.height = i.naturalHeight; const g = c.getContext('2d'); g.drawImage(i, 0, 0);
		const y = Math.floor(i.naturalHeight * 0.06); let n = 0;
		for (let x = Math.floor(i.naturalWidth * 0.05); x < Math.floor(i.naturalWidth * 0.15); x++) {
			const d = g.getImageData(x, y, 1, 1).data; if (d[0] > 180 && d[1] < 60 && d[2] < 60) n++; }
		return n; })()`))
	if red < 3 {
		t.Errorf("%d red pixels across the hit's left edge, want its frame", red)
	}
	b.Check(t, "held submission")

	// Release it with the keyboard: the reason, the button, the
	// confirmation.
	const reason = "识别为同事姓名，非申请人"
	b.TabTo(t, "release-reason", 200)
	b.Type(t, reason)
	b.TabTo(t, "release", 5)
	b.Enter(t)
	b.Do(t, "the confirmation", chromedp.WaitVisible(chromedp.ID("confirm")))
	if txt := browsertest.Run(t, b, chromedp.Text(chromedp.ID("confirm-reason"))); txt != reason {
		t.Errorf("confirmation shows %q", txt)
	}
	b.Check(t, "release confirmation")
	b.TabTo(t, "confirm", 50)
	b.Enter(t)
	b.Do(t, "follow the decision", chromedp.WaitVisible(chromedp.ID("follow")))
	waitState(t, b, "accepted")
	if code, body := e.call("GET", "/v1/packets/"+repR.AnonCode, e.tok["reviewer"], nil); code != 200 || !bytes.HasPrefix(body, []byte("%PDF-")) {
		t.Fatalf("download after the release: %d %.200s", code, body)
	}
	if !available() {
		t.Error("the reviewer's list does not offer the released packet")
	}
	requested := browsertest.Run(t, b, chromedp.Text(chromedp.CSS(`#trail tr[data-action="release_requested"]`)))
	if !strings.Contains(requested, "admin:wang.li") || !strings.Contains(requested, reason) || !strings.Contains(requested, "127.0.0.1") {
		t.Errorf("audit entry: %q", requested)
	}

	// Return the other one.
	b.Do(t, "open the other held submission",
		chromedp.Navigate(base+"/console/submissions/H2024-000502-r1"),
		chromedp.WaitVisible(chromedp.ID("return-form")),
		chromedp.SendKeys(chromedp.ID("return-reason"), "信头处可见姓名"),
		chromedp.Click(chromedp.ID("return")),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		chromedp.Click(chromedp.ID("confirm")),
		chromedp.WaitVisible(chromedp.ID("follow")),
	)
	waitState(t, b, "rejected")
	got := e.report("2024", "H2024-000502", "H2024-000502-r1", repT)
	if got.Status != pipeline.Rejected || len(got.Findings) == 0 || got.Findings[0].Code != ocr.IdentityVisible ||
		!strings.Contains(got.Findings[0].MessageEN, "10–22 % across, 5–7 % down the page") {
		t.Fatalf("returned report %s %+v", got.Status, got.Findings)
	}
	// The page refreshes itself as the state changes, so the count is read
	// in one evaluation (a node looked up and then read can be replaced in
	// between), until it shows or a deadline passes.
	returns := ""
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !strings.HasPrefix(returns, "1"); {
		ctx, cancel := context.WithTimeout(b.Ctx, 5*time.Second)
		returns, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`((document.getElementById('returns') || {}).textContent || '').trim()`))
		cancel()
		if !strings.HasPrefix(returns, "1") {
			time.Sleep(300 * time.Millisecond)
		}
	}
	if !strings.HasPrefix(returns, "1") {
		t.Errorf("returns: %q", returns)
	}
	if _, err := e.buckets.Uploads.Stat(ctx, workers.ContactSheetKey("2024", "H2024-000502", "H2024-000502-r1")); err != nil {
		t.Errorf("contact sheet: %v", err)
	}
	b.Check(t, "returned submission")
	messages, _ := b.Snapshot()
	for _, m := range messages {
		if strings.Contains(m, "Content Security Policy") || strings.HasPrefix(m, "exception") {
			t.Errorf("browser console: %s", m)
		}
	}
}
