package workers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/workers"
)

func newSecret(t *testing.T) workers.Secret {
	t.Helper()
	s, err := workers.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseWebhooks(t *testing.T) {
	s1, s2 := newSecret(t), newSecret(t)
	good := fmt.Sprintf(`base_url: https://blindpack.example
timeout: 5s
endpoints:
  - id: portal
    url: https://portal.example/hooks
    secrets: [%s, %s]
    events: [submission.accepted, result.issued]
`, string(s1), string(s2))
	c, err := workers.ParseWebhooks([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Endpoints) != 1 || len(c.Endpoints[0].Secrets) != 2 || c.Timeout != 5*time.Second {
		t.Errorf("parsed %+v", c)
	}
	endpoint := func(extra string) string {
		return "endpoints:\n  - id: portal\n    url: https://portal.example/hooks\n    secrets: [" + string(s1) + "]\n" + extra
	}
	for _, tc := range []struct{ name, yaml string }{
		{"unknown key", endpoint("    secret: x\n")},
		{"not whsec", "endpoints:\n  - {id: p, url: https://p.example/, secrets: [hunter2-" + string(s1)[6:] + "]}\n"},
		{"short secret", "endpoints:\n  - {id: p, url: https://p.example/, secrets: [whsec_c2hvcnQ=]}\n"},
		{"three secrets", "endpoints:\n  - {id: p, url: https://p.example/, secrets: [" + string(s1) + ", " + string(s2) + ", " + string(s1) + "]}\n"},
		{"no secret", "endpoints:\n  - {id: p, url: https://p.example/}\n"},
		{"user in url", "endpoints:\n  - {id: p, url: 'https://u:pw@p.example/', secrets: [" + string(s1) + "]}\n"},
		{"ftp", "endpoints:\n  - {id: p, url: 'ftp://p.example/', secrets: [" + string(s1) + "]}\n"},
		{"bad id", "endpoints:\n  - {id: 'p/q', url: 'https://p.example/', secrets: [" + string(s1) + "]}\n"},
		{"same id twice", endpoint("  - {id: portal, url: 'https://q.example/', secrets: [" + string(s2) + "]}\n")},
		{"unknown event", endpoint("    events: [submission.lost]\n")},
		{"retry under 24 hours", "retry: [1s, 1m, 1h]\n" + endpoint("")},
		{"timeout over a minute", "timeout: 2m\n" + endpoint("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := workers.ParseWebhooks([]byte(tc.yaml))
			if !errors.Is(err, workers.ErrWebhooks) {
				t.Fatalf("err = %v, want ErrWebhooks", err)
			}
			// Whatever is wrong, the error never quotes a secret.
			for _, s := range []workers.Secret{s1, s2} {
				if strings.Contains(err.Error(), string(s)[6:]) {
					t.Errorf("the error quotes a secret: %v", err)
				}
			}
		})
	}
	// A secret never prints.
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "c", c, "s", s1)
	for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%+v %#v", c, c), logged.String(), mustJSON(t, c)} {
		if strings.Contains(out, string(s1)[6:]) || strings.Contains(out, string(s2)[6:]) {
			t.Errorf("a secret printed: %s", out)
		}
	}
}

// TestSignatureReferenceVerifier: what Sign writes, the Standard Webhooks
// reference verifier accepts with either secret of a rotation; a tampered
// body, another id, a stale or a future timestamp it refuses.
func TestSignatureReferenceVerifier(t *testing.T) {
	old, cur := newSecret(t), newSecret(t)
	body := []byte(`{"type":"submission.accepted","timestamp":"2024-09-20T02:00:00Z","data":{}}`)
	id := workers.EventID("submission.accepted", "A-r1", "A-r1")
	header := func(at time.Time, body []byte, secrets ...workers.Secret) http.Header {
		sig, err := workers.Sign(secrets, id, at, body)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", fmt.Sprint(at.Unix()))
		h.Set("webhook-signature", sig)
		return h
	}
	now := time.Now()
	for _, s := range []workers.Secret{old, cur} {
		wh, err := standardwebhooks.NewWebhook(string(s))
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(body, header(now, body, old, cur)); err != nil {
			t.Errorf("a rotation's signature refused: %v", err)
		}
		tampered := bytes.Replace(body, []byte("accepted"), []byte("refused!"), 1)
		for name, tc := range map[string]struct {
			h    http.Header
			body []byte
			want error
		}{
			"tampered body":     {header(now, body, old, cur), tampered, standardwebhooks.ErrNoMatchingSignature},
			"stale (6 min old)": {header(now.Add(-6*time.Minute), body, old, cur), body, standardwebhooks.ErrMessageTooOld},
			"6 min ahead":       {header(now.Add(6*time.Minute), body, old, cur), body, standardwebhooks.ErrMessageTooNew},
			"another secret":    {header(now, body, newSecret(t)), body, standardwebhooks.ErrNoMatchingSignature},
		} {
			if err := wh.Verify(tc.body, tc.h); !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", name, err, tc.want)
			}
		}
		h := header(now, body, old, cur)
		h.Set("webhook-id", workers.EventID("another"))
		if err := wh.Verify(body, h); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			t.Errorf("another id: %v", err)
		}
	}
	ab := workers.EventID("a", "b")
	if again := workers.EventID("a", "b"); ab != again || ab == workers.EventID("ab") || ab == workers.EventID("a", "b", "") {
		t.Error("EventID is not a function of its parts")
	}
}

// receiver is a webhook endpoint as an upload service would write it: it
// verifies every delivery with the Standard Webhooks reference verifier —
// with each secret of the rotation on its own, so both signatures must be
// there and right — and keeps the ids it has seen, dropping repeats.
type receiver struct {
	t       *testing.T
	secrets []workers.Secret
	// failFirst answers 500 to the first delivery of an event of this
	// type: the sender must retry it, with the same id.
	failFirst wire.EventType
	// slowFirst keeps the first delivery of an event of this type, then
	// answers after the sender's timeout: the sender retries what the
	// receiver already has, and the receiver must drop the repeat.
	slowFirst wire.EventType
	slowed    map[string]bool

	mu         sync.Mutex
	events     map[string]wire.Event // by webhook-id
	deliveries int
	repeats    int
	refused    []string
	failed     map[string]bool
	last       struct {
		header http.Header
		body   []byte
	}

	addr string
	srv  *http.Server
}

func newReceiver(t *testing.T, secrets ...workers.Secret) *receiver {
	r := &receiver{t: t, secrets: secrets, events: map[string]wire.Event{}, failed: map[string]bool{}, slowed: map[string]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.serve(ln)
	t.Cleanup(r.stop)
	return r
}

func (r *receiver) url() string { return "http://" + r.addr + "/hooks/blindpack" }

func (r *receiver) serve(ln net.Listener) {
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(ln)
}

// stop takes the receiver down: connections to it are refused.
func (r *receiver) stop() { r.srv.Close() }

// start brings it back on the same address.
func (r *receiver) start() {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("restart the receiver on %s: %v", r.addr, err)
	}
	r.serve(ln)
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries++
	r.last.header, r.last.body = req.Header.Clone(), body
	for _, s := range r.secrets {
		wh, err := standardwebhooks.NewWebhook(string(s))
		if err == nil {
			err = wh.Verify(body, req.Header)
		}
		if err != nil {
			r.refused = append(r.refused, err.Error())
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
	}
	id := req.Header.Get("webhook-id")
	var ev wire.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		r.refused = append(r.refused, "not an event: "+err.Error())
		http.Error(w, "not an event", http.StatusBadRequest)
		return
	}
	if ev.Type == r.failFirst && !r.failed[id] {
		r.failed[id] = true
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	if _, seen := r.events[id]; seen {
		r.repeats++ // a retry of what we have: acknowledge, do nothing
	} else {
		r.events[id] = ev
	}
	if ev.Type == r.slowFirst && !r.slowed[id] {
		r.slowed[id] = true
		r.mu.Unlock()
		time.Sleep(2 * time.Second) // past the sender's 1 s timeout
		r.mu.Lock()
	}
	w.WriteHeader(http.StatusNoContent)
}

// seen returns the events received, each once, by "type subject".
func (r *receiver) seen() map[string][]wire.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]wire.Event{}
	for _, ev := range r.events {
		key := string(ev.Type)
		if ev.Type == wire.EventResultIssued {
			d, _ := ev.Result()
			key += " " + d.DocNumber
		} else {
			d, _ := ev.Submission()
			key += " " + d.SubmissionID
		}
		out[key] = append(out[key], ev)
	}
	return out
}

// webhookEnv is a worker with webhooks on, its webhook server, and a
// signing key for result files.
type webhookEnv struct {
	*env
	hooks *workers.WebhookConfig
}

func newWebhookEnv(t *testing.T, clk *testClock, hooks *workers.WebhookConfig) *webhookEnv {
	t.Helper()
	is, _, _ := newIssuer(t)
	queue := asynq.NewClient(asynq.RedisClientOpt{Addr: testenv.Redis(t), DB: redisDB})
	t.Cleanup(func() { queue.Close() })
	e := newEnvWith(t, nil, clk.Now, func(h *workers.Handler) {
		h.Webhooks = &workers.Webhooks{Config: hooks, Queue: queue}
		h.Result = &workers.ResultHandler{Issuer: is, Uploads: h.Buckets.Uploads, Results: h.Buckets.Results}
	})
	srv, err := workers.StartWebhookServer(e.redis, hooks, workers.ServerConfig{DelayedTaskCheckInterval: 200 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return &webhookEnv{env: e, hooks: hooks}
}

// TestWebhooks runs the events of a campaign to a receiver that is taken
// down mid-run: it verifies every signature, sees each event exactly once
// after dropping repeats, and — started again after the outage — receives
// everything it missed. A second endpoint that never answers stalls
// neither the workers nor the first endpoint. The outage lasts 6 s under
// `make test` and two minutes under `make faults` (BLINDPACK_FAULTS=1),
// with a retry schedule scaled to it; production retries for 27 hours.
func TestWebhooks(t *testing.T) {
	outage := 6 * time.Second
	retry := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}
	if os.Getenv("BLINDPACK_FAULTS") != "" {
		outage = 2 * time.Minute
		retry = []time.Duration{5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute, time.Minute, time.Minute, time.Minute}
	}
	ctx := context.Background()
	clk := &testClock{t: time.Date(2024, 9, 20, 10, 0, 0, 0, beijing)}
	old, cur := newSecret(t), newSecret(t)
	recv := newReceiver(t, old, cur)
	recv.failFirst = wire.EventSubmissionAccepted
	recv.slowFirst = wire.EventResultIssued
	// An endpoint that takes the connection and never answers.
	hang := make(chan struct{})
	slow := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang })}
	sln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go slow.Serve(sln)
	t.Cleanup(func() { close(hang); slow.Close() })

	hooks := &workers.WebhookConfig{BaseURL: "https://blindpack.example", Timeout: time.Second, Concurrency: 3, Retry: retry,
		Endpoints: []workers.WebhookEndpoint{
			{ID: "portal", URL: recv.url(), Secrets: []workers.Secret{old, cur}},
			{ID: "slow", URL: "http://" + sln.Addr().String() + "/", Secrets: []workers.Secret{newSecret(t)}},
		}}
	if err := hooks.Validate(); err != nil {
		t.Fatal(err)
	}
	e := newWebhookEnv(t, clk, hooks)

	var identities []pipeline.Identity
	submit := func(applicantID, submissionID string, blurred bool) *pipeline.Report {
		t.Helper()
		doc, dir := applicant(t, applicantID, submissionID, blurred)
		sub, _ := pipeline.ParseSubmission(doc)
		identities = append(identities, sub.Identity)
		p, err := e.submitter.SubmitDir(ctx, doc, dir)
		if err != nil {
			t.Fatal(err)
		}
		return e.report(t, p)
	}
	waitFor := func(d time.Duration, keys ...string) {
		t.Helper()
		deadline := time.Now().Add(d)
		for time.Now().Before(deadline) {
			seen, missing := recv.seen(), 0
			for _, k := range keys {
				if len(seen[k]) == 0 {
					missing++
				}
			}
			if missing == 0 {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("after %s the receiver has %v, want %v", d, keysOf(recv.seen()), keys)
	}

	// Before the outage: an accepted and a returned submission, a result.
	if rep := submit("W1", "W1-r1", false); rep.Status != pipeline.Accepted {
		t.Fatalf("W1: %s", rep.Status)
	}
	if rep := submit("W2", "W2-r1", true); rep.Status != pipeline.Rejected {
		t.Fatalf("W2: %s", rep.Status)
	}
	if _, err := (&workers.ResultSubmitter{Uploads: e.buckets.Uploads, Client: e.client}).Submit(ctx, batchDoc(t)); err != nil {
		t.Fatal(err)
	}
	waitFor(time.Minute, "submission.accepted W1-r1", "submission.returned W2-r1", "result.issued 头人社发〔2024〕12号")

	// The receiver goes down; two more submissions are decided meanwhile,
	// and their deliveries fail.
	recv.stop()
	down := time.Now()
	if rep := submit("W3", "W3-r1", false); rep.Status != pipeline.Accepted {
		t.Fatalf("W3: %s", rep.Status)
	}
	if rep := submit("W1", "W1-r2", false); rep.Status != pipeline.Refused {
		t.Fatalf("W1-r2: %s", rep.Status)
	}
	failedWhileDown := func() int {
		tasks, _ := e.inspector.ListRetryTasks(workers.QueueWebhooks, asynq.PageSize(100))
		n := 0
		for _, ti := range tasks {
			if strings.HasPrefix(ti.ID, "webhook:portal:") && ti.LastErr != "" {
				n++
			}
		}
		return n
	}
	// Deliveries to it fail and wait for a retry: seen at any time during
	// the outage (a single look at its end can fall on the moment a
	// delivery is being tried again, out of the retry set).
	failed := 0
	for time.Since(down) < outage {
		failed = max(failed, failedWhileDown())
		time.Sleep(100 * time.Millisecond)
	}
	if failed == 0 {
		t.Fatalf("no delivery to the receiver failed during a %s outage", outage)
	}
	if got := recv.seen(); len(got["submission.accepted W3-r1"]) > 0 {
		t.Fatal("delivered while the receiver was down")
	}
	failedAttempts := 0
	if tasks, err := e.inspector.ListRetryTasks(workers.QueueWebhooks, asynq.PageSize(100)); err == nil {
		for _, ti := range tasks {
			if strings.HasPrefix(ti.ID, "webhook:portal:") {
				failedAttempts += ti.Retried
			}
		}
	}
	recv.start()
	up := time.Now()
	var total time.Duration
	for _, d := range retry {
		total += d
	}
	waitFor(total+30*time.Second, "submission.accepted W3-r1", "submission.refused W1-r2")
	t.Logf("receiver down %s: %d failed attempts to it; everything it missed received %.1f s after it came back",
		up.Sub(down).Round(time.Second), failedAttempts, time.Since(up).Seconds())

	// Every event once; every delivery signed right with both secrets.
	seen := recv.seen()
	want := map[string]string{
		"submission.accepted W1-r1":   "accepted",
		"submission.returned W2-r1":   "rejected",
		"result.issued 头人社发〔2024〕12号": "",
		"submission.accepted W3-r1":   "accepted",
		"submission.refused W1-r2":    "refused",
	}
	if len(seen) != len(want) {
		t.Errorf("events %v, want %d kinds", keysOf(seen), len(want))
	}
	for key, status := range want {
		evs := seen[key]
		if len(evs) != 1 {
			t.Errorf("%s: %d distinct events, want 1", key, len(evs))
			continue
		}
		if status == "" {
			// Its link is the file's public address (api/public serves it).
			d, err := evs[0].Result()
			if err != nil || d.Persons < 1 || len(d.SHA256) != 64 || d.Campaign != "2024" ||
				d.Links["file"] != "https://blindpack.example"+wire.ResultFilePath(d.OutputKey) || !strings.HasPrefix(d.Links["file"], "https://blindpack.example/results/files/2024/") {
				t.Errorf("%s: %+v %v", key, d, err)
			}
			continue
		}
		d, err := evs[0].Submission()
		if err != nil || d.Status != status || d.Campaign != "2024" || d.Links["submission"] != "https://blindpack.example/v1/submissions/"+d.SubmissionID {
			t.Errorf("%s: %+v %v", key, d, err)
		}
		if key == "submission.returned W2-r1" && (d.Returns != 1 || d.MaxReturns != 3 || d.ResubmitBy == nil || !containsCode(d.Codes, "blurry")) {
			t.Errorf("the return: %+v", d)
		}
	}
	recv.mu.Lock()
	refused, repeats, deliveries, failed, lastBody := recv.refused, recv.repeats, recv.deliveries, len(recv.failed), recv.last.body
	lastHeader := recv.last.header
	for id := range recv.failed {
		if _, ok := recv.events[id]; !ok {
			t.Errorf("the delivery answered 500 (%s) was not retried with the same id", id)
		}
	}
	recv.mu.Unlock()
	if repeats == 0 {
		t.Error("the result delivery answered after the sender's timeout was not retried: nothing to de-duplicate")
	}
	if len(refused) > 0 {
		t.Errorf("deliveries refused by the reference verifier: %v", refused)
	}
	if failed == 0 || deliveries < len(want)+failed+repeats {
		t.Errorf("%d deliveries, %d answered 500 on purpose: the retried ones were not delivered again", deliveries, failed)
	}
	t.Logf("%d deliveries, %d repeats dropped, %d answered 500 once; outage %s", deliveries, repeats, failed, outage)
	// Never a name or an employer in an event (nor in its task payload).
	var bodies bytes.Buffer
	for _, evs := range seen {
		for _, ev := range evs {
			json.NewEncoder(&bodies).Encode(ev)
		}
	}
	tasks, _ := e.inspector.ListCompletedTasks(workers.QueueWebhooks, asynq.PageSize(100))
	for _, ti := range tasks {
		bodies.Write(ti.Payload)
	}
	for _, id := range identities {
		if bytes.Contains(bodies.Bytes(), []byte(id.Name)) || bytes.Contains(bodies.Bytes(), []byte(id.Employer)) {
			t.Error("an identity in an event or a delivery payload")
		}
	}
	for _, s := range []workers.Secret{old, cur} {
		if bytes.Contains(bodies.Bytes(), []byte(string(s)[6:])) {
			t.Error("a secret in a delivery payload")
		}
	}

	// A delivery replayed with a changed body, or signed over five minutes
	// ago, is refused by the reference verifier.
	wh, _ := standardwebhooks.NewWebhook(string(cur))
	if err := wh.Verify(bytes.Replace(lastBody, []byte(`"data":{`), []byte(`"data":{"x":1,`), 1), lastHeader); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("tampered replay: %v", err)
	}
	stale := lastHeader.Clone()
	at := time.Now().Add(-5*time.Minute - 10*time.Second)
	sig, _ := workers.Sign([]workers.Secret{old, cur}, stale.Get("webhook-id"), at, lastBody)
	stale.Set("webhook-timestamp", fmt.Sprint(at.Unix()))
	stale.Set("webhook-signature", sig)
	if err := wh.Verify(lastBody, stale); !errors.Is(err, standardwebhooks.ErrMessageTooOld) {
		t.Errorf("stale delivery: %v", err)
	}

	// The endpoint that never answers: its deliveries time out and wait
	// for their retries; nothing of it reached the reports or the receiver.
	retries, _ := e.inspector.ListRetryTasks(workers.QueueWebhooks, asynq.PageSize(100))
	slowFailed := 0
	for _, ti := range retries {
		if strings.HasPrefix(ti.ID, "webhook:slow:") && strings.Contains(ti.LastErr, "no answer within 1s") {
			slowFailed++
		}
	}
	if slowFailed == 0 {
		var errs []string
		for _, ti := range retries {
			errs = append(errs, ti.ID+": "+ti.LastErr)
		}
		t.Errorf("no delivery to the silent endpoint timed out: %v", errs)
	}
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func containsCode(codes []string, c string) bool {
	for _, x := range codes {
		if x == c {
			return true
		}
	}
	return false
}

// TestWebhookArchived: a receiver that keeps failing gets every attempt of
// the schedule, then the delivery is archived in the webhooks queue (where
// the failures route and the console list it); a delivery for an endpoint
// no longer configured is archived at once.
func TestWebhookArchived(t *testing.T) {
	opt, _, _ := freshServices(t)
	var attempts sync.Map
	down := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := attempts.LoadOrStore(r.Header.Get("webhook-id"), new(int))
		*n.(*int)++
		http.Error(w, "down", http.StatusServiceUnavailable)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go down.Serve(ln)
	t.Cleanup(func() { down.Close() })
	hooks := &workers.WebhookConfig{Timeout: time.Second, Retry: []time.Duration{300 * time.Millisecond, 300 * time.Millisecond},
		Endpoints: []workers.WebhookEndpoint{{ID: "down", URL: "http://" + ln.Addr().String() + "/", Secrets: []workers.Secret{newSecret(t)}}}}
	srv, err := workers.StartWebhookServer(opt, hooks, workers.ServerConfig{DelayedTaskCheckInterval: 100 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })

	w := &workers.Webhooks{Config: hooks, Queue: client}
	rep := pipeline.NewReport("2024", "X1", "X1-r1")
	rep.Status = pipeline.Accepted
	if err := w.SubmissionDecided(context.Background(), "X1-r1", rep, nil, 3); err != nil {
		t.Fatal(err)
	}
	// Emitting again (a re-run of the task) queues nothing new.
	if err := w.SubmissionDecided(context.Background(), "X1-r1", rep, nil, 3); err != nil {
		t.Fatal(err)
	}
	id := "webhook:down:" + workers.EventID(string(wire.EventSubmissionAccepted), "X1-r1", "X1-r1")
	info := waitArchived(t, insp, id)
	if info.Retried != 2 || !strings.Contains(info.LastErr, "answered 503") {
		t.Errorf("archived after %d retries: %s", info.Retried, info.LastErr)
	}
	attempts.Range(func(k, v any) bool {
		if *v.(*int) != 3 {
			t.Errorf("event %v: %d attempts, want 3", k, *v.(*int))
		}
		return true
	})

	// An endpoint taken out of the configuration: archived at once.
	gone := workers.WebhookPayload{Endpoint: "gone", EventID: workers.EventID("x"), EventType: wire.EventResultIssued, Body: []byte(`{}`)}
	task, err := workers.NewWebhookTask(gone, 7, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Enqueue(task); err != nil {
		t.Fatal(err)
	}
	if info := waitArchived(t, insp, "webhook:gone:"+gone.EventID); info.Retried != 0 {
		t.Errorf("an unknown endpoint was retried %d times", info.Retried)
	}
	if q := workers.AllQueues(); !containsCode(q, workers.QueueWebhooks) {
		t.Errorf("AllQueues %v lacks the webhooks queue", q)
	}
}

func waitArchived(t *testing.T, insp *asynq.Inspector, id string) *asynq.TaskInfo {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		info, err := insp.GetTaskInfo(workers.QueueWebhooks, id)
		if err == nil && info.State == asynq.TaskStateArchived {
			return info
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("delivery %s not archived", id)
	return nil
}
