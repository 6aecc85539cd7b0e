package workers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
)

// admit applies the notice's rules to the application's stored state. It
// returns the refusal report, or nil to process the submission.
func (h *Handler) admit(ctx context.Context, p ProcessPayload) (*pipeline.Report, error) {
	if h.State == nil {
		return nil, nil
	}
	app, err := h.State.Get(ctx, p.Campaign, p.ApplicantID)
	if err != nil {
		return nil, err
	}
	pol := h.Pipeline.Policy()
	var cal *pipeline.Calendar
	if c, ok := pol.Campaign(p.Campaign); ok {
		from, until := c.SubmissionPeriod()
		cal = &pipeline.Calendar{SubmitFrom: from, SubmitUntil: until}
	}
	at := p.SubmittedAt
	if at.IsZero() {
		at = h.State.Now()
	}
	refusal := pipeline.Admit(pipeline.Application{Status: app.Status, Returns: app.Returns, Deadline: app.Deadline, Outcomes: app.Submissions},
		p.SubmissionID, at, pipeline.ReturnRules{Window: pol.Returns.Window(), MaxReturns: pol.Returns.MaxReturns}, cal)
	if refusal == nil {
		return nil, nil
	}
	return pipeline.Refuse(p.Campaign, p.ApplicantID, p.SubmissionID, *refusal), nil
}

// record stores the outcome and audits it, and returns the application's
// state after it (nil without a State). Done before the report is
// written, so that a report never exists for an outcome the state lacks.
// A submission that was accepted before and is rejected now — reprocessed
// after a threshold change — takes its packet down: reviewers must not keep
// reading what the pipeline no longer passes.
func (h *Handler) record(ctx context.Context, p ProcessPayload, sub *pipeline.Submission, rep *pipeline.Report) (*state.Application, error) {
	if h.State == nil {
		return nil, nil
	}
	before, err := h.State.Get(ctx, p.Campaign, p.ApplicantID)
	if err != nil {
		return nil, err
	}
	if rep.Status == pipeline.Rejected && before.Submissions[p.SubmissionID] == pipeline.Accepted && rep.AnonCode != "" {
		if err := h.Buckets.Packets.Delete(ctx, storage.PacketKey(p.Campaign, rep.AnonCode)); err != nil {
			return nil, fmt.Errorf("workers: withdraw packet: %w", err)
		}
		if err := h.State.Audit(ctx, p.Campaign, p.ApplicantID, state.Event{Actor: h.actor(p), Action: "withdrawn", Submission: p.SubmissionID,
			Detail: "packet taken down: the submission no longer passes"}); err != nil {
			return nil, err
		}
	}
	if rep.Status == pipeline.Accepted {
		// The API finds an application from the anonymous code a reviewer
		// asks for; the code is a keyed hash, so it is indexed here.
		if err := h.State.IndexAnon(ctx, p.Campaign, map[string]string{rep.AnonCode: p.ApplicantID}); err != nil {
			return nil, err
		}
	}
	codes := findingCodes(rep)
	at, err := h.submittedAt(ctx, p)
	if err != nil {
		return nil, err
	}
	app, err := h.State.Record(ctx, p.Campaign, p.ApplicantID, p.SubmissionID, rep.Status, h.Pipeline.Policy().Returns.Window(),
		state.Meta{Series: sub.Series, Level: sub.Level, Codes: codes, SubmittedAt: at})
	if err != nil {
		return nil, err
	}
	detail := strings.Join(codes, ",")
	if rep.Status == pipeline.Held {
		detail = "packet staged, not published: OCR reads the identity outside the masks (see ocr/" + p.SubmissionID + ".json); an administrator releases or returns it"
	}
	if rep.Status == pipeline.Rejected {
		detail = fmt.Sprintf("%s; returns %d of %d; resubmit by %s", detail, app.Returns, h.Pipeline.Policy().Returns.MaxReturns,
			app.Deadline.UTC().Format(time.RFC3339))
	}
	if err := h.State.Audit(ctx, p.Campaign, p.ApplicantID, state.Event{Actor: h.actor(p), Action: string(rep.Status), Submission: p.SubmissionID, Detail: detail}); err != nil {
		return &app, err
	}
	// Under Sentinel, a failover can lose what the old primary
	// acknowledged last: the report is written only for an outcome that
	// lasted (else the task runs again).
	return &app, h.State.Confirm(ctx, p.Campaign, p.ApplicantID, p.SubmissionID, rep.Status)
}

// submittedAt is when a run's submission was submitted: from its task, or
// from the index for tasks that do not carry it (the OCR gate, a decision
// on a hold). Zero when not known.
func (h *Handler) submittedAt(ctx context.Context, p ProcessPayload) (time.Time, error) {
	if !p.SubmittedAt.IsZero() || h.State == nil {
		return p.SubmittedAt, nil
	}
	loc, err := h.State.Locate(ctx, p.SubmissionID)
	if errors.Is(err, state.ErrUnknownSubmission) {
		return time.Time{}, nil
	}
	return loc.SubmittedAt, err
}

// supersededBy names a newer decided submission of the application, which
// a run of p must not overrule: its packet is not published (the newer
// one's is, under the same anonymous code) and its outcome changes nothing
// but its own record (state.Store.Record). "" when p is the newest.
func (h *Handler) supersededBy(ctx context.Context, p ProcessPayload) (string, error) {
	if h.State == nil {
		return "", nil
	}
	at, err := h.submittedAt(ctx, p)
	if err != nil {
		return "", err
	}
	app, err := h.State.Get(ctx, p.Campaign, p.ApplicantID)
	if err != nil {
		return "", err
	}
	by, _ := app.SupersededBy(p.SubmissionID, at)
	return by, nil
}

// findingCodes are the distinct finding codes of a report, in its order.
func findingCodes(rep *pipeline.Report) []string {
	codes := []string{}
	for _, f := range rep.Findings {
		if !slices.Contains(codes, string(f.Code)) {
			codes = append(codes, string(f.Code))
		}
	}
	return codes
}

// actor names who acts in the audit trail: this worker, on whose behalf.
func (h *Handler) actor(p ProcessPayload) string {
	actor := h.Actor
	if actor == "" {
		actor = "worker"
	}
	if p.Actor != "" {
		actor += " for " + p.Actor
	}
	return actor
}

// ContactSheetKey is where the contact sheet of a rejected submission is
// kept in the uploads bucket: it shows the originals, so it stays with
// them, for administrators.
func ContactSheetKey(campaign, applicantID, submissionID string) string {
	return "contact/" + campaign + "/" + applicantID + "/" + submissionID + ".png"
}

func (h *Handler) contactSheet(ctx context.Context, sub *pipeline.Submission, rep *pipeline.Report) error {
	img, err := h.Pipeline.ContactSheet(ctx, sub, Source(h.Buckets.Uploads), rep)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, img); err != nil {
		return err
	}
	key := ContactSheetKey(sub.Campaign, sub.ApplicantID, sub.SubmissionID)
	if err := h.Buckets.Uploads.Put(ctx, key, &b, int64(b.Len()), storage.PutOptions{ContentType: "image/png"}); err != nil {
		return fmt.Errorf("workers: write contact sheet: %w", err)
	}
	return nil
}

// SweepHandler marks overdue returned applications abandoned.
type SweepHandler struct {
	State *state.Store
}

// ProcessTask implements asynq.Handler.
func (s *SweepHandler) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	if s.State == nil {
		return nil
	}
	keys, err := s.State.AbandonOverdue(ctx)
	for _, k := range keys {
		if aerr := s.State.Audit(ctx, k.Campaign, k.ApplicantID, state.Event{Actor: "scheduler", Action: string(pipeline.AppAbandoned), Detail: "not resubmitted before the deadline"}); aerr != nil && err == nil {
			err = aerr
		}
	}
	return err
}
