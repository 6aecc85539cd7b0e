package workers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
)

// TypeResolveHeld carries an administrator's decision on a held
// submission: release its staged packet (the OCR hit was a misreading) or
// return the submission to the applicant with the hits as findings.
const TypeResolveHeld = "submission:resolve"

// Decision is what an administrator does with a held submission.
type Decision string

// Decisions on a held submission.
const (
	// Release publishes the staged packet; the submission is accepted.
	Release Decision = "release"
	// Return rejects the submission with the OCR hits as findings
	// (identity_visible, with the box): a return.
	Return Decision = "return"
)

// Valid reports whether d is a decision.
func (d Decision) Valid() bool { return d == Release || d == Return }

// Task settings of TypeResolveHeld: a copy of one packet, or a contact
// sheet; an administrator is waiting.
const (
	resolveTimeout  = 5 * time.Minute
	resolveRetries  = 5
	resolveRetained = 7 * 24 * time.Hour
)

// ResolvePayload is the payload of TypeResolveHeld.
type ResolvePayload struct {
	Campaign      string   `json:"campaign"`
	ApplicantID   string   `json:"applicant_id"`
	SubmissionID  string   `json:"submission_id"`
	SubmissionKey string   `json:"submission_key"`
	Decision      Decision `json:"decision"`
	// Actor is the administrator who decided.
	Actor string `json:"actor"`
	// Reason is the administrator's, audited with the request.
	Reason string `json:"reason"`
}

// Validate checks ids, key and decision.
func (p ResolvePayload) Validate() error {
	for _, id := range []string{p.Campaign, p.ApplicantID, p.SubmissionID} {
		if !pipeline.ValidID(id) {
			return fmt.Errorf("workers: invalid id %q in payload", id)
		}
	}
	if err := storage.CheckKey(p.SubmissionKey); err != nil {
		return fmt.Errorf("workers: payload key: %w", err)
	}
	if !p.Decision.Valid() || p.Actor == "" {
		return fmt.Errorf("workers: resolve: decision %q by %q", p.Decision, p.Actor)
	}
	return nil
}

// ErrNotHeld is returned by Resolve for a submission that is not held, or
// whose hold a newer submission of the applicant has superseded.
var ErrNotHeld = errors.New("workers: the submission is not held")

// Resolve queues an administrator's decision on a held submission, on the
// critical queue, and audits it with the reason. The submission must be
// held now (its report says so); reason must not be empty.
func Resolve(ctx context.Context, client *asynq.Client, st *state.Store, reports storage.Store, submissionID string, d Decision, admin, reason, from string) (string, error) {
	reason = strings.TrimSpace(reason)
	if !d.Valid() {
		return "", fmt.Errorf("workers: resolve: unknown decision %q", d)
	}
	if err := pipeline.CheckReason(reason, true); err != nil {
		return "", err
	}
	loc, err := st.Locate(ctx, submissionID)
	if errors.Is(err, state.ErrUnknownSubmission) {
		return "", ErrUnknownSubmission
	} else if err != nil {
		return "", err
	}
	rep, err := readReport(ctx, reports, storage.ReportKey(loc.Campaign, loc.ApplicantID, submissionID))
	if errors.Is(err, storage.ErrNotFound) {
		return "", ErrNotHeld
	} else if err != nil {
		return "", err
	}
	if rep.Status != pipeline.Held {
		return "", ErrNotHeld
	}
	app, err := st.Get(ctx, loc.Campaign, loc.ApplicantID)
	if err != nil {
		return "", err
	}
	if by, ok := app.SupersededBy(submissionID, loc.SubmittedAt); ok {
		// Releasing it would put an older packet in place of the newer
		// one's; returning it would return an application decided since.
		return "", fmt.Errorf("%w: the applicant's newer submission %s was decided since", ErrNotHeld, by)
	}
	n, err := st.Counter(ctx, ResolveCounter(submissionID))
	if err != nil {
		return "", err
	}
	task, err := newTask(TypeResolveHeld, ResolvePayload{Campaign: loc.Campaign, ApplicantID: loc.ApplicantID, SubmissionID: submissionID,
		SubmissionKey: loc.Key, Decision: d, Actor: admin, Reason: reason},
		asynq.TaskID(ResolveTaskID(submissionID, n)), asynq.Queue(QueueCritical),
		asynq.MaxRetry(resolveRetries), asynq.Timeout(resolveTimeout), asynq.Retention(resolveRetained))
	if err != nil {
		return "", err
	}
	info, err := client.EnqueueContext(ctx, task)
	if err != nil {
		return "", fmt.Errorf("workers: enqueue resolve: %w", err)
	}
	ev := state.Event{Actor: admin, Action: string(d) + "_requested", Submission: submissionID, Detail: fmt.Sprintf("task %s: %s", info.ID, reason), From: from}
	return info.ID, st.Audit(ctx, loc.Campaign, loc.ApplicantID, ev)
}

// ResolveTaskID is the task id of the n-th decision on a submission's
// holds; ResolveCounter names the counter of n.
func ResolveTaskID(submissionID string, n int64) string {
	return fmt.Sprintf("%s:resolve:%d", submissionID, n)
}

// ResolveCounter names the state counter of a submission's decisions.
func ResolveCounter(submissionID string) string { return "resolve:" + submissionID }

// resolveHandler is what NewMux registers for TypeResolveHeld.
type resolveHandler struct{ h *Handler }

// ProcessTask implements asynq.Handler.
func (r resolveHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := decodePayload[ResolvePayload](t)
	if err != nil {
		return err
	}
	return classify(r.h.resolve(ctx, p))
}

// resolve carries out a decision on a held submission. A submission no
// longer held (decided since, or this task re-run after it decided)
// changes nothing.
func (h *Handler) resolve(ctx context.Context, p ResolvePayload) error {
	log := h.log().With("submission", p.SubmissionID, "campaign", p.Campaign, "task", TypeResolveHeld)
	rep, err := readReport(ctx, h.Buckets.Reports, storage.ReportKey(p.Campaign, p.ApplicantID, p.SubmissionID))
	if err != nil {
		return err
	}
	if rep.Status != pipeline.Held || rep.Packet == nil {
		log.Info("not held: nothing to resolve", "status", rep.Status)
		return nil
	}
	pp := ProcessPayload{Campaign: p.Campaign, ApplicantID: p.ApplicantID, SubmissionID: p.SubmissionID, SubmissionKey: p.SubmissionKey, Actor: p.Actor}
	// Looked up once: the superseded check and the record both order by it.
	if pp.SubmittedAt, err = h.submittedAt(ctx, pp); err != nil {
		return err
	}
	sub, bad, err := h.fetch(ctx, pp)
	if err != nil {
		return err
	}
	if bad != nil {
		return badPayload(errors.New("the submission document is gone or unreadable"))
	}
	if by, err := h.supersededBy(ctx, pp); err != nil {
		return err
	} else if by != "" {
		// Queued before the newer submission was decided: too late now.
		log.Info("superseded: the hold stays, nothing published", "newer", by)
		return h.dropStaged(ctx, pp, true)
	}
	switch p.Decision {
	case Release:
		if err := h.publishStaged(ctx, p, rep); err != nil {
			return err
		}
		rep.Status = pipeline.Accepted
	case Return:
		hits, err := h.heldHits(ctx, p)
		if err != nil {
			return err
		}
		rep.Reject(hits...)
		if err := h.contactSheet(ctx, sub, rep); err != nil {
			return err
		}
	}
	if err := h.decide(ctx, runOf(ctx, p.SubmissionID), pp, sub, rep); err != nil {
		return err
	}
	log.Info("held submission resolved", "decision", p.Decision, "status", rep.Status)
	return h.dropStaged(ctx, pp, true)
}

// publishStaged copies the staged packet of a held submission to its
// published key, after checking it is the packet its report describes.
func (h *Handler) publishStaged(ctx context.Context, p ResolvePayload, rep *pipeline.Report) error {
	rc, _, err := h.Buckets.Uploads.Get(ctx, storage.StagedPacketKey(p.Campaign, p.ApplicantID, p.SubmissionID))
	if err != nil {
		return fmt.Errorf("workers: read staged packet: %w", err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(h.TempDir, "blindpack-staged-*.pdf")
	if err != nil {
		return fmt.Errorf("workers: temp file: %w", err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	if _, err := io.Copy(f, rc); err != nil {
		return fmt.Errorf("workers: read staged packet: %w", err)
	}
	if sum, err := fileSHA256(f); err != nil {
		return err
	} else if sum != rep.Packet.SHA256 {
		return badPayload(errors.New("the staged packet is not the one the held report describes"))
	}
	return h.publishPacket(ctx, f, rep)
}

// fileSHA256 hashes a file from its start and leaves it rewound.
func fileSHA256(f *os.File) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("workers: rewind: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("workers: hash: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("workers: rewind: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// heldHits are the findings of a held submission's OCR document: what the
// applicant is told on a return, each with its material, page and box.
func (h *Handler) heldHits(ctx context.Context, p ResolvePayload) ([]finding.Finding, error) {
	data, err := readObject(ctx, h.Buckets.Reports, OCRReportKey(p.Campaign, p.ApplicantID, p.SubmissionID), "OCR document")
	if err != nil {
		return nil, err
	}
	doc, err := ocr.ParseDocument(data)
	if err != nil {
		return nil, badPayload(err)
	}
	if len(doc.Hits) == 0 {
		return nil, badPayload(errors.New("the OCR document of a held submission has no hit"))
	}
	out := make([]finding.Finding, 0, len(doc.Hits))
	for _, hit := range doc.Hits {
		out = append(out, hit.Finding)
	}
	return out, nil
}
