package workers_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/workers"
)

// gateEnv is a worker with the OCR gate on, reading with eng (pages drawn
// blank), with application state on the campaign's clock.
func gateEnv(t *testing.T, eng ocr.Engine, configure ...func(*workers.Handler)) *env {
	t.Helper()
	ocrQueue := asynq.NewClient(asynq.RedisClientOpt{Addr: testenv.Redis(t), DB: redisDB})
	t.Cleanup(func() { ocrQueue.Close() })
	clk := &testClock{t: time.Date(2024, 9, 20, 10, 0, 0, 0, beijing)}
	secret, err := workers.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	// Events are queued for a receiver nobody delivers to: the tests read
	// them in the webhooks queue.
	hooks := &workers.WebhookConfig{BaseURL: "https://blindpack.example",
		Endpoints: []workers.WebhookEndpoint{{ID: "portal", URL: "https://portal.example/hooks", Secrets: []workers.Secret{secret}}}}
	if err := hooks.Validate(); err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, nil, clk.Now, func(h *workers.Handler) {
		h.OCRQueue = ocrQueue
		// Every line read (the default; the fake engines "read" words on
		// blank pages, which the screen would skip).
		h.OCR = &workers.OCRHandler{Engine: eng, Renderer: &blankRenderer{}}
		h.Webhooks = &workers.Webhooks{Config: hooks, Queue: ocrQueue, Now: clk.Now}
		for _, c := range configure {
			c(h)
		}
	})
	e.clock = clk
	return e
}

// events lists the webhook events queued about a submission.
func (e *env) events(t *testing.T, submissionID string) []wire.EventType {
	t.Helper()
	tasks, err := e.inspector.ListPendingTasks(workers.QueueWebhooks, asynq.PageSize(100))
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		t.Fatal(err)
	}
	var out []wire.EventType
	for _, task := range tasks {
		var p workers.WebhookPayload
		if err := json.Unmarshal(task.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if p.SubmissionID == submissionID {
			out = append(out, p.EventType)
		}
	}
	return out
}

// gated submits an applicant's copy of the engineering sample and waits
// for its OCR reading to finish.
func (e *env) gated(t *testing.T, applicantID, submissionID string) (workers.ProcessPayload, *asynq.TaskInfo) {
	t.Helper()
	doc, dir := applicant(t, applicantID, submissionID, false)
	p, err := e.submitter.SubmitDir(context.Background(), doc, dir)
	if err != nil {
		t.Fatal(err)
	}
	e.waitTask(t, workers.QueueDefault, p.SubmissionID)
	return p, e.waitTask(t, workers.QueueOCR, workers.OCRTaskID(p.SubmissionID))
}

func (e *env) exists(t *testing.T, s storage.Store, key string) bool {
	t.Helper()
	_, err := s.Stat(context.Background(), key)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func (e *env) actions(t *testing.T, applicantID string) []string {
	t.Helper()
	trail, err := e.state.Trail(context.Background(), "2024", applicantID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range trail {
		out = append(out, ev.Action+": "+ev.Detail)
	}
	return out
}

// TestOCRGateHolds: a packet OCR reads the name on is staged, never
// published, the submission held (not a return) until an administrator
// releases it — published, accepted — or returns it — a return, with the
// hits as findings and on the contact sheet.
func TestOCRGateHolds(t *testing.T) {
	e := gateEnv(t, seeingEngine{})
	ctx := context.Background()
	held := func(t *testing.T, applicantID string) (workers.ProcessPayload, *pipeline.Report) {
		t.Helper()
		p, info := e.gated(t, applicantID, applicantID+"-r1")
		if info.State != asynq.TaskStateCompleted {
			t.Fatalf("OCR task %s: %s", info.State, info.LastErr)
		}
		rep := e.report(t, p)
		if rep.Status != pipeline.Held || rep.Packet == nil || rep.Packet.Location != "" || len(rep.Findings) != 0 {
			t.Fatalf("report %s %+v %+v", rep.Status, rep.Packet, rep.Findings)
		}
		if e.exists(t, e.buckets.Packets, storage.PacketKey(p.Campaign, rep.AnonCode)) {
			t.Fatal("a held packet is published")
		}
		if !e.exists(t, e.buckets.Uploads, storage.StagedPacketKey(p.Campaign, p.ApplicantID, p.SubmissionID)) {
			t.Fatal("the held packet is not kept staged")
		}
		app, err := e.state.Get(ctx, p.Campaign, p.ApplicantID)
		if err != nil {
			t.Fatal(err)
		}
		if listed, ok := app.Listed(); app.Submissions[p.SubmissionID] != pipeline.Held || app.Returns != 0 || app.Status == pipeline.AppAccepted ||
			listed != "held" || !ok {
			t.Fatalf("application %+v listed %q %v", app, listed, ok)
		}
		pr, err := workers.SubmissionProgress(ctx, e.inspector, e.state, p.SubmissionID, rep)
		if err != nil || pr.State != pipeline.Held.State() {
			t.Fatalf("progress %+v %v", pr, err)
		}
		if ev := e.events(t, p.SubmissionID); !slices.Equal(ev, []wire.EventType{wire.EventSubmissionHeld}) {
			t.Fatalf("events %v, want submission.held alone", ev)
		}
		return p, rep
	}

	t.Run("released", func(t *testing.T) {
		p, rep := held(t, "G1")
		if _, err := workers.Resolve(ctx, e.client, e.state, e.buckets.Reports, p.SubmissionID, workers.Release, "admin:wang.li", " ", ""); !errors.Is(err, pipeline.ErrBadReason) {
			t.Fatalf("release without a reason: %v", err)
		}
		id, err := workers.Resolve(ctx, e.client, e.state, e.buckets.Reports, p.SubmissionID, workers.Release, "admin:wang.li", "OCR misread a colleague's name", "127.0.0.1:1")
		if err != nil {
			t.Fatal(err)
		}
		if info := e.waitTask(t, workers.QueueCritical, id); info.State != asynq.TaskStateCompleted {
			t.Fatalf("resolve task %s: %s", info.State, info.LastErr)
		}
		got := e.report(t, p)
		if got.Status != pipeline.Accepted || got.Packet == nil || !strings.HasSuffix(got.Packet.Location, storage.PacketKey(p.Campaign, rep.AnonCode)) {
			t.Fatalf("released report %s %+v", got.Status, got.Packet)
		}
		if sum := sha256Hex(e.get(t, e.buckets.Packets, storage.PacketKey(p.Campaign, rep.AnonCode))); sum != rep.Packet.SHA256 {
			t.Errorf("published packet %s, the held report's %s", sum, rep.Packet.SHA256)
		}
		if e.exists(t, e.buckets.Uploads, storage.StagedPacketKey(p.Campaign, p.ApplicantID, p.SubmissionID)) {
			t.Error("staged packet left behind")
		}
		app, _ := e.state.Get(ctx, p.Campaign, p.ApplicantID)
		if app.Status != pipeline.AppAccepted || app.Returns != 0 {
			t.Errorf("application %+v", app)
		}
		acts := e.actions(t, p.ApplicantID)
		if !slices.ContainsFunc(acts, func(a string) bool {
			return strings.HasPrefix(a, "release_requested: ") && strings.HasSuffix(a, "OCR misread a colleague's name")
		}) || !slices.ContainsFunc(acts, func(a string) bool { return strings.HasPrefix(a, "held: ") }) {
			t.Errorf("trail %q", acts)
		}
		if ev := e.events(t, p.SubmissionID); !slices.Contains(ev, wire.EventSubmissionAccepted) {
			t.Errorf("events %v, want submission.accepted", ev)
		}
		if _, err := workers.Resolve(ctx, e.client, e.state, e.buckets.Reports, p.SubmissionID, workers.Return, "admin:wang.li", "again", ""); !errors.Is(err, workers.ErrNotHeld) {
			t.Errorf("resolving an accepted submission: %v", err)
		}
	})

	t.Run("superseded by a newer submission", func(t *testing.T) {
		p1, rep1 := held(t, "G3")
		// The applicant resubmits while r1 is held; r2 is held too and
		// returned by an administrator. Releasing r1 now would publish an
		// older packet as the application's and accept a returned
		// application.
		e.clock.Advance(time.Hour)
		p2, info := e.gated(t, "G3", "G3-r2")
		if info.State != asynq.TaskStateCompleted {
			t.Fatalf("OCR task %s: %s", info.State, info.LastErr)
		}
		id, err := workers.Resolve(ctx, e.client, e.state, e.buckets.Reports, p2.SubmissionID, workers.Return, "admin:wang.li", "the name shows", "")
		if err != nil {
			t.Fatal(err)
		}
		e.waitTask(t, workers.QueueCritical, id)
		_, err = workers.Resolve(ctx, e.client, e.state, e.buckets.Reports, p1.SubmissionID, workers.Release, "admin:wang.li", "OCR misread", "")
		if !errors.Is(err, workers.ErrNotHeld) || !strings.Contains(err.Error(), "G3-r2") {
			t.Fatalf("releasing a superseded hold: %v", err)
		}
		if e.exists(t, e.buckets.Packets, storage.PacketKey(p1.Campaign, rep1.AnonCode)) {
			t.Error("a packet is published")
		}
		app, _ := e.state.Get(ctx, p1.Campaign, p1.ApplicantID)
		if app.Status != pipeline.AppReturned || app.Last != "G3-r2" || app.Returns != 1 {
			t.Errorf("application %+v", app)
		}
	})

	t.Run("returned", func(t *testing.T) {
		p, rep := held(t, "G2")
		id, err := workers.Resolve(ctx, e.client, e.state, e.buckets.Reports, p.SubmissionID, workers.Return, "admin:wang.li", "the name is readable in the letterhead", "")
		if err != nil {
			t.Fatal(err)
		}
		if info := e.waitTask(t, workers.QueueCritical, id); info.State != asynq.TaskStateCompleted {
			t.Fatalf("resolve task %s: %s", info.State, info.LastErr)
		}
		got := e.report(t, p)
		if got.Status != pipeline.Rejected || got.Packet != nil || len(got.Findings) != rep.Packet.Pages-1 {
			t.Fatalf("returned report %s, %d findings (want one per material page)", got.Status, len(got.Findings))
		}
		for _, f := range got.Findings {
			if f.Code != ocr.IdentityVisible || f.Material == nil || f.Page < 1 || f.Detail != "box [0.1000 0.1000 0.1600 0.1200]" ||
				!strings.Contains(f.MessageZH, "横向10%–16%、纵向10%–12%") || !strings.Contains(f.MessageEN, "10–16 % across, 10–12 % down") {
				t.Fatalf("finding %+v", f)
			}
		}
		app, _ := e.state.Get(ctx, p.Campaign, p.ApplicantID)
		if app.Status != pipeline.AppReturned || app.Returns != 1 || app.Deadline.IsZero() {
			t.Errorf("application %+v", app)
		}
		if !e.exists(t, e.buckets.Uploads, workers.ContactSheetKey(p.Campaign, p.ApplicantID, p.SubmissionID)) {
			t.Error("no contact sheet")
		}
		if ev := e.events(t, p.SubmissionID); !slices.Contains(ev, wire.EventSubmissionReturned) {
			t.Errorf("events %v, want submission.returned", ev)
		}
		if e.exists(t, e.buckets.Packets, storage.PacketKey(p.Campaign, rep.AnonCode)) ||
			e.exists(t, e.buckets.Uploads, storage.StagedPacketKey(p.Campaign, p.ApplicantID, p.SubmissionID)) {
			t.Error("a returned packet is kept")
		}
	})
}

// TestOCRGatePublishesClean: nothing read outside the masks, the packet is
// published and the submission accepted, with nothing left staged.
func TestOCRGatePublishesClean(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := gateEnv(t, blindEngine{}, func(h *workers.Handler) { h.Metrics = workers.NewMetrics(reg) })
	p, info := e.gated(t, "C1", "C1-r1")
	if info.State != asynq.TaskStateCompleted {
		t.Fatalf("OCR task %s: %s", info.State, info.LastErr)
	}
	rep := e.report(t, p)
	if rep.Status != pipeline.Accepted || !e.exists(t, e.buckets.Packets, storage.PacketKey(p.Campaign, rep.AnonCode)) {
		t.Fatalf("report %s %+v", rep.Status, rep.Packet)
	}
	for _, k := range []string{storage.StagedPacketKey(p.Campaign, p.ApplicantID, p.SubmissionID), storage.StagedReportKey(p.Campaign, p.ApplicantID, p.SubmissionID)} {
		if e.exists(t, e.buckets.Uploads, k) {
			t.Errorf("%s left behind", k)
		}
	}
	if !e.exists(t, e.buckets.Reports, workers.OCRReportKey(p.Campaign, p.ApplicantID, p.SubmissionID)) {
		t.Error("no OCR document")
	}
	// Decided by the gate, not the process task: counted all the same.
	if got := gather(t, reg); got["blindpack_worker_submissions_total/accepted"] != 1 || got["blindpack_worker_packet_pages_total"] != float64(rep.Packet.Pages) ||
		got["blindpack_worker_submission_duration_seconds"] != 1 {
		t.Errorf("metrics %v", got)
	}
}

// TestOCRGateFailureIsNotAReturn: an engine that fails on every page
// (Tesseract gone, crashing, timing out) costs the applicant nothing: the
// reading is retried, then archived for an administrator; the packet stays
// staged, unpublished, and no report is written.
func TestOCRGateFailureIsNotAReturn(t *testing.T) {
	e := gateEnv(t, brokenEngine{})
	ctx := context.Background()
	p, info := e.gated(t, "F1", "F1-r1")
	if info.State != asynq.TaskStateArchived || info.Retried == 0 || !strings.Contains(info.LastErr, "tesseract") {
		t.Fatalf("OCR task %s after %d retries: %s", info.State, info.Retried, info.LastErr)
	}
	if e.exists(t, e.buckets.Reports, storage.ReportKey(p.Campaign, p.ApplicantID, p.SubmissionID)) {
		t.Fatal("a report was written")
	}
	if ev := e.events(t, p.SubmissionID); len(ev) != 0 {
		t.Errorf("events %v for an unread packet", ev)
	}
	if !e.exists(t, e.buckets.Uploads, storage.StagedPacketKey(p.Campaign, p.ApplicantID, p.SubmissionID)) {
		t.Fatal("the staged packet is gone")
	}
	if list, _ := e.buckets.Packets.List(ctx, p.Campaign+"/"); len(list) != 0 {
		t.Fatalf("published: %+v", list)
	}
	app, _ := e.state.Get(ctx, p.Campaign, p.ApplicantID)
	if app.Returns != 0 || len(app.Submissions) != 0 {
		t.Errorf("application %+v", app)
	}
	pr, err := workers.SubmissionProgress(ctx, e.inspector, e.state, p.SubmissionID, nil)
	if err != nil || pr.State != pipeline.Failed || pr.Task == nil || pr.Task.Queue != workers.QueueOCR {
		t.Errorf("progress %+v %v", pr, err)
	}
	archived, err := workers.ListArchived(e.inspector, 10)
	if err != nil || len(archived) != 1 || archived[0].SubmissionID != p.SubmissionID || archived[0].Type != workers.TypeOCRSubmission {
		t.Errorf("archived %+v %v", archived, err)
	}
	if _, err := workers.Resolve(ctx, e.client, e.state, e.buckets.Reports, p.SubmissionID, workers.Release, "admin:wang.li", "looks fine", ""); !errors.Is(err, workers.ErrNotHeld) {
		t.Errorf("release of an unread packet: %v", err)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// blindEngine reads nothing; brokenEngine fails as a missing Tesseract
// does.
type blindEngine struct{}

func (blindEngine) Recognize(context.Context, image.Image) ([]ocr.Word, error) { return nil, nil }

type brokenEngine struct{}

func (brokenEngine) Recognize(context.Context, image.Image) ([]ocr.Word, error) {
	return nil, fmt.Errorf("%w: tesseract: executable file not found in $PATH", ocr.ErrToolMissing)
}
