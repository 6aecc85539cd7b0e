package console_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/blindpack/blindpack/api"
	"github.com/blindpack/blindpack/api/people"
	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/internal/peopletest"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/storage/s3"
	"github.com/blindpack/blindpack/workers"
)

// redisDB is this package's database on the test Redis: packages run in
// parallel, and each that uses Redis has its own.
const redisDB = 7

const anonSecret = "console-test-secret-0123456789"

// hostileName is the applicant's name in every test submission: were it
// ever put on a page unescaped, it would run.
const hostileName = `<script>alert("张三丰")</script>张三丰`

var (
	fontOnce sync.Once
	font     *pdfkit.Font
	fontErr  error
)

// env is `blindpack serve` (the API with its console) in front of a real
// worker, Redis and S3 server, on the 2024 campaign's rehearsal clock.
type env struct {
	t         *testing.T
	srv       *httptest.Server
	deps      api.Deps
	tok       map[string]string             // bearer tokens: upload, admin
	person    map[string]*peopletest.Person // accounts: admin (wang.li), admin2 (zhao.min), reviewer (E-0042)
	site      *people.Site
	buckets   storage.Buckets
	state     *state.Store
	queue     *asynq.Client
	insp      *asynq.Inspector
	submitter *workers.Submitter
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with the worker's handler configured further
// (the OCR gate).
func newEnvWith(t *testing.T, configure func(*workers.Handler)) *env {
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
	names := s3.BucketNames{Uploads: "con-up-" + suffix, Packets: "con-pk-" + suffix, Reports: "con-rp-" + suffix, Results: "con-rs-" + suffix}
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
	now := func() time.Time { return time.Date(2024, 9, 20, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)) }
	st := state.New(rdb, state.Options{Now: now})
	h := &workers.Handler{Pipeline: p, Buckets: buckets, PacketsBucket: names.Packets, TempDir: t.TempDir(), State: st, Actor: "worker"}
	if configure != nil {
		configure(h)
	}
	worker, err := workers.NewServer(opt, workers.ServerConfig{Concurrency: 2, DelayedTaskCheckInterval: 200 * time.Millisecond, Capabilities: h.Capabilities()}, nil)
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

	e := &env{t: t, tok: map[string]string{}, person: map[string]*peopletest.Person{}, buckets: buckets, state: st, queue: queue, insp: insp,
		submitter: &workers.Submitter{Uploads: buckets.Uploads, Client: queue, State: st, Actor: "upload-service:portal", Now: now}}
	var yml strings.Builder
	yml.WriteString("tokens:\n")
	for _, x := range []struct{ key, role, subject string }{
		{"upload", "upload_service", "portal"}, {"admin", "administrator", "wang.li"}, {"reviewer", "reviewer", "E-0042"},
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
		Tokens: tokens, Now: now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e.srv = e.serve(api.Config{TempDir: t.TempDir()})
	for key, a := range map[string]struct {
		name string
		role state.Role
	}{"admin": {"wang.li", state.RoleAdministrator}, "admin2": {"zhao.min", state.RoleAdministrator}, "reviewer": {"E-0042", state.RoleReviewer}} {
		e.person[key] = peopletest.Add(t, st, a.name, a.role)
	}
	if e.site, err = people.New(people.Config{}, people.Deps{State: st, Secret: []byte(anonSecret)}); err != nil {
		t.Fatal(err)
	}
	return e
}

// serve starts another `blindpack serve` on the same services.
func (e *env) serve(cfg api.Config) *httptest.Server {
	e.t.Helper()
	s, err := api.New(cfg, e.deps)
	if err != nil {
		e.t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	e.t.Cleanup(srv.Close)
	return srv
}

// applicant writes a copy of the engineering sample as another
// applicant's submission, named hostileName; blurred blurs the work
// summary (material 1) so that the clarity check returns it, and edit may
// change the document and files further.
func applicant(t *testing.T, applicantID, submissionID string, blurred bool, edit func(sub *pipeline.Submission, dir string)) ([]byte, string) {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "samples", "eng-intermediate")
	doc, err := os.ReadFile(filepath.Join(src, "submission.json"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := pipeline.ParseSubmission(doc)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		data, err := os.ReadFile(filepath.Join(src, en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, en.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sub.ApplicantID, sub.SubmissionID = applicantID, submissionID
	sub.Identity.Name = hostileName
	if blurred {
		p := filepath.Join(dir, "summary.jpg")
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		blur, err := synth.EncodeJPEG(synth.GaussianBlur(img.(*image.Gray), 0.4*150/25.4), 85)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, blur, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if edit != nil {
		edit(sub, dir)
	}
	out, err := sub.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return out, dir
}

// submit sends a submission through the upload service's path and waits
// for its report.
func (e *env) submit(doc []byte, dir string) *pipeline.Report {
	e.t.Helper()
	p, err := e.submitter.SubmitDir(context.Background(), doc, dir)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.report(p.Campaign, p.ApplicantID, p.SubmissionID, nil)
}

// report waits for a submission's report, different from old when old is
// given.
func (e *env) report(campaign, applicant, submission string, old *pipeline.Report) *pipeline.Report {
	e.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		rc, _, err := e.buckets.Reports.Get(context.Background(), storage.ReportKey(campaign, applicant, submission))
		if err == nil {
			data, _ := io.ReadAll(rc)
			rc.Close()
			rep, err := pipeline.ParseReport(data)
			if err != nil {
				e.t.Fatal(err)
			}
			if old == nil || rep.Status != old.Status || len(rep.Overrides) != len(old.Overrides) {
				return rep
			}
		}
		time.Sleep(150 * time.Millisecond)
	}
	e.t.Fatalf("no report for %s", submission)
	return nil
}

// stage stores a submission and its files as the upload service would,
// and indexes it, but queues its task to run in an hour and archives it
// at once: a task that failed for good, for an administrator to re-run.
func (e *env) stage(doc []byte, dir string) *pipeline.Submission {
	e.t.Helper()
	sub := e.schedule(doc, dir)
	if err := e.insp.ArchiveTask(workers.QueueDefault, sub.SubmissionID); err != nil {
		e.t.Fatal(err)
	}
	return sub
}

// schedule stores a submission and its files as the upload service would,
// indexes it, and queues its task to run in an hour: a task that is
// waiting.
func (e *env) schedule(doc []byte, dir string) *pipeline.Submission {
	e.t.Helper()
	ctx := context.Background()
	sub, err := pipeline.ParseSubmission(doc)
	if err != nil {
		e.t.Fatal(err)
	}
	for i, m := range sub.Materials {
		data, err := os.ReadFile(filepath.Join(dir, m.File))
		if err != nil {
			e.t.Fatal(err)
		}
		key := path.Join(sub.Campaign, sub.ApplicantID, sub.SubmissionID, fmt.Sprintf("%02d-%s", i, m.File))
		if err := e.buckets.Uploads.Put(ctx, key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{}); err != nil {
			e.t.Fatal(err)
		}
		sub.Materials[i].File = key
	}
	doc, _ = sub.Marshal()
	key := storage.SubmissionKey(sub.Campaign, sub.ApplicantID, sub.SubmissionID)
	if err := e.buckets.Uploads.Put(ctx, key, bytes.NewReader(doc), int64(len(doc)), storage.PutOptions{}); err != nil {
		e.t.Fatal(err)
	}
	at := e.state.Now().UTC()
	if err := e.state.Index(ctx, sub.SubmissionID, state.Located{Campaign: sub.Campaign, ApplicantID: sub.ApplicantID, Key: key, SubmittedAt: at}); err != nil {
		e.t.Fatal(err)
	}
	task, err := workers.NewProcessTask(workers.ProcessPayload{Campaign: sub.Campaign, ApplicantID: sub.ApplicantID,
		SubmissionID: sub.SubmissionID, SubmissionKey: key, SubmittedAt: at, Actor: "upload-service:portal"})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.queue.Enqueue(task, asynq.ProcessIn(time.Hour)); err != nil {
		e.t.Fatal(err)
	}
	return sub
}

// client is a browser-like client of the server.
func (e *env) client() *peopletest.Client { return peopletest.NewClient(e.t, e.srv.URL) }

// trail reads an application's audit trail from the state store.
func (e *env) trail(campaign, applicant string) []state.Event {
	e.t.Helper()
	ev, err := e.state.Trail(context.Background(), campaign, applicant, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return ev
}
