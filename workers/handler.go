package workers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
)

// Handler processes TypeProcessSubmission tasks, and is what NewMux builds
// the handlers of the other task types from. Its fields fall in five parts:
// what builds a packet; where files come from and go; where a decision is
// recorded and told; what else this worker does (the OCR gate, reading
// packets, signing results); what it tells the operator. Processing needs
// Pipeline and Buckets; every other field's zero value is a default or
// turns its part off.
type Handler struct {
	// Pipeline builds a submission's packet and report.
	Pipeline *pipeline.Pipeline
	// TempDir holds packets while they are built (default os.TempDir()).
	TempDir string

	// Buckets are where submissions and their files are read, and where
	// packets, reports and contact sheets are written.
	Buckets storage.Buckets
	// PacketsBucket names the packets bucket in report locations
	// (default "packets").
	PacketsBucket string

	// State keeps applications' returns, deadlines and audit trail. Nil
	// turns the return loop off: every submission is processed, nothing is
	// recorded (tests of the pipeline alone).
	State *state.Store
	// Actor names this worker in the audit trail (default "worker").
	Actor string
	// Webhooks, when set, tells the configured endpoints about every
	// report written (submission.accepted, .returned, .refused) and every
	// result issued.
	Webhooks *Webhooks

	// OCRQueue, when set, turns the OCR gate on: an accepted packet is
	// staged, not published, and its reading queued on the OCR queue; the
	// reading publishes it or holds the submission for an administrator.
	OCRQueue *asynq.Client
	// OCR handles TypeOCRSubmission; nil on a worker that does not run
	// OCR. Fields it leaves zero are taken from this Handler.
	OCR *OCRHandler
	// Result handles TypeIssueResult; nil on a worker without signing keys.
	Result *ResultHandler

	Log *slog.Logger
	// Metrics, when set, counts outcomes and times jobs and stages.
	Metrics *Metrics
}

// maxSubmissionBytes bounds a submission document; a real one is a few KiB.
const maxSubmissionBytes = 1 << 20

// ProcessTask implements asynq.Handler.
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := decodePayload[ProcessPayload](t)
	if err != nil {
		return err
	}
	return classify(h.process(ctx, p))
}

// errBadPayload marks a task that can never succeed and cannot be reported
// either: its payload does not say which submission it is about.
var errBadPayload = errors.New("workers: bad task payload")

func badPayload(err error) error { return fmt.Errorf("%w: %v", errBadPayload, err) }

// classify is where an error gets its meaning for the queue. Bad input was
// already turned into a report by the time we get here, so what is left is:
// a payload nobody can act on (archived at once, no retries), and everything
// else — Redis, the object store, a cancelled context — which is transient
// and retried with backoff until the task's retry budget runs out.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errBadPayload):
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}

func (h *Handler) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

// process runs one submission as named steps:
//
//	fetch   read the submission document — or a rejection report for a
//	        document nobody can read
//	admit   the return loop: a refusal report for a submission the rules
//	        do not take (accepted or abandoned already, returned too
//	        often, overdue, outside the submission window)
//	build   the pipeline, writing the packet to an unlinked temp file
//	deliver an accepted packet staged for the OCR gate, which decides the
//	        rest, or published; a rejection's contact sheet
//	decide  record the outcome, write the report, notify the webhooks
//
// Its outputs are written last and whole: the packet first (its bytes
// depend only on the inputs, so a re-run rewrites the same object), then
// the report, which is the sign that the submission is done.
func (h *Handler) process(ctx context.Context, p ProcessPayload) error {
	began := time.Now()
	sub, rep, err := h.fetch(ctx, p)
	if err != nil {
		return err
	}
	if sub != nil {
		if rep, err = h.admit(ctx, p); err != nil {
			return err
		}
	}
	if sub != nil && rep == nil {
		var staged bool
		if rep, staged, err = h.build(ctx, p, sub); err != nil {
			return err
		}
		if staged {
			h.Metrics.took(time.Since(began))
			return nil
		}
	}
	if err := h.decide(ctx, runOf(ctx, p.SubmissionID), p, sub, rep); err != nil {
		return err
	}
	h.Metrics.took(time.Since(began))
	return nil
}

// build runs the pipeline on an admitted submission and delivers what it
// made. staged says the packet waits for the OCR gate: the run ends there,
// without a report.
func (h *Handler) build(ctx context.Context, p ProcessPayload, sub *pipeline.Submission) (rep *pipeline.Report, staged bool, err error) {
	tmp, err := os.CreateTemp(h.TempDir, "blindpack-packet-*.pdf")
	if err != nil {
		return nil, false, fmt.Errorf("workers: temp file: %w", err)
	}
	// Unlinked at once: the open file keeps its bytes until closed, and a
	// worker killed in the middle (SIGKILL, the OOM killer) leaves no
	// partial packet behind in the temp dir. Where an open file cannot be
	// removed, the deferred Remove does it.
	os.Remove(tmp.Name())
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	rep, err = h.Pipeline.ProcessWith(ctx, sub, Source(h.Buckets.Uploads), tmp, pipeline.Options{Overrides: p.Overrides, Observe: h.Metrics.observe})
	if errors.Is(err, pipeline.ErrBadOverride) {
		return nil, false, classify(badPayload(err))
	}
	if err != nil {
		return nil, false, err
	}
	staged, err = h.deliver(ctx, p, sub, tmp, rep)
	return rep, staged, err
}

// deliver puts a run's output where it goes. An accepted packet is staged,
// not published, when the OCR gate is on: no reviewer sees it, and the
// report is not written, until the gate has read it. Otherwise the packet
// is published, or a rejection gets its contact sheet, and a packet an
// earlier run staged is dropped: without its staged report the reading
// decides nothing.
func (h *Handler) deliver(ctx context.Context, p ProcessPayload, sub *pipeline.Submission, packet *os.File, rep *pipeline.Report) (staged bool, err error) {
	switch {
	case rep.Status == pipeline.Accepted && h.gated():
		return true, h.stage(ctx, p, packet, rep)
	case rep.Status == pipeline.Accepted:
		err = h.publishUnlessSuperseded(ctx, p, packet, rep)
	default:
		err = h.contactSheet(ctx, sub, rep)
	}
	if err != nil {
		return false, err
	}
	if h.gated() {
		if err := h.Buckets.Uploads.Delete(ctx, storage.StagedReportKey(p.Campaign, p.ApplicantID, p.SubmissionID)); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return false, fmt.Errorf("workers: drop staged report: %w", err)
		}
	}
	return false, nil
}

// decide records a submission's outcome, writes its report and tells the
// webhooks: the end of every run, whoever decided — the process task, the
// OCR gate, or an administrator resolving a hold. sub is nil for a
// document nobody could read. run names the task run, so that a re-run
// emits the same event id.
func (h *Handler) decide(ctx context.Context, run string, p ProcessPayload, sub *pipeline.Submission, rep *pipeline.Report) error {
	var app *state.Application
	var err error
	if sub != nil { // a document nobody could read is not the applicant's return
		if app, err = h.record(ctx, p, sub, rep); err != nil {
			return err
		}
	}
	if err := h.writeReport(ctx, p, rep); err != nil {
		return err
	}
	// After the report: a receiver that reads it on the event finds it.
	return h.Webhooks.SubmissionDecided(ctx, run, rep, app, h.Pipeline.Policy().Returns.MaxReturns)
}

// writeReport stores the report, in one PUT: the sign that the submission
// is done.
func (h *Handler) writeReport(ctx context.Context, p ProcessPayload, rep *pipeline.Report) error {
	data := rep.Marshal()
	key := storage.ReportKey(p.Campaign, p.ApplicantID, p.SubmissionID)
	if err := h.Buckets.Reports.Put(ctx, key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("workers: write report: %w", err)
	}
	h.log().Info("report written", "submission", p.SubmissionID, "campaign", p.Campaign, "status", rep.Status,
		"findings", len(rep.Findings), "anon_code", rep.AnonCode)
	h.Metrics.decided(rep)
	return nil
}

// runOf names the task run ctx belongs to: its asynq task id, or the
// submission id outside a queue.
func runOf(ctx context.Context, submissionID string) string {
	if run, ok := asynq.GetTaskID(ctx); ok {
		return run
	}
	return submissionID
}

// fetch reads and parses the submission document. A document that
// is missing, malformed or about another submission gives a rejection
// report instead of a submission.
func (h *Handler) fetch(ctx context.Context, p ProcessPayload) (*pipeline.Submission, *pipeline.Report, error) {
	rep := pipeline.NewReport(p.Campaign, p.ApplicantID, p.SubmissionID)
	rc, _, err := h.Buckets.Uploads.Get(ctx, p.SubmissionKey)
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrInvalidKey):
		return nil, rep.Reject(finding.New(finding.SubmissionMissing, finding.Args{})), nil
	case err != nil:
		return nil, nil, fmt.Errorf("workers: read submission: %w", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxSubmissionBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("workers: read submission: %w", err)
	}
	if len(data) > maxSubmissionBytes {
		return nil, rep.Reject(finding.New(finding.MalformedSubmission, finding.Args{Value: "document larger than 1 MiB"})), nil
	}
	sub, err := pipeline.ParseSubmission(data)
	var fe *finding.Error
	if errors.As(err, &fe) {
		return nil, rep.Reject(finding.New(fe.Code, finding.Args{Value: fe.Value})), nil
	} else if err != nil {
		return nil, nil, err
	}
	if sub.Campaign != p.Campaign || sub.ApplicantID != p.ApplicantID || sub.SubmissionID != p.SubmissionID {
		return nil, rep.Reject(finding.New(finding.InvalidField, finding.Args{Value: "ids differ from the queued task"})), nil
	}
	return sub, nil, nil
}

// publishUnlessSuperseded publishes an accepted run's packet, unless a
// newer submission of the application was decided meanwhile (runs end in
// any order): then the newer one's packet stays, and the report of this
// run says where nothing was published.
func (h *Handler) publishUnlessSuperseded(ctx context.Context, p ProcessPayload, f *os.File, rep *pipeline.Report) error {
	by, err := h.supersededBy(ctx, p)
	if err != nil {
		return err
	}
	if by != "" {
		h.log().Info("superseded: packet not published", "submission", p.SubmissionID, "campaign", p.Campaign, "newer", by)
		return nil
	}
	return h.publishPacket(ctx, f, rep)
}

func (h *Handler) publishPacket(ctx context.Context, f *os.File, rep *pipeline.Report) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("workers: rewind packet: %w", err)
	}
	key := storage.PacketKey(rep.Campaign, rep.AnonCode)
	if err := h.Buckets.Packets.Put(ctx, key, f, rep.Packet.Bytes, storage.PutOptions{ContentType: "application/pdf"}); err != nil {
		return fmt.Errorf("workers: publish packet: %w", err)
	}
	bucket := h.PacketsBucket
	if bucket == "" {
		bucket = storage.PacketsBucket
	}
	rep.Packet.Location = path.Join(bucket, key)
	h.Metrics.published(rep)
	return nil
}

// Source reads materials from a store for the pipeline, translating the
// store's errors into the pipeline's.
func Source(s storage.Store) pipeline.Source {
	return pipeline.SourceFunc(func(ctx context.Context, key string) (io.ReadCloser, error) {
		rc, _, err := s.Get(ctx, key)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return nil, fmt.Errorf("%w: %w", pipeline.ErrFileNotFound, err)
		case errors.Is(err, storage.ErrInvalidKey):
			return nil, fmt.Errorf("%w: %w", pipeline.ErrInvalidFile, err)
		}
		return rc, err
	})
}
