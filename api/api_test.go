package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/blindpack/blindpack/api"
	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/client"
	"github.com/blindpack/blindpack/internal/pdfcheck"
	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/verify"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/storage/s3"
	"github.com/blindpack/blindpack/workers"
)

// redisDB is this package's database on the test Redis: packages run in
// parallel, and each that uses Redis has its own.
const redisDB = 4

const anonSecret = "api-test-secret-0123456789"

var (
	fontOnce sync.Once
	font     *pdfkit.Font
	fontErr  error
)

// env is the API in front of a real worker, Redis and S3 server, with one
// token per role (two reviewers).
type env struct {
	t       *testing.T
	deps    api.Deps
	srv     *httptest.Server
	ops     *httptest.Server // srv's OpsHandler: /readyz, /metrics
	client  *http.Client
	tok     map[string]string // upload, admin, E-0042, E-0077
	buckets storage.Buckets
	names   s3.BucketNames
	s3      testenv.S3
	asynq   *asynq.Client
	state   *state.Store
	// valid checks every answer against openapi.yaml; up and admin are
	// the Go client with the upload service's, an administrator's and
	// reviewer E-0042's tokens, through it.
	valid          *validator
	up, admin, rev *client.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	opt := asynq.RedisClientOpt{Addr: testenv.Redis(t), DB: redisDB}
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: redisDB})
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	srv := testenv.S3Server(t)
	cl, err := s3.Open(ctx, s3.Config{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	suffix := hex.EncodeToString(b)
	names := s3.BucketNames{Uploads: "api-up-" + suffix, Packets: "api-pk-" + suffix, Reports: "api-rp-" + suffix, Results: "api-rs-" + suffix}
	buckets, err := cl.Buckets(ctx, names, true)
	if err != nil {
		t.Fatal(err)
	}
	fontOnce.Do(func() { font, fontErr = pdfkit.LoadFont(synth.FontPath, 0) })
	if fontErr != nil {
		t.Fatal(fontErr)
	}
	p, err := pipeline.New(pipeline.Config{AnonSecret: []byte(anonSecret), Font: font})
	if err != nil {
		t.Fatal(err)
	}
	// The 2024 campaign, during its submission period.
	now := func() time.Time { return time.Date(2024, 9, 20, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)) }
	st := state.New(rdb, state.Options{Now: now})
	h := &workers.Handler{Pipeline: p, Buckets: buckets, PacketsBucket: names.Packets, TempDir: t.TempDir(), State: st}
	worker, err := workers.NewServer(opt, workers.ServerConfig{Concurrency: 2, DelayedTaskCheckInterval: 200 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.Start(workers.NewMux(h)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(worker.Shutdown)
	queue := asynq.NewClient(opt)
	t.Cleanup(func() { queue.Close() })
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })

	e := &env{t: t, tok: map[string]string{}, buckets: buckets, names: names, s3: srv, asynq: queue, state: st}
	var yml strings.Builder
	yml.WriteString("tokens:\n")
	for _, x := range []struct{ key, role, subject string }{
		{"upload", "upload_service", "portal"}, {"admin", "administrator", "wang.li"},
		{"E-0042", "reviewer", "E-0042"}, {"E-0077", "reviewer", "E-0077"},
	} {
		tok, err := api.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		e.tok[x.key] = tok
		fmt.Fprintf(&yml, "  - sha256: %s\n    role: %s\n    subject: %s\n", api.HashToken(tok), x.role, x.subject)
	}
	tokens, err := api.ParseTokens([]byte(yml.String()))
	if err != nil {
		t.Fatal(err)
	}
	e.deps = api.Deps{Buckets: buckets, Queue: queue, Inspector: insp, State: st, Font: font, AnonSecret: []byte(anonSecret),
		Tokens: tokens, Now: now, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Ready: []api.Check{
			{Name: "redis", Ping: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
			{Name: "s3", Ping: cl.Ping},
		}}
	e.srv, e.ops = e.serveBoth(api.Config{TempDir: t.TempDir()}, e.deps)
	e.valid = newValidator(t, nil)
	e.valid.ops = strings.TrimPrefix(e.ops.URL, "http://")
	e.client = &http.Client{Transport: e.valid, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for who, c := range map[string]**client.Client{"upload": &e.up, "admin": &e.admin, "E-0042": &e.rev} {
		if *c, err = client.New(e.srv.URL, e.tok[who], client.Options{HTTPClient: e.client}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// serve starts an API server on a test listener.
func (e *env) serve(cfg api.Config, d api.Deps) *httptest.Server {
	e.t.Helper()
	public, _ := e.serveBoth(cfg, d)
	return public
}

// serveBoth starts an API server's public and operators' handlers on
// listeners of their own.
func (e *env) serveBoth(cfg api.Config, d api.Deps) (public, ops *httptest.Server) {
	e.t.Helper()
	s, err := api.New(cfg, d)
	if err != nil {
		e.t.Fatal(err)
	}
	public, ops = httptest.NewServer(s.Handler()), httptest.NewServer(s.OpsHandler())
	e.t.Cleanup(public.Close)
	e.t.Cleanup(ops.Close)
	return public, ops
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%v in %s", err, r.body)
	}
}

// do sends a request to srv (default the env's server) with the token
// (none when empty); redirects are not followed.
func (e *env) do(method, path, token string, body []byte) response {
	return e.doOn(e.srv, method, path, token, body)
}

func (e *env) doOn(srv *httptest.Server, method, path, token string, body []byte) response {
	e.t.Helper()
	ctype := ""
	if body != nil {
		ctype = "application/json"
	}
	return e.rawOn(srv, method, path, token, ctype, body, nil)
}

// upload puts a sample's files in the uploads bucket, as the upload
// service does, and returns the submission document naming their keys
// (with the submission id changed when id is not empty).
func (e *env) upload(name, id string) (*pipeline.Submission, []byte) {
	e.t.Helper()
	dir := filepath.Join("..", "testdata", "samples", name)
	doc, err := os.ReadFile(filepath.Join(dir, "submission.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	sub, err := pipeline.ParseSubmission(doc)
	if err != nil {
		e.t.Fatal(err)
	}
	if id != "" {
		sub.SubmissionID = id
	}
	for i, m := range sub.Materials {
		data, err := os.ReadFile(filepath.Join(dir, m.File))
		if err != nil {
			e.t.Fatal(err)
		}
		key := path.Join(sub.Campaign, sub.ApplicantID, sub.SubmissionID, fmt.Sprintf("%02d-%s", i, m.File))
		if err := e.buckets.Uploads.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{}); err != nil {
			e.t.Fatal(err)
		}
		sub.Materials[i].File = key
	}
	out, err := sub.Marshal()
	if err != nil {
		e.t.Fatal(err)
	}
	return sub, out
}

// waitReport waits through the client until the submission has a report,
// and parses it.
func (e *env) waitReport(id string) (wire.Submission, *pipeline.Report) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	v, err := e.up.WaitReport(ctx, id, 200*time.Millisecond)
	if err != nil {
		e.t.Fatalf("report of %s: %v", id, err)
	}
	rep, err := pipeline.ParseReport(v.Report)
	if err != nil {
		e.t.Fatalf("report of %s: %v", id, err)
	}
	return v, rep
}

type event struct {
	Actor, Action, Submission, Detail, From string
}

func (e *env) trail(campaign, applicant string) []event {
	e.t.Helper()
	r := e.do("GET", "/v1/applications/"+campaign+"/"+applicant+"/audit", e.tok["admin"], nil)
	if r.code != http.StatusOK {
		e.t.Fatalf("audit: %d %s", r.code, r.body)
	}
	var v struct{ Events []event }
	r.json(e.t, &v)
	return v.Events
}

// download asks for a packet as a reviewer and expects the copy itself,
// streamed by the server, with headers that keep it out of caches and
// name the file by the anonymous code — and nothing that names the S3
// server.
func (e *env) download(reviewer, anon string) []byte {
	e.t.Helper()
	r := e.do("GET", "/v1/packets/"+anon, e.tok[reviewer], nil)
	if r.code != http.StatusOK || !bytes.HasPrefix(r.body, []byte("%PDF-")) {
		e.t.Fatalf("%s GET packet %s: %d %.200s", reviewer, anon, r.code, r.body)
	}
	for k, want := range map[string]string{
		"Content-Type": "application/pdf", "Cache-Control": "private, no-store",
		"Content-Disposition": `attachment; filename="` + anon + `.pdf"`, "X-Content-Type-Options": "nosniff",
		"Content-Length": strconv.Itoa(len(r.body)),
	} {
		if got := r.header.Get(k); got != want {
			e.t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	for k, vs := range r.header {
		for _, v := range vs {
			if strings.Contains(v, e.s3.Endpoint) || strings.Contains(v, e.s3.AccessKey) || strings.Contains(strings.ToLower(v), "x-amz") {
				e.t.Errorf("header %s names the object store: %s", k, v)
			}
		}
	}
	return r.body
}

// waitTask waits until a task has completed.
func waitTask(t *testing.T, insp *asynq.Inspector, queue, id string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		info, err := insp.GetTaskInfo(queue, id)
		if err == nil && info.State == asynq.TaskStateCompleted {
			return
		}
		if err == nil && info.State == asynq.TaskStateArchived {
			t.Fatalf("task %s archived: %s", id, info.LastErr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("task %s did not complete", id)
}

// TestAPI runs the roles through one campaign: the upload service submits
// two applicants, an administrator assigns reviewers, reviewers download
// stamped copies, and everything is checked against the real Redis, the
// real S3 server and independent PDF tools.
func TestAPI(t *testing.T) {
	e := newEnv(t)
	subA, docA := e.upload("eng-intermediate", "")
	subB, docB := e.upload("acct-senior", "")

	t.Run("authentication and roles", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, path, token string
			want                      int
		}{
			{"no token", "POST", "/v1/submissions", "", 401},
			{"wrong token", "POST", "/v1/submissions", "bp_not-a-token", 401},
			{"no token, reviewer route", "GET", "/v1/packets", "", 401},
			{"wrong token, admin route", "GET", "/v1/failures", e.tok["admin"] + "x", 401},
			{"reviewer submits", "POST", "/v1/submissions", e.tok["E-0042"], 403},
			{"reviewer reads a report", "GET", "/v1/submissions/" + subA.SubmissionID, e.tok["E-0042"], 403},
			{"reviewer reads the audit", "GET", "/v1/applications/2024/" + subA.ApplicantID + "/audit", e.tok["E-0042"], 403},
			{"reviewer assigns", "POST", "/v1/assignments", e.tok["E-0042"], 403},
			{"reviewer lists failures", "GET", "/v1/failures", e.tok["E-0042"], 403},
			{"upload service assigns", "GET", "/v1/assignments", e.tok["upload"], 403},
			{"upload service downloads", "GET", "/v1/packets/2024-AAAA-AAAA", e.tok["upload"], 403},
			{"admin downloads", "GET", "/v1/packets", e.tok["admin"], 403},
			{"admin submits", "POST", "/v1/submissions", e.tok["admin"], 403},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do(tc.method, tc.path, tc.token, nil)
				if r.code != tc.want {
					t.Fatalf("%d %s, want %d", r.code, r.body, tc.want)
				}
				if tc.want == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("401 without a Bearer challenge")
				}
			})
		}
	})

	t.Run("submit", func(t *testing.T) {
		ctx := context.Background()
		for _, tc := range []struct {
			name    string
			body    []byte
			already bool
			want    error
			detail  string
		}{
			{"first", docA, false, nil, ""},
			{"the same again", docA, true, nil, ""},
			{"second applicant", docB, false, nil, ""},
			{"not JSON", []byte("{"), false, client.ErrInvalidSubmission, "malformed_submission"},
			{"another schema", []byte(`{"schema":"x"}`), false, client.ErrInvalidSubmission, "unsupported_schema"},
			{"too large", bytes.Repeat([]byte(" "), 1<<20+1), false, client.ErrBodyTooLarge, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := e.up.Submit(ctx, tc.body)
				var ae *client.Error
				switch {
				case tc.want == nil && (err != nil || got.AlreadyQueued != tc.already):
					t.Fatalf("Submit = %+v, %v; want already queued %v", got, err, tc.already)
				case tc.want != nil && (!errors.Is(err, tc.want) || !errors.As(err, &ae) || !strings.Contains(ae.Detail, tc.detail)):
					t.Fatalf("Submit error %v, want %v with %q", err, tc.want, tc.detail)
				}
			})
		}
		if _, err := e.up.Submission(ctx, "nobody-r1"); !errors.Is(err, client.ErrUnknownSubmission) {
			t.Errorf("unknown submission: %v", err)
		}
	})

	va, repA := e.waitReport(subA.SubmissionID)
	vb, repB := e.waitReport(subB.SubmissionID)
	if va.State != "accepted" || vb.State != "accepted" || va.Application.Status != "accepted" {
		t.Fatalf("reports: %s %s, application %s", va.State, vb.State, va.Application.Status)
	}
	anonA, anonB := repA.AnonCode, repB.AnonCode
	if want := pipeline.AnonCode([]byte(anonSecret), "2024", subA.ApplicantID); anonA != want {
		t.Fatalf("anon code %s, want %s", anonA, want)
	}
	// The administrators' view of a submission is the same route.
	if r := e.do("GET", "/v1/submissions/"+subA.SubmissionID, e.tok["admin"], nil); r.code != 200 || bytes.Contains(r.body, []byte(subA.Identity.Name)) {
		t.Fatalf("admin GET submission: %d", r.code)
	}

	t.Run("assign", func(t *testing.T) {
		ctx := context.Background()
		for _, tc := range []struct {
			name, anon, reviewer string
			status               string
			err                  error
		}{
			{"E-0042 gets A", anonA, "E-0042", "assigned", nil},
			{"again", anonA, "E-0042", "already assigned", nil},
			{"E-0077 gets A", anonA, "E-0077", "assigned", nil},
			{"E-0077 gets B", anonB, "E-0077", "assigned", nil},
			{"unknown code", "2024-0000-0000", "E-0042", "", client.ErrUnknownAnonCode},
			{"not a code", "../uploads", "E-0042", "", client.ErrInvalidParameter},
			{"bad reviewer", anonA, "E/0042", "", client.ErrInvalidParameter},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := e.admin.Assign(ctx, tc.anon, tc.reviewer)
				if tc.err != nil && !errors.Is(err, tc.err) || tc.err == nil && (err != nil || got.Status != tc.status) {
					t.Fatalf("Assign = %+v, %v; want %q %v", got, err, tc.status, tc.err)
				}
			})
		}
		all, err := e.admin.Assignments(ctx, "", "")
		if err != nil || len(all.All["E-0042"]) != 1 || len(all.All["E-0077"]) != 2 {
			t.Errorf("assignments: %+v %v", all, err)
		}
		if one, err := e.admin.Assignments(ctx, "E-0077", ""); err != nil || one.Reviewer != "E-0077" || len(one.AnonCodes) != 2 {
			t.Errorf("E-0077's assignments: %+v %v", one, err)
		}
		if one, err := e.admin.Assignments(ctx, "", anonA); err != nil || one.AnonCode != anonA || len(one.Reviewers) != 2 {
			t.Errorf("A's reviewers: %+v %v", one, err)
		}
		list, err := e.rev.Packets(ctx)
		if err != nil || list.Reviewer != "E-0042" || len(list.Packets) != 1 {
			t.Fatalf("E-0042's packets: %+v %v", list, err)
		}
		if p := list.Packets[0]; p.AnonCode != anonA || p.Campaign != "2024" || !p.Available || p.Pages != repA.Packet.Pages ||
			p.Series != subA.Series || p.Level != subA.Level || p.AssignedAt == nil || p.ReviewedAt != nil || p.CopyMadeAt != nil || p.Href != "/v1/packets/"+anonA {
			t.Errorf("E-0042's packet: %+v", p)
		}
	})

	var copy42, copy77 []byte
	t.Run("download", func(t *testing.T) {
		ctx := context.Background()
		if r := e.do("GET", "/v1/packets/"+anonB, e.tok["E-0042"], nil); r.code != 403 {
			t.Fatalf("unassigned packet: %d %s", r.code, r.body)
		}
		if r := e.do("GET", "/v1/packets/2024-0000-0000", e.tok["E-0042"], nil); r.code != 403 {
			t.Fatalf("unassigned, unknown packet: %d %s", r.code, r.body)
		}
		// Both refusals are in an audit trail, not only in the log: B's
		// application's, and for a code nobody has, the security trail.
		refused := func(events []state.Event, anon string) bool {
			for _, ev := range events {
				if ev.Action == "access_refused" && ev.Actor == "reviewer:E-0042" && strings.Contains(ev.Detail, anon) && strings.HasPrefix(ev.From, "127.0.0.1:") {
					return true
				}
			}
			return false
		}
		if b, _ := e.state.Trail(context.Background(), "2024", subB.ApplicantID, 0); !refused(b, anonB) {
			t.Error("the refused download of B's packet is not in B's audit trail")
		}
		if sec, _ := e.state.SecurityTrail(context.Background(), 0); !refused(sec, "2024-0000-0000") {
			t.Error("the refused download of an unknown packet is not in the security trail")
		}
		copy42 = e.download("E-0042", anonA)
		// Asking again gives the same copy.
		if again := e.download("E-0042", anonA); !bytes.Equal(again, copy42) {
			t.Error("a second download gave another copy")
		}
		// The client streams the same copy, and names refusals.
		var saved bytes.Buffer
		if n, err := e.rev.SavePacket(ctx, anonA, &saved); err != nil || n != int64(len(copy42)) || !bytes.Equal(saved.Bytes(), copy42) {
			t.Errorf("SavePacket: %d bytes, %v", n, err)
		}
		if f, err := e.rev.Packet(ctx, anonA); err != nil || f.Name != anonA+".pdf" || f.Size != int64(len(copy42)) || f.RequestID == "" {
			t.Errorf("Packet: %+v %v", f, err)
		} else {
			f.Close()
		}
		if _, err := e.rev.Packet(ctx, anonB); !errors.Is(err, client.ErrNotAssigned) {
			t.Errorf("the client's download of an unassigned packet: %v", err)
		}
		if list, err := e.rev.Packets(ctx); err != nil || len(list.Packets) != 1 || list.Packets[0].CopyMadeAt == nil {
			t.Errorf("E-0042's packets after the download: %+v %v", list, err)
		}
		copy77 = e.download("E-0077", anonA)
		if bytes.Equal(copy42, copy77) {
			t.Fatal("two reviewers got the same copy")
		}
		// The copies are stamped, each with its reviewer, on every page, and
		// pass the packet verifier with the applicant's identity and masks.
		for who, c := range map[string][]byte{"E-0042": copy42, "E-0077": copy77} {
			path := pdfcheck.File(t, c)
			pdfcheck.QPDFCheck(t, path)
			other := map[string]string{"E-0042": "E-0077", "E-0077": "E-0042"}[who]
			for page := 1; page <= repA.Packet.Pages; page++ {
				text := pdfcheck.Text(t, path, page, page)
				if !strings.Contains(text, "评审专家"+who+"·2024-09-2002:00Z·仅供评审") || strings.Contains(text, other) {
					t.Errorf("%s's copy, page %d: %q", who, page, text)
				}
			}
			if probs, err := verify.Packet(context.Background(), bytes.NewReader(c), int64(len(c)), pipeline.Expectation(subA, repA.Packet)); err != nil || len(probs) > 0 {
				t.Errorf("%s's copy fails verification: %v", who, probs)
			}
		}
		// No route takes another reviewer's code from a reviewer: whatever
		// the URL says, it is E-0042's own copy or nothing.
		for _, p := range []string{"/v1/packets/" + anonA + "?reviewer=E-0077", "/v1/packets/" + anonA + "/reviewers/E-0077.pdf"} {
			r := e.do("GET", p, e.tok["E-0042"], nil)
			if r.code == http.StatusOK && !bytes.Equal(r.body, copy42) {
				t.Errorf("%s gave another copy", p)
			}
		}
	})

	t.Run("audit trail", func(t *testing.T) {
		events := e.trail("2024", subA.ApplicantID)
		if last, err := e.admin.SubmissionTrail(context.Background(), subA.SubmissionID, 3); err != nil || len(last.Events) != 3 ||
			last.Events[0] != (wire.AuditEvent{At: last.Events[0].At, Actor: events[0].Actor, Action: events[0].Action, Submission: events[0].Submission,
				Detail: events[0].Detail, From: events[0].From}) {
			t.Errorf("the submission's trail, last 3: %+v %v", last, err)
		}
		downloads := map[string]int{}
		made := 0
		for _, ev := range events {
			if strings.Contains(ev.Detail, subA.Identity.Name) || strings.Contains(ev.Detail, subA.Identity.Employer) {
				t.Errorf("identity in the trail: %+v", ev)
			}
			switch ev.Action {
			case "downloaded":
				downloads[ev.Actor]++
				if !strings.HasPrefix(ev.From, "127.0.0.1:") || ev.Submission != subA.SubmissionID || !strings.Contains(ev.Detail, anonA) {
					t.Errorf("download event: %+v", ev)
				}
				if strings.Contains(ev.Detail, "copy made on this download") {
					made++
				}
			case "assigned":
				if ev.Actor != "admin:wang.li" || !strings.HasPrefix(ev.From, "127.0.0.1:") {
					t.Errorf("assignment event: %+v", ev)
				}
			}
		}
		// E-0042: two downloads, one through the client and the URL that
		// named E-0077 (Packet's answer was closed unread: audited too, as
		// the copy was on its way); E-0077: one.
		if downloads["reviewer:E-0042"] != 5 || downloads["reviewer:E-0077"] != 1 || made != 2 {
			t.Errorf("downloads %v, %d copies made; trail: %+v", downloads, made, events)
		}
	})

	t.Run("reprocess with an override", func(t *testing.T) {
		body := []byte(`{"overrides":[{"material":1,"page":1}],"reason":"字迹可辨"}`)
		for _, tc := range []struct {
			name, id string
			body     []byte
			want     int
		}{
			{"no reason", subB.SubmissionID, []byte(`{"overrides":[{"material":1,"page":1}]}`), 400},
			{"unknown field", subB.SubmissionID, []byte(`{"override":[]}`), 400},
			{"unknown submission", "nobody-r1", body, 404},
			{"override", subB.SubmissionID, body, 202},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do("POST", "/v1/submissions/"+tc.id+"/reprocess", e.tok["admin"], tc.body)
				if r.code != tc.want {
					t.Fatalf("%d %s, want %d", r.code, r.body, tc.want)
				}
				if r.code == 202 {
					var v struct {
						TaskID string `json:"task_id"`
					}
					r.json(t, &v)
					waitTask(t, e.deps.Inspector, workers.QueueCritical, v.TaskID)
				}
			})
		}
		var override, request bool
		for _, ev := range e.trail("2024", subB.ApplicantID) {
			override = override || ev.Action == "override" && ev.Actor == "admin:wang.li" && strings.Contains(ev.Detail, "字迹可辨")
			request = request || ev.Action == "reprocess_requested" && strings.HasPrefix(ev.From, "127.0.0.1:")
		}
		if !override || !request {
			t.Errorf("override audited %v, request with its address %v", override, request)
		}
	})

	t.Run("release and return take a held submission and a reason", func(t *testing.T) {
		// This server's worker has no OCR gate: nothing is held. The
		// decisions themselves are the workers' and the console's tests.
		for _, tc := range []struct {
			name, path, tok string
			body            []byte
			want            int
		}{
			{"not held", "/release", e.tok["admin"], []byte(`{"reason":"OCR misread"}`), 409},
			{"return, not held", "/return", e.tok["admin"], []byte(`{"reason":"name readable"}`), 409},
			{"no reason", "/release", e.tok["admin"], []byte(`{"reason":" "}`), 400},
			{"empty", "/return", e.tok["admin"], []byte(`{}`), 400},
			{"reviewer", "/release", e.tok["E-0042"], []byte(`{"reason":"x"}`), 403},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do("POST", "/v1/submissions/"+subB.SubmissionID+tc.path, tc.tok, tc.body)
				if r.code != tc.want {
					t.Fatalf("%d %s, want %d", r.code, r.body, tc.want)
				}
			})
		}
		if r := e.do("POST", "/v1/submissions/nobody-r1/release", e.tok["admin"], []byte(`{"reason":"x"}`)); r.code != 404 {
			t.Errorf("unknown submission: %d %s", r.code, r.body)
		}
	})

	t.Run("failures", func(t *testing.T) {
		// A submission whose upload never arrived is returned; a task
		// nobody can act on is archived.
		sub, _ := e.upload("eng-intermediate", "")
		sub.ApplicantID, sub.SubmissionID = "A2024-000777", "A2024-000777-r1"
		sub.Materials[1].File = "2024/A2024-000777/missing.jpg"
		doc, _ := sub.Marshal()
		if r := e.do("POST", "/v1/submissions", e.tok["upload"], doc); r.code != 202 {
			t.Fatalf("%d %s", r.code, r.body)
		}
		if v, _ := e.waitReport(sub.SubmissionID); v.State != "rejected" {
			t.Fatalf("state %s", v.State)
		}
		if _, err := e.asynq.Enqueue(asynq.NewTask(workers.TypeProcessSubmission, []byte("not json"), asynq.TaskID("garbage-1"))); err != nil {
			t.Fatal(err)
		}
		var v struct {
			ArchivedTasks []struct {
				ID        string `json:"id"`
				LastError string `json:"last_error"`
			} `json:"archived_tasks"`
			Applications []struct {
				ApplicantID string `json:"applicant_id"`
				Status      string
				Codes       []string
			}
		}
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			r := e.do("GET", "/v1/failures?campaign=2024", e.tok["admin"], nil)
			if r.code != 200 {
				t.Fatalf("%d %s", r.code, r.body)
			}
			r.json(t, &v)
			if len(v.ArchivedTasks) > 0 {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if len(v.ArchivedTasks) != 1 || v.ArchivedTasks[0].ID != "garbage-1" || v.ArchivedTasks[0].LastError == "" {
			t.Errorf("archived tasks: %+v", v.ArchivedTasks)
		}
		if len(v.Applications) != 1 || v.Applications[0].ApplicantID != "A2024-000777" || v.Applications[0].Status != "returned" ||
			!slices.Contains(v.Applications[0].Codes, "file_missing") {
			t.Errorf("applications: %+v", v.Applications)
		}
		if r := e.do("GET", "/v1/failures?since=yesterday", e.tok["admin"], nil); r.code != 400 {
			t.Errorf("bad since: %d", r.code)
		}
		// Pages: one application, so the second page is empty and the
		// total and counts still cover it.
		var page struct {
			Applications      []json.RawMessage
			ApplicationsTotal int `json:"applications_total"`
			Codes             map[string]int
		}
		r := e.do("GET", "/v1/failures?campaign=2024&limit=1&offset=1", e.tok["admin"], nil)
		r.json(t, &page)
		if r.code != 200 || len(page.Applications) != 0 || page.ApplicationsTotal != 1 || page.Codes["file_missing"] != 1 {
			t.Errorf("second page: %d %+v", r.code, page)
		}
		if r := e.do("GET", "/v1/failures?offset=-1", e.tok["admin"], nil); r.code != 400 {
			t.Errorf("negative offset: %d", r.code)
		}
	})

	t.Run("results", func(t *testing.T) {
		batch, err := os.ReadFile(filepath.Join("..", "pipeline", "result", "testdata", "batch.json"))
		if err != nil {
			t.Fatal(err)
		}
		r := e.do("POST", "/v1/results", e.tok["admin"], batch)
		var v struct{ Status, OutputKey string }
		r.json(t, &v)
		if r.code != 202 || v.Status != "queued" || !strings.HasSuffix(r.header.Get("Content-Type"), "charset=utf-8") {
			t.Errorf("%d %s", r.code, r.body)
		}
		if r := e.do("POST", "/v1/results", e.tok["admin"], []byte(`{"schema":"blindpack/batch@1"}`)); r.code != 400 {
			t.Errorf("invalid batch: %d %s", r.code, r.body)
		}
	})

	t.Run("unassign", func(t *testing.T) {
		if r := e.do("DELETE", "/v1/assignments/"+anonA+"/E-0077", e.tok["admin"], nil); r.code != 200 {
			t.Fatalf("%d %s", r.code, r.body)
		}
		if r := e.do("DELETE", "/v1/assignments/"+anonA+"/E-0077", e.tok["admin"], nil); r.code != 404 {
			t.Errorf("again: %d", r.code)
		}
		if r := e.do("GET", "/v1/packets/"+anonA, e.tok["E-0077"], nil); r.code != 403 {
			t.Errorf("after unassignment: %d", r.code)
		}
		var unassigned bool
		for _, ev := range e.trail("2024", subA.ApplicantID) {
			unassigned = unassigned || ev.Action == "unassigned" && strings.Contains(ev.Detail, "E-0077") && ev.From != ""
		}
		if !unassigned {
			t.Error("unassignment not audited")
		}
	})

	t.Run("withdrawn packet", func(t *testing.T) {
		// A packet taken down by a reprocess that no longer passes is not
		// handed out, not even through an existing copy.
		e.download("E-0077", anonB)
		if err := e.buckets.Packets.Delete(context.Background(), storage.PacketKey("2024", anonB)); err != nil {
			t.Fatal(err)
		}
		if r := e.do("GET", "/v1/packets/"+anonB, e.tok["E-0077"], nil); r.code != 404 {
			t.Errorf("withdrawn packet: %d %s", r.code, r.body)
		}
	})

	t.Run("mask suggestions without OCR", func(t *testing.T) {
		// This server has no OCR engine: a scan's page is not read.
		ctype, body := multipartBody(t, map[string]string{"name": "张三丰", "employer": "某公司"}, blankScan(t))
		r := e.rawOn(e.srv, "POST", "/v1/masks/suggest", e.tok["upload"], ctype, body, nil)
		var s pipeline.Suggestion
		if r.json(t, &s); r.code != 200 || s.Pages != 1 || len(s.Masks) != 0 || len(s.Read) != 1 || s.Read[0] != pipeline.ReadNone {
			t.Errorf("%d %s", r.code, r.body)
		}
	})

	t.Run("openapi", func(t *testing.T) {
		doc, err := e.up.OpenAPI(context.Background())
		if want, _ := api.OpenAPI(); err != nil || !bytes.Equal(doc, want) {
			t.Errorf("OpenAPI: %v", err)
		}
	})

	t.Run("probes and metrics", func(t *testing.T) {
		// Liveness is public; readiness and metrics only on the operators'
		// listener.
		for _, tc := range []struct {
			srv  *httptest.Server
			path string
			want int
		}{{e.srv, "/healthz", 200}, {e.srv, "/readyz", 404}, {e.srv, "/metrics", 404}, {e.ops, "/healthz", 200}, {e.ops, "/v1/failures", 404}} {
			if r := e.doOn(tc.srv, "GET", tc.path, e.tok["admin"], nil); r.code != tc.want {
				t.Errorf("GET %s on the %s listener: %d, want %d", tc.path, map[bool]string{true: "public", false: "operators'"}[tc.srv == e.srv], r.code, tc.want)
			}
		}
		r := e.doOn(e.ops, "GET", "/readyz", "", nil)
		if r.code != 200 || !bytes.Contains(r.body, []byte(`"redis": "ok"`)) || !bytes.Contains(r.body, []byte(`"s3": "ok"`)) {
			t.Errorf("readyz: %d %s", r.code, r.body)
		}
		down := e.deps
		down.Ready = append([]api.Check{}, e.deps.Ready...)
		down.Ready = append(down.Ready, api.Check{Name: "slow", Ping: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }})
		start := time.Now()
		_, downOps := e.serveBoth(api.Config{ReadyTimeout: 300 * time.Millisecond}, down)
		if r = e.doOn(downOps, "GET", "/readyz", "", nil); r.code != 503 || !bytes.Contains(r.body, []byte(`"slow": "unavailable"`)) {
			t.Errorf("readyz with a dependency down: %d %s", r.code, r.body)
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("readiness did not time out")
		}
		// This server streamed seven downloads and made three copies.
		r = e.doOn(e.ops, "GET", "/metrics", "", nil)
		for _, want := range []string{
			`blindpack_api_downloads_total{outcome="streamed"} 7`,
			`blindpack_api_downloads_total{outcome="denied"}`,
			`blindpack_api_downloads_total{outcome="unavailable"} 1`,
			`blindpack_api_copies_total{outcome="made"} 3`,
			`blindpack_api_requests_total{code="401",method="POST",route="POST /v1/submissions"}`,
			`blindpack_queue_tasks{queue="default",state="completed"}`,
			`blindpack_queue_processed_total{queue="default"}`,
			`go_goroutines`,
		} {
			if !bytes.Contains(r.body, []byte(want)) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
	// Every operation of openapi.yaml answered at least once, and every
	// answer matched the document (the validator fails the test if not).
	if unseen := e.valid.unseen(); len(unseen) > 0 {
		t.Errorf("operations no answer was validated for: %v", unseen)
	}
}

func TestParseTokens(t *testing.T) {
	hash := api.HashToken("secret-token")
	for _, tc := range []struct {
		name, yaml string
		ok         bool
	}{
		{"good", "tokens:\n  - {sha256: " + hash + ", role: reviewer, subject: E-0042}\n", true},
		{"empty", "tokens: []\n", true},
		{"short hash", "tokens:\n  - {sha256: abcd, role: reviewer, subject: E-0042}\n", false},
		{"the token itself", "tokens:\n  - {sha256: secret-token, role: reviewer, subject: E-0042}\n", false},
		{"unknown role", "tokens:\n  - {sha256: " + hash + ", role: root, subject: x}\n", false},
		{"reviewer code with a slash", "tokens:\n  - {sha256: " + hash + ", role: reviewer, subject: E/1}\n", false},
		{"no subject", "tokens:\n  - {sha256: " + hash + ", role: administrator}\n", false},
		{"unknown key", "tokens:\n  - {sha256: " + hash + ", role: administrator, subject: a, token: x}\n", false},
		{"twice", "tokens:\n  - {sha256: " + hash + ", role: administrator, subject: a}\n  - {sha256: " + hash + ", role: reviewer, subject: E-1}\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := api.ParseTokens([]byte(tc.yaml))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, api.ErrTokens) {
				t.Errorf("error %v does not wrap ErrTokens", err)
			}
		})
	}
	toks, _ := api.ParseTokens([]byte("tokens:\n  - {sha256: " + strings.ToUpper(hash) + ", role: administrator, subject: wang.li}\n"))
	for _, tc := range []struct {
		tok string
		ok  bool
	}{{"secret-token", true}, {"secret-token ", false}, {"", false}, {hash, false}} {
		p, ok := toks.Authenticate(tc.tok)
		if ok != tc.ok || ok && (p.Role != api.RoleAdministrator || p.Actor() != "admin:wang.li") {
			t.Errorf("Authenticate(%q) = %+v %v", tc.tok, p, ok)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  api.Config
		ok   bool
	}{
		{"zero", api.Config{}, true},
		{"one minute links", api.Config{PresignExpiry: time.Minute}, true},
		{"links under a second", api.Config{PresignExpiry: time.Millisecond}, false},
		{"links over 7 days", api.Config{PresignExpiry: 8 * 24 * time.Hour}, false},
		{"negative timeout", api.Config{ReadTimeout: -1}, false},
		{"negative body limit", api.Config{MaxBatchBytes: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// TestServeShutsDownGracefully: a request in flight finishes after the
// context is cancelled, and Serve returns without error.
func TestServeShutsDownGracefully(t *testing.T) {
	e := newEnv(t)
	s, err := api.New(api.Config{}, e.deps)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	// A request in flight: its body is still coming when shutdown begins.
	body, more := io.Pipe()
	got := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/v1/submissions", body)
		req.Header.Set("Authorization", "Bearer "+e.tok["upload"])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- 0
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	more.Write([]byte(`{"schema":`))
	time.Sleep(300 * time.Millisecond) // the request is in flight
	cancel()
	time.Sleep(100 * time.Millisecond)
	more.Write([]byte(`"x"}`))
	more.Close()
	if code := <-got; code != http.StatusBadRequest {
		t.Errorf("request in flight got %d, want its answer (400)", code)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("still listening after shutdown")
	}
}

// TestWatchTokens: a token taken out of the file stops working without a
// restart, on a change or on SIGHUP, and a broken file leaves the tokens
// in force.
func TestWatchTokens(t *testing.T) {
	entry := func(tok, subject string) string {
		return fmt.Sprintf("  - sha256: %s\n    role: reviewer\n    subject: %s\n", api.HashToken(tok), subject)
	}
	path := filepath.Join(t.TempDir(), "tokens.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("tokens:\n" + entry("tok-a", "E-0001") + entry("tok-b", "E-0002"))
	tokens, err := api.LoadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hup := make(chan os.Signal, 1)
	go api.WatchTokens(ctx, path, tokens, 50*time.Millisecond, hup, nil)
	until := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if ok() {
				return
			}
		}
		t.Fatal(what)
	}
	valid := func(tok string) bool { _, ok := tokens.Authenticate(tok); return ok }
	write("tokens:\n" + entry("tok-a", "E-0001"))
	until("a removed token still works", func() bool { return !valid("tok-b") })
	if !valid("tok-a") {
		t.Fatal("the remaining token stopped working")
	}
	write("tokens:\n  - sha256: not-hex\n")
	time.Sleep(200 * time.Millisecond)
	if !valid("tok-a") {
		t.Error("a broken file emptied the tokens")
	}
	write("tokens: []\n")
	hup <- os.Interrupt
	until("SIGHUP did not reload", func() bool { return !valid("tok-a") })
}
