package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/api"
	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/client"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/workers"
)

// TestAccessMatrix is the access-matrix run's findings, one by one: each
// answered 200/202 (or 405/307) before.
func TestAccessMatrix(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub, doc := e.upload("eng-intermediate", "")
	if _, err := e.up.Submit(ctx, doc); err != nil {
		t.Fatal(err)
	}

	t.Run("same submission_id under another applicant or campaign", func(t *testing.T) {
		for _, tc := range []struct{ name, campaign, applicant string }{
			{"another applicant", sub.Campaign, "A2024-000999"},
			{"another campaign", "2025", sub.ApplicantID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				other := *sub
				other.Campaign, other.ApplicantID = tc.campaign, tc.applicant
				other.Identity.Name = "李四" // another person's document
				data, err := other.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				_, err = e.up.Submit(ctx, data)
				if !errors.Is(err, client.ErrSubmissionConflict) {
					t.Fatalf("Submit = %v, want submission_conflict", err)
				}
				// Nothing stored: no second document (with its identity).
				key := storage.SubmissionKey(tc.campaign, tc.applicant, sub.SubmissionID)
				if _, err := e.buckets.Uploads.Stat(ctx, key); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("%s: %v, want nothing stored", key, err)
				}
				loc, err := e.state.Locate(ctx, sub.SubmissionID)
				if err != nil || loc.ApplicantID != sub.ApplicantID || loc.Campaign != sub.Campaign {
					t.Errorf("the id now names %+v (%v)", loc, err)
				}
			})
		}
		// The same document again is still "already queued".
		if got, err := e.up.Submit(ctx, doc); err != nil || !got.AlreadyQueued {
			t.Errorf("the same document again: %+v %v", got, err)
		}
	})

	t.Run("reprocess checks overrides and reasons", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			req  wire.ReprocessRequest
			want error
		}{
			{"material 999", wire.ReprocessRequest{Overrides: []wire.PageRef{{Material: 999, Page: 1}}, Reason: "ok"}, client.ErrInvalidOverride},
			{"page 0", wire.ReprocessRequest{Overrides: []wire.PageRef{{Material: 1, Page: 0}}, Reason: "ok"}, client.ErrInvalidOverride},
			{"no reason", wire.ReprocessRequest{Overrides: []wire.PageRef{{Material: 1, Page: 1}}}, client.ErrInvalidReason},
			{"NUL", wire.ReprocessRequest{Overrides: []wire.PageRef{{Material: 1, Page: 1}}, Reason: "ok\x00"}, client.ErrInvalidReason},
			{"CR LF", wire.ReprocessRequest{Overrides: []wire.PageRef{{Material: 1, Page: 1}}, Reason: "ok\r\nforged line"}, client.ErrInvalidReason},
			{"20000 characters", wire.ReprocessRequest{Overrides: []wire.PageRef{{Material: 1, Page: 1}}, Reason: strings.Repeat("字", 20000)}, client.ErrInvalidReason},
			{"70000 characters", wire.ReprocessRequest{Overrides: []wire.PageRef{{Material: 1, Page: 1}}, Reason: strings.Repeat("a", 70000)}, client.ErrBodyTooLarge},
			{"501 characters", wire.ReprocessRequest{Overrides: []wire.PageRef{{Material: 1, Page: 1}}, Reason: strings.Repeat("字", 501)}, client.ErrInvalidReason},
			{"NUL without overrides", wire.ReprocessRequest{Reason: "x\x00"}, client.ErrInvalidReason},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := e.admin.Reprocess(ctx, sub.SubmissionID, tc.req); !errors.Is(err, tc.want) {
					t.Errorf("Reprocess = %v, want %v", err, tc.want)
				}
			})
		}
		// Nothing was queued by the refused requests.
		for _, ev := range e.trail(sub.Campaign, sub.ApplicantID) {
			if ev.Action == "reprocess" || ev.Action == "override" {
				t.Errorf("queued or audited a refused reprocess: %+v", ev)
			}
		}
		ok, err := e.admin.Reprocess(ctx, sub.SubmissionID, wire.ReprocessRequest{Overrides: []wire.PageRef{{Material: 1, Page: 1}}, Reason: " 字迹可辨 "})
		if err != nil || ok.Overrides != 1 {
			t.Errorf("a good reprocess: %+v %v", ok, err)
		}
		// Overrides of a submission whose document is gone: nothing to
		// check them against, a 400, not a 500.
		gone, goneDoc := e.upload("acct-senior", "")
		if _, err := e.up.Submit(ctx, goneDoc); err != nil {
			t.Fatal(err)
		}
		if err := e.buckets.Uploads.Delete(ctx, storage.SubmissionKey(gone.Campaign, gone.ApplicantID, gone.SubmissionID)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.admin.Reprocess(ctx, gone.SubmissionID, wire.ReprocessRequest{Overrides: []wire.PageRef{{Material: 0, Page: 1}}, Reason: "ok"}); !errors.Is(err, client.ErrInvalidOverride) {
			t.Errorf("overrides of a vanished document: %v", err)
		}
	})

	t.Run("release and return check reasons and the hold", func(t *testing.T) {
		for _, tc := range []struct {
			name, reason string
			want         error
		}{
			{"no reason", "  ", client.ErrInvalidReason},
			{"CR LF", "ok\r\nforged line", client.ErrInvalidReason},
			{"not held", "OCR misread", client.ErrNotHeld},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := e.admin.Release(ctx, sub.SubmissionID, tc.reason); !errors.Is(err, tc.want) {
					t.Errorf("Release = %v, want %v", err, tc.want)
				}
				if _, err := e.admin.Return(ctx, sub.SubmissionID, tc.reason); !errors.Is(err, tc.want) {
					t.Errorf("Return = %v, want %v", err, tc.want)
				}
			})
		}
		if _, err := e.admin.Release(ctx, "nobody-r1", "ok"); !errors.Is(err, client.ErrUnknownSubmission) {
			t.Errorf("unknown submission: %v", err)
		}
	})

	t.Run("one strict decoder for every body", func(t *testing.T) {
		anon := "2024-AAAA-AAAA"
		for _, tc := range []struct {
			name, method, path, ctype string
			body                      string
			want                      wire.Code
		}{
			{"assignment, trailing garbage", "POST", "/v1/assignments", "application/json", `{"anon_code":"` + anon + `","reviewer":"E-1"} x`, wire.CodeMalformedJSON},
			{"assignment, a second value", "POST", "/v1/assignments", "application/json", `{"anon_code":"` + anon + `","reviewer":"E-1"}{}`, wire.CodeMalformedJSON},
			{"assignment, repeated key", "POST", "/v1/assignments", "application/json", `{"anon_code":"` + anon + `","reviewer":"E-1","reviewer":"E-2"}`, wire.CodeMalformedJSON},
			{"assignment, case-insensitive name", "POST", "/v1/assignments", "application/json", `{"Anon_Code":"` + anon + `","reviewer":"E-1"}`, wire.CodeMalformedJSON},
			{"assignment, unknown field", "POST", "/v1/assignments", "application/json", `{"anon_code":"` + anon + `","reviewer":"E-1","role":"admin"}`, wire.CodeMalformedJSON},
			{"assignment, text/plain", "POST", "/v1/assignments", "text/plain", `{"anon_code":"` + anon + `","reviewer":"E-1"}`, wire.CodeUnsupportedMediaType},
			{"assignment, no content type", "POST", "/v1/assignments", "", `{"anon_code":"` + anon + `","reviewer":"E-1"}`, wire.CodeUnsupportedMediaType},
			{"assignment, Latin-1", "POST", "/v1/assignments", "application/json; charset=iso-8859-1", `{}`, wire.CodeUnsupportedMediaType},
			{"assignment, too large", "POST", "/v1/assignments", "application/json", `{"anon_code":"` + strings.Repeat("A", 70000) + `"}`, wire.CodeBodyTooLarge},
			{"reprocess, trailing garbage", "POST", "/v1/submissions/" + sub.SubmissionID + "/reprocess", "application/json", `{"reason":"x"}]`, wire.CodeMalformedJSON},
			{"reprocess, repeated key", "POST", "/v1/submissions/" + sub.SubmissionID + "/reprocess", "application/json", `{"reason":"x","reason":"y"}`, wire.CodeMalformedJSON},
			{"reprocess, Overrides", "POST", "/v1/submissions/" + sub.SubmissionID + "/reprocess", "application/json", `{"Overrides":[{"material":1,"page":1}],"reason":"x"}`, wire.CodeMalformedJSON},
			{"reprocess, material as text", "POST", "/v1/submissions/" + sub.SubmissionID + "/reprocess", "application/json", `{"overrides":[{"material":"1","page":1}],"reason":"x"}`, wire.CodeMalformedJSON},
			{"submission, repeated identity name", "POST", "/v1/submissions", "application/json", strings.Replace(string(doc), `"name":`, `"name":"x","name":`, 1), wire.CodeInvalidSubmission},
			{"submission, Campaign", "POST", "/v1/submissions", "application/json", strings.Replace(string(doc), `"campaign"`, `"Campaign"`, 1), wire.CodeInvalidSubmission},
			{"submission, trailing brace", "POST", "/v1/submissions", "application/json", string(doc) + "}", wire.CodeInvalidSubmission},
			{"submission, form encoded", "POST", "/v1/submissions", "application/x-www-form-urlencoded", string(doc), wire.CodeUnsupportedMediaType},
			{"batch, trailing data", "POST", "/v1/results", "application/json", `{"schema":"blindpack/batch@1"} x`, wire.CodeInvalidBatch},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tok := e.tok["admin"]
				if tc.path == "/v1/submissions" {
					tok = e.tok["upload"]
				}
				r := e.raw(tc.method, tc.path, tok, tc.ctype, []byte(tc.body), nil)
				var body wire.Error
				if json.Unmarshal(r.body, &body); body.Code != tc.want || r.code != tc.want.Status() {
					t.Errorf("%d %s, want %s", r.code, r.body, tc.want)
				}
				if bytes.Contains(r.body, []byte("李四")) || bytes.Contains(r.body, []byte(sub.Identity.Name)) {
					t.Errorf("the answer quotes the document: %s", r.body)
				}
			})
		}
	})

	t.Run("authentication before routing", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, path, token string
			want                      int
			code                      wire.Code
		}{
			{"no token, wrong method", "PUT", "/v1/submissions", "", 401, wire.CodeUnauthenticated},
			{"no token, unclean path", "GET", "/v1//packets", "", 401, wire.CodeUnauthenticated},
			{"no token, dot segments", "GET", "/v1/x/../failures", "", 401, wire.CodeUnauthenticated},
			{"no token, no such route", "GET", "/v1/routes", "", 401, wire.CodeUnauthenticated},
			{"no token, trailing slash", "GET", "/v1/packets/", "", 401, wire.CodeUnauthenticated},
			{"no token, the document", "GET", "/v1/openapi.json", "", 401, wire.CodeUnauthenticated},
			{"wrong method", "PUT", "/v1/submissions", e.tok["upload"], 405, wire.CodeMethodNotAllowed},
			{"unclean path", "GET", "/v1//packets", e.tok["E-0042"], 404, wire.CodeNotFound},
			{"no such route", "GET", "/v1/routes", e.tok["admin"], 404, wire.CodeNotFound},
			{"outside /v1", "GET", "/nothing", "", 404, wire.CodeNotFound},
			{"outside /v1, wrong method", "POST", "/healthz", "", 405, wire.CodeMethodNotAllowed},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.raw(tc.method, tc.path, tc.token, "", nil, nil)
				var body wire.Error
				json.Unmarshal(r.body, &body)
				if r.code != tc.want || body.Code != tc.code || r.header.Get("Location") != "" {
					t.Errorf("%d %s (Location %q), want %d %s", r.code, r.body, r.header.Get("Location"), tc.want, tc.code)
				}
				if tc.want == 405 && r.header.Get("Allow") == "" {
					t.Errorf("405 without Allow")
				}
			})
		}
		// The console keeps its own redirect to its page.
		if r := e.raw("GET", "/console", "", "", nil, nil); r.code/100 != 3 || r.header.Get("Location") != "/console/" {
			t.Errorf("/console: %d %q", r.code, r.header.Get("Location"))
		}
	})
}

// TestErrorShapeAndRequestID: every answer has an X-Request-Id, error
// answers carry the same id in the error shape, the log line of the
// request carries it too, a caller's own well-formed id is kept and a
// malformed one replaced.
func TestErrorShapeAndRequestID(t *testing.T) {
	e := newEnv(t)
	logs := &syncBuffer{}
	d := e.deps
	d.Log = slog.New(slog.NewJSONHandler(logs, nil))
	srv := e.serve(api.Config{}, d)

	r := e.rawOn(srv, "GET", "/v1/submissions/nobody-r1", e.tok["upload"], "", nil, http.Header{"X-Request-Id": {"portal-7f3a.1"}})
	var body wire.Error
	if err := json.Unmarshal(r.body, &body); err != nil || r.code != 404 || body.Code != wire.CodeUnknownSubmission ||
		body.MessageZH == "" || body.MessageEN == "" || body.RequestID != "portal-7f3a.1" || r.header.Get("X-Request-Id") != "portal-7f3a.1" {
		t.Fatalf("%d %s, header id %q", r.code, r.body, r.header.Get("X-Request-Id"))
	}
	for _, bad := range []string{strings.Repeat("x", 65), "sp ace", "ünï", "a/b", `"quoted"`} {
		r := e.rawOn(srv, "GET", "/v1/packets", "", "", nil, http.Header{"X-Request-Id": {bad}})
		json.Unmarshal(r.body, &body)
		if id := r.header.Get("X-Request-Id"); id == bad || len(id) != 32 || body.RequestID != id {
			t.Errorf("caller's id %q: answered %q, body %q", bad, id, body.RequestID)
		}
	}
	ok := e.rawOn(srv, "GET", "/v1/packets", e.tok["E-0042"], "", nil, nil)
	if ok.code != 200 || ok.header.Get("X-Request-Id") == "" || ok.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("a success: %d, id %q", ok.code, ok.header.Get("X-Request-Id"))
	}
	// Each request's log line names its id.
	ids := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line struct {
			Msg       string `json:"msg"`
			RequestID string `json:"request_id"`
			Status    int    `json:"status"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "request" {
			ids[line.RequestID] = true
		}
	}
	for _, id := range []string{"portal-7f3a.1", ok.header.Get("X-Request-Id")} {
		if !ids[id] {
			t.Errorf("no log line with request id %q in\n%s", id, logs.String())
		}
	}
	// The catalogue: every code has both messages and an error status.
	for _, c := range wire.Codes() {
		zh, en := c.Messages()
		if zh == "" || en == "" || c.Status() < 400 {
			t.Errorf("code %s: %q %q %d", c, zh, en, c.Status())
		}
	}
}

// raw sends a request with an explicit content type and headers.
func (e *env) raw(method, path, token, ctype string, body []byte, h http.Header) response {
	return e.rawOn(e.srv, method, path, token, ctype, body, h)
}

func (e *env) rawOn(srv *httptest.Server, method, path, token, ctype string, body []byte, h http.Header) response {
	e.t.Helper()
	base := srv.URL
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if !strings.Contains(path, "?") {
		req.URL.Path = path // keep // and .. as sent
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, header: resp.Header, body: data}
}

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFailuresListWebhooks: a webhook delivery that failed for good is
// listed with the other failed tasks, by the event's submission.
func TestFailuresListWebhooks(t *testing.T) {
	e := newEnv(t)
	opt := asynq.RedisClientOpt{Addr: testenv.Redis(t), DB: redisDB}
	hooks := &workers.WebhookConfig{} // the endpoint was removed: archived at once
	srv, err := workers.StartWebhookServer(opt, hooks, workers.ServerConfig{DelayedTaskCheckInterval: 100 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	p := workers.WebhookPayload{Endpoint: "portal", EventID: workers.EventID("x"), EventType: wire.EventSubmissionAccepted,
		Campaign: "2024", ApplicantID: "A9", SubmissionID: "A9-r1", Body: []byte(`{"type":"submission.accepted"}`)}
	task, err := workers.NewWebhookTask(p, 7, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.asynq.Enqueue(task); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		f, err := e.admin.Failures(context.Background(), client.FailureQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range f.ArchivedTasks {
			if at.Queue == workers.QueueWebhooks && at.Type == workers.TypeDeliverWebhook && at.SubmissionID == "A9-r1" && strings.Contains(at.LastError, "not configured") {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("the failed delivery is not listed")
}
