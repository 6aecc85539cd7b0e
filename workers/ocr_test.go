package workers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/storage/localdir"
	"github.com/blindpack/blindpack/workers"
)

// leakySample is the engineering sample with the masks of the application
// form's first page left out, and one of the two employer masks of its
// second page: the packet is built (each kind is still masked somewhere in
// the form, as the policy requires) and shows the name and employer on
// packet page 2 and the employer on page 3.
func leakySample(t *testing.T) ([]byte, string) {
	t.Helper()
	doc, dir := sampleDoc(t, "eng-intermediate")
	sub, err := pipeline.ParseSubmission(doc)
	if err != nil {
		t.Fatal(err)
	}
	var keep []pipeline.Mask
	for _, m := range sub.Materials[0].Masks {
		if m.Page == 2 && !(m.Kind == "employer" && m.Rect[1] > 0.3) {
			keep = append(keep, m)
		}
	}
	sub.Materials[0].Masks = keep
	doc, err = sub.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return doc, dir
}

// processLocally stores a submission in local buckets and runs the
// process task on it in-process, as a worker would.
func processLocally(t *testing.T, b storage.Buckets, doc []byte, dir string) (*pipeline.Report, workers.OCRPayload) {
	t.Helper()
	ctx := context.Background()
	sub, err := pipeline.ParseSubmission(doc)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range sub.Materials {
		data, err := os.ReadFile(filepath.Join(dir, m.File))
		if err != nil {
			t.Fatal(err)
		}
		sub.Materials[i].File = "files/" + twoDigits(i) + "-" + m.File
		if err := b.Uploads.Put(ctx, sub.Materials[i].File, bytes.NewReader(data), int64(len(data)), storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	doc, err = sub.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	subKey := storage.SubmissionKey(sub.Campaign, sub.ApplicantID, sub.SubmissionID)
	if err := b.Uploads.Put(ctx, subKey, bytes.NewReader(doc), int64(len(doc)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	fontOnce.Do(func() { font, fontErr = pdfkit.LoadFont(synth.FontPath, 0) })
	if fontErr != nil {
		t.Fatal(fontErr)
	}
	p, err := pipeline.New(pipeline.Config{AnonSecret: []byte("ocr-test-secret-0123456"), Font: font})
	if err != nil {
		t.Fatal(err)
	}
	h := &workers.Handler{Pipeline: p, Buckets: b, TempDir: t.TempDir()}
	pp := workers.ProcessPayload{Campaign: sub.Campaign, ApplicantID: sub.ApplicantID, SubmissionID: sub.SubmissionID, SubmissionKey: subKey}
	task, err := workers.NewProcessTask(pp)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ProcessTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	rep, err := pipeline.ParseReport(getObject(t, b.Reports, storage.ReportKey(sub.Campaign, sub.ApplicantID, sub.SubmissionID)))
	if err != nil {
		t.Fatal(err)
	}
	op := workers.OCRPayload{Campaign: sub.Campaign, ApplicantID: sub.ApplicantID, SubmissionID: sub.SubmissionID,
		SubmissionKey: subKey, PacketKey: storage.PacketKey(sub.Campaign, rep.AnonCode)}
	return rep, op
}

func getObject(t *testing.T, s storage.Store, key string) []byte {
	t.Helper()
	rc, _, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func localBuckets(t *testing.T) storage.Buckets {
	t.Helper()
	b, err := localdir.NewBuckets(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// blankRenderer draws every page as white paper, and seeingEngine reads
// the applicant's name at the same place on every page: together they make
// the handler's bookkeeping testable without Tesseract.
type blankRenderer struct{ pages []int }

func (r *blankRenderer) Render(_ context.Context, _ string, page, _ int) (image.Image, error) {
	r.pages = append(r.pages, page)
	return image.NewGray(image.Rect(0, 0, 1000, 1000)), nil
}

type seeingEngine struct{}

func (seeingEngine) Recognize(context.Context, image.Image) ([]ocr.Word, error) {
	// Box [0.1 0.1 0.16 0.12] of the page.
	return []ocr.Word{{Text: "张三丰", Box: image.Rect(100, 100, 160, 120), Conf: 95}}, nil
}

func TestOCRTask(t *testing.T) {
	good := workers.OCRPayload{Campaign: "2024", ApplicantID: "A1", SubmissionID: "A1-r1",
		SubmissionKey: "submissions/2024/A1/A1-r1.json", PacketKey: "2024/2024-AAAA-BBBB/packet.pdf"}
	task, err := workers.NewOCRTask(good)
	if err != nil {
		t.Fatal(err)
	}
	if task.Type() != workers.TypeOCRSubmission || task.Type() != "submission:ocr" {
		t.Errorf("type %q", task.Type())
	}
	var back map[string]string
	if err := json.Unmarshal(task.Payload(), &back); err != nil || len(back) != 5 {
		t.Errorf("payload %s: %v", task.Payload(), err)
	}
	for _, c := range []struct {
		name string
		edit func(*workers.OCRPayload)
	}{
		{"bad campaign", func(p *workers.OCRPayload) { p.Campaign = "../x" }},
		{"no applicant", func(p *workers.OCRPayload) { p.ApplicantID = "" }},
		{"no submission key", func(p *workers.OCRPayload) { p.SubmissionKey = "" }},
		{"escaping packet key", func(p *workers.OCRPayload) { p.PacketKey = "../uploads/x.pdf" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := good
			c.edit(&p)
			if _, err := workers.NewOCRTask(p); err == nil {
				t.Error("accepted")
			}
		})
	}
	if got := workers.OCRReportKey("2024", "A1", "A1-r1"); got != "2024/A1/ocr/A1-r1.json" {
		t.Errorf("OCRReportKey = %q", got)
	}
}

func TestOCRHandlerWritesDocument(t *testing.T) {
	b := localBuckets(t)
	doc, dir := leakySample(t)
	rep, p := processLocally(t, b, doc, dir)
	if rep.Status != pipeline.Accepted {
		t.Fatalf("sample not accepted: %+v", rep.Findings)
	}
	r := &blankRenderer{}
	mux := asynq.NewServeMux()
	mux.Handle(workers.TypeOCRSubmission, &workers.OCRHandler{Engine: seeingEngine{}, Renderer: r, Buckets: b, TempDir: t.TempDir()})
	task, err := workers.NewOCRTask(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := mux.ProcessTask(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	data := getObject(t, b.Reports, workers.OCRReportKey(p.Campaign, p.ApplicantID, p.SubmissionID))
	got, err := ocr.ParseDocument(data)
	if err != nil {
		t.Fatal(err)
	}
	// Every material page is read, the cover is not.
	if want := rep.Packet.Pages - 1; got.Pages != want || len(r.pages) != want || r.pages[0] != 2 {
		t.Errorf("pages read %v (document says %d), want 2…%d", r.pages, got.Pages, rep.Packet.Pages)
	}
	if got.AnonCode != rep.AnonCode || got.PacketSHA256 != rep.Packet.SHA256 || got.DPI != ocr.DefaultDPI || got.SubmissionID != p.SubmissionID {
		t.Errorf("document header %+v", got)
	}
	// The fake engine sees the name on every page; none of the sample's
	// masks is at that place, so each page has one hit, placed on its
	// material and page.
	if len(got.Hits) != got.Pages {
		t.Fatalf("%d hits on %d pages", len(got.Hits), got.Pages)
	}
	for _, e := range rep.Packet.Index {
		for _, pp := range e.Pages {
			h := got.Hits[pp[1]-2]
			if h.PacketPage != pp[1] || *h.Material != e.Material || h.Type != e.Type || h.Page != pp[0] ||
				h.Code != ocr.IdentityVisible || h.Kind != ocr.KindName || h.Box != (ocr.Rect{0.1, 0.1, 0.16, 0.12}) {
				t.Errorf("hit for packet page %d: %+v", pp[1], h)
			}
		}
	}
	sub, _ := pipeline.ParseSubmission(doc)
	for _, s := range []string{sub.Identity.Name, sub.Identity.Employer, "三丰", "天山重工"} {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("the OCR document holds identity text")
		}
	}
}

func TestOCRHandlerNothingToRead(t *testing.T) {
	ctx := context.Background()
	t.Run("packet replaced by a later submission", func(t *testing.T) {
		b := localBuckets(t)
		doc, dir := leakySample(t)
		_, p := processLocally(t, b, doc, dir)
		other := []byte("%PDF-1.7 another packet")
		if err := b.Packets.Put(ctx, p.PacketKey, bytes.NewReader(other), int64(len(other)), storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		r := &blankRenderer{}
		h := &workers.OCRHandler{Engine: seeingEngine{}, Renderer: r, Buckets: b, TempDir: t.TempDir()}
		task, _ := workers.NewOCRTask(p)
		if err := h.ProcessTask(ctx, task); err != nil {
			t.Fatal(err)
		}
		if len(r.pages) != 0 {
			t.Errorf("read pages %v of another submission's packet", r.pages)
		}
		if _, err := b.Reports.Stat(ctx, workers.OCRReportKey(p.Campaign, p.ApplicantID, p.SubmissionID)); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("document written: %v", err)
		}
	})
	t.Run("rejected submission", func(t *testing.T) {
		b := localBuckets(t)
		doc, dir := sampleDoc(t, "eng-intermediate")
		broken := t.TempDir()
		copyDir(t, dir, broken)
		if err := os.WriteFile(filepath.Join(broken, "summary.jpg"), []byte("not a scan"), 0o600); err != nil {
			t.Fatal(err)
		}
		rep, p := processLocally(t, b, doc, broken)
		if rep.Status != pipeline.Rejected {
			t.Fatalf("status %s", rep.Status)
		}
		h := &workers.OCRHandler{Engine: seeingEngine{}, Renderer: &blankRenderer{}, Buckets: b, TempDir: t.TempDir()}
		task, _ := workers.NewOCRTask(p)
		if err := h.ProcessTask(ctx, task); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOCRHandlerErrors(t *testing.T) {
	ctx := context.Background()
	b := localBuckets(t)
	h := &workers.OCRHandler{Engine: seeingEngine{}, Renderer: &blankRenderer{}, Buckets: b, TempDir: t.TempDir()}
	p := workers.OCRPayload{Campaign: "2024", ApplicantID: "A1", SubmissionID: "A1-r1",
		SubmissionKey: "submissions/2024/A1/A1-r1.json", PacketKey: "2024/X/packet.pdf"}

	// A payload that is not one, or names a submission that is not there,
	// can never succeed: archived at once.
	if err := h.ProcessTask(ctx, asynq.NewTask(workers.TypeOCRSubmission, []byte("{"))); !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("garbage payload: %v", err)
	}
	task, _ := workers.NewOCRTask(p)
	if err := h.ProcessTask(ctx, task); !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("missing submission: %v", err)
	}
	// A submission whose report is not written yet is retried: OCR may
	// have been queued before the process task finished.
	doc, dir := leakySample(t)
	_, p = processLocally(t, b, doc, dir)
	if err := b.Reports.Delete(ctx, storage.ReportKey(p.Campaign, p.ApplicantID, p.SubmissionID)); err != nil {
		t.Fatal(err)
	}
	task, _ = workers.NewOCRTask(p)
	if err := h.ProcessTask(ctx, task); err == nil || errors.Is(err, asynq.SkipRetry) {
		t.Errorf("missing report: %v, want a retryable error", err)
	}

	// A worker without OCR hands the task back to the queue.
	mux := workers.NewMux(&workers.Handler{Buckets: b})
	if err := mux.ProcessTask(ctx, task); err == nil || errors.Is(err, asynq.SkipRetry) || !strings.Contains(err.Error(), "OCR is not enabled") {
		t.Errorf("worker without OCR: %v", err)
	}
}

// TestOCRQueue runs the gate on the real Redis and S3 server with
// Tesseract: the leaky sample (masks left off the form's first page, one
// employer mask off its second) is processed, its packet staged and read,
// and the submission held — never published — with the OCR document naming
// the pages where the identity shows.
func TestOCRQueue(t *testing.T) {
	testenv.Tool(t, "tesseract")
	testenv.Tool(t, "pdftoppm")
	// The environment's own server, which has no OCR, would take some OCR
	// tasks and hand them back; this test needs a worker with OCR alone.
	e := newOCREnv(t)
	ctx := context.Background()

	doc, dir := leakySample(t)
	pp, err := e.submitter.SubmitDir(ctx, doc, dir)
	if err != nil {
		t.Fatal(err)
	}
	info := e.waitTaskFor(t, workers.QueueOCR, workers.OCRTaskID(pp.SubmissionID), 3*time.Minute)
	if info.State != asynq.TaskStateCompleted {
		t.Fatalf("task %s: %s", info.State, info.LastErr)
	}
	rep := e.report(t, pp)
	if rep.Status != pipeline.Held || rep.Packet == nil {
		t.Fatalf("status %s: %+v", rep.Status, rep.Findings)
	}
	if _, err := e.buckets.Packets.Stat(ctx, storage.PacketKey(pp.Campaign, rep.AnonCode)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("held packet published: %v", err)
	}
	got, err := ocr.ParseDocument(e.get(t, e.buckets.Reports, workers.OCRReportKey(pp.Campaign, pp.ApplicantID, pp.SubmissionID)))
	if err != nil {
		t.Fatal(err)
	}
	type place struct {
		packetPage int
		kind       ocr.Kind
	}
	var places []place
	for _, h := range got.Hits {
		places = append(places, place{h.PacketPage, h.Kind})
	}
	want := []place{{2, ocr.KindName}, {2, ocr.KindEmployer}, {3, ocr.KindEmployer}}
	if len(places) != len(want) {
		t.Fatalf("hits at %v, want %v", places, want)
	}
	for i := range want {
		if places[i] != want[i] {
			t.Fatalf("hits at %v, want %v", places, want)
		}
	}
	if got.Engine.Name != "tesseract" || got.Engine.Lang != "chi_sim" {
		t.Errorf("engine %+v", got.Engine)
	}
}

// newOCREnv is newEnv with a single worker that runs OCR.
func newOCREnv(t *testing.T) *env {
	t.Helper()
	opt, buckets, suffix := freshServices(t)
	fontOnce.Do(func() { font, fontErr = pdfkit.LoadFont(synth.FontPath, 0) })
	if fontErr != nil {
		t.Fatal(fontErr)
	}
	p, err := pipeline.New(pipeline.Config{AnonSecret: []byte("integration-secret-0123"), Font: font})
	if err != nil {
		t.Fatal(err)
	}
	h := &workers.Handler{Pipeline: p, Buckets: buckets, PacketsBucket: "pk-" + suffix, TempDir: t.TempDir()}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	h.OCR, h.OCRQueue = &workers.OCRHandler{}, client
	startWorker(t, opt, h)
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })
	return &env{buckets: buckets, redis: opt, client: client, inspector: insp, handler: h,
		submitter: &workers.Submitter{Uploads: buckets.Uploads, Client: client}}
}

// TestAcceptedPacketIsStaged: a worker with the gate on stages an
// accepted packet, writes no report and queues the gate's reading on the
// OCR queue, where a worker without Tesseract never takes it: the
// submission is processing, nothing is published.
func TestAcceptedPacketIsStaged(t *testing.T) {
	ocrQueue := asynq.NewClient(asynq.RedisClientOpt{Addr: testenv.Redis(t), DB: redisDB})
	defer ocrQueue.Close()
	e := newEnvWith(t, nil, nil, func(h *workers.Handler) { h.OCRQueue = ocrQueue })
	ctx := context.Background()
	doc, dir := sampleDoc(t, "eng-intermediate")
	p, err := e.submitter.SubmitDir(ctx, doc, dir)
	if err != nil {
		t.Fatal(err)
	}
	if info := e.waitTask(t, workers.QueueDefault, p.SubmissionID); info.State != asynq.TaskStateCompleted {
		t.Fatalf("process task %s: %s", info.State, info.LastErr)
	}
	info, err := e.inspector.GetTaskInfo(workers.QueueOCR, workers.OCRTaskID(p.SubmissionID))
	if err != nil || info.Type != workers.TypeOCRSubmission || info.State != asynq.TaskStatePending {
		t.Fatalf("OCR task %+v: %v", info, err)
	}
	var op workers.OCRPayload
	if err := json.Unmarshal(info.Payload, &op); err != nil || !op.Gate || op.PacketKey != storage.StagedPacketKey(p.Campaign, p.ApplicantID, p.SubmissionID) {
		t.Fatalf("payload %s: %v", info.Payload, err)
	}
	if _, err := e.buckets.Reports.Stat(ctx, storage.ReportKey(p.Campaign, p.ApplicantID, p.SubmissionID)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("report written before the gate: %v", err)
	}
	if list, _ := e.buckets.Packets.List(ctx, p.Campaign+"/"); len(list) != 0 {
		t.Fatalf("published before the gate: %+v", list)
	}
	if _, err := e.buckets.Uploads.Stat(ctx, op.PacketKey); err != nil {
		t.Fatalf("staged packet: %v", err)
	}
	pr, err := workers.SubmissionProgress(ctx, e.inspector, nil, p.SubmissionID, nil)
	if err != nil || pr.State != pipeline.Processing || pr.Task.ID != info.ID {
		t.Errorf("progress %+v %v", pr, err)
	}
}
