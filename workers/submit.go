package workers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
)

// ErrAlreadyQueued is returned by Submit when the submission was enqueued
// before: the queue keeps one task per submission id.
var ErrAlreadyQueued = errors.New("workers: submission already queued")

// ErrConflict is returned by Submit when a different document was already
// stored under the same submission id, or the id is another applicant's or
// another campaign's.
var ErrConflict = errors.New("workers: another submission document has this submission id")

// Submitter is what the upload service does: store the submission document
// beside the uploads and enqueue one task for it.
type Submitter struct {
	Uploads storage.Store
	Client  *asynq.Client
	// State, when set, indexes the submission for administrators and
	// audits it.
	State *state.Store
	// Actor names the submitter in the audit trail (default "upload-service").
	Actor string
	// Now is the clock that stamps submissions (default time.Now).
	Now func() time.Time
}

// Submit stores and enqueues a submission document. The document is checked
// only as far as the queue needs (schema and ids); everything else is the
// worker's to judge and report. With a State, a submission id belongs to
// the first (campaign, applicant) that used it: ErrConflict for any other,
// and nothing is stored; without one, only a different document under the
// same key is a conflict.
func (s *Submitter) Submit(ctx context.Context, doc []byte) (ProcessPayload, error) {
	sub, err := pipeline.ParseSubmission(doc)
	if err != nil {
		return ProcessPayload{}, fmt.Errorf("workers: submit: %w", err)
	}
	actor := s.Actor
	if actor == "" {
		actor = "upload-service"
	}
	p := ProcessPayload{Campaign: sub.Campaign, ApplicantID: sub.ApplicantID, SubmissionID: sub.SubmissionID,
		SubmissionKey: storage.SubmissionKey(sub.Campaign, sub.ApplicantID, sub.SubmissionID),
		SubmittedAt:   s.now(), Actor: actor}
	task, err := NewProcessTask(p)
	if err != nil {
		return p, fmt.Errorf("workers: submit: %w", err)
	}
	if s.State != nil {
		// The first submission of an id also fixes when it was submitted.
		if p.SubmittedAt, err = s.claim(ctx, p.Campaign, p.ApplicantID, p.SubmissionID, p.SubmittedAt); err != nil {
			return p, err
		}
		if task, err = NewProcessTask(p); err != nil {
			return p, err
		}
	}
	if err := s.store(ctx, p.SubmissionKey, doc); err != nil {
		return p, err
	}
	if _, err := s.Client.EnqueueContext(ctx, task); err != nil {
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			return p, ErrAlreadyQueued
		}
		return p, fmt.Errorf("workers: enqueue: %w", err)
	}
	if s.State != nil {
		if err := s.State.Audit(ctx, p.Campaign, p.ApplicantID, state.Event{Actor: actor, Action: "submitted", Submission: p.SubmissionID}); err != nil {
			return p, err
		}
	}
	return p, nil
}

// now is the time a submission is stamped with, to the second.
func (s *Submitter) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Second)
	}
	return time.Now().UTC().Truncate(time.Second)
}

// claim makes the submission id the application's before anything is
// stored: the same id for another applicant or campaign would otherwise
// store a second document (with its identity) under another key. It
// returns when the id was first submitted.
func (s *Submitter) claim(ctx context.Context, campaign, applicant, id string, at time.Time) (time.Time, error) {
	key := storage.SubmissionKey(campaign, applicant, id)
	loc, err := s.State.Claim(ctx, id, state.Located{Campaign: campaign, ApplicantID: applicant, Key: key, SubmittedAt: at})
	if err != nil {
		return at, err
	}
	if loc.Campaign != campaign || loc.ApplicantID != applicant || loc.Key != key {
		return at, ErrConflict
	}
	return loc.SubmittedAt.UTC(), nil
}

// ErrUnknownSubmission is returned by Reprocess for an id never submitted.
var ErrUnknownSubmission = errors.New("workers: unknown submission")

// Reprocess queues a submission again on an administrator's request —
// after a threshold change, or with overrides for pages a person judged
// fine — and audits the request and every override.
func Reprocess(ctx context.Context, client *asynq.Client, st *state.Store, submissionID, admin string, overrides []pipeline.Override) (string, error) {
	loc, err := st.Locate(ctx, submissionID)
	if errors.Is(err, state.ErrUnknownSubmission) {
		return "", ErrUnknownSubmission
	} else if err != nil {
		return "", err
	}
	n, err := st.Counter(ctx, reprocessCounter(submissionID))
	if err != nil {
		return "", err
	}
	for i := range overrides {
		overrides[i].By = admin
		if overrides[i].At.IsZero() {
			overrides[i].At = st.Now().UTC().Truncate(time.Second)
		}
	}
	p := ProcessPayload{Campaign: loc.Campaign, ApplicantID: loc.ApplicantID, SubmissionID: submissionID, SubmissionKey: loc.Key,
		SubmittedAt: loc.SubmittedAt.UTC(), Actor: admin, Overrides: overrides}
	task, err := NewReprocessTask(p, n)
	if err != nil {
		return "", err
	}
	info, err := client.EnqueueContext(ctx, task)
	if err != nil {
		return "", fmt.Errorf("workers: enqueue reprocess: %w", err)
	}
	if err := st.Audit(ctx, loc.Campaign, loc.ApplicantID, state.Event{Actor: admin, Action: "reprocess", Submission: submissionID, Detail: info.ID}); err != nil {
		return info.ID, err
	}
	for _, o := range overrides {
		ev := state.Event{Actor: admin, Action: "override", Submission: submissionID, Detail: fmt.Sprintf("material %d page %d: %s", o.Material, o.Page, o.Reason)}
		if err := st.Audit(ctx, loc.Campaign, loc.ApplicantID, ev); err != nil {
			return info.ID, err
		}
	}
	return info.ID, nil
}

// reprocessCounter names the counter of a submission's reprocess runs: the
// n-th has task id ReprocessTaskID(submission, n).
func reprocessCounter(submissionID string) string { return "reprocess:" + submissionID }

// store writes the document unless the same one is already there.
func (s *Submitter) store(ctx context.Context, key string, doc []byte) error {
	if stored, err := s.stored(ctx, key, doc); err != nil || stored {
		return err
	}
	if err := s.Uploads.Put(ctx, key, bytes.NewReader(doc), int64(len(doc)), storage.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("workers: store submission: %w", err)
	}
	return nil
}

// stored reports whether doc is already stored at key. A different
// document under the same id is ErrConflict: the id names one submission
// for good.
func (s *Submitter) stored(ctx context.Context, key string, doc []byte) (bool, error) {
	rc, _, err := s.Uploads.Get(ctx, key)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("workers: read stored submission: %w", err)
	}
	defer rc.Close()
	old, err := io.ReadAll(io.LimitReader(rc, maxSubmissionBytes+1))
	if err != nil {
		return false, fmt.Errorf("workers: read stored submission: %w", err)
	}
	if !bytes.Equal(old, doc) {
		return false, ErrConflict
	}
	return true, nil
}

// SubmitDir is Submit for a submission whose files are in a local
// directory, named relative to it: each file is put in the uploads bucket
// under the submission's own prefix, the document is rewritten to name the
// keys, and then submitted. It is what an upload service written in Go does,
// and what the demo does.
func (s *Submitter) SubmitDir(ctx context.Context, doc []byte, dir string) (ProcessPayload, error) {
	sub, err := pipeline.ParseSubmission(doc)
	if err != nil {
		return ProcessPayload{}, fmt.Errorf("workers: submit: %w", err)
	}
	if !pipeline.ValidID(sub.Campaign) || !pipeline.ValidID(sub.ApplicantID) || !pipeline.ValidID(sub.SubmissionID) {
		return ProcessPayload{}, fmt.Errorf("workers: submit: invalid ids")
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return ProcessPayload{}, fmt.Errorf("workers: submit: %w", err)
	}
	defer root.Close()
	files := make([]string, len(sub.Materials))
	for i, m := range sub.Materials {
		files[i] = m.File
		sub.Materials[i].File = path.Join(sub.Campaign, sub.ApplicantID, sub.SubmissionID, fmt.Sprintf("%02d-%s", i, path.Base(m.File)))
	}
	doc, err = sub.Marshal()
	if err != nil {
		return ProcessPayload{}, err
	}
	if s.State != nil {
		if _, err := s.claim(ctx, sub.Campaign, sub.ApplicantID, sub.SubmissionID, s.now()); err != nil {
			return ProcessPayload{}, err
		}
	}
	// Files of a submission already stored are never replaced: the task
	// that processed them, or will, must see what was submitted.
	switch stored, err := s.stored(ctx, storage.SubmissionKey(sub.Campaign, sub.ApplicantID, sub.SubmissionID), doc); {
	case err != nil:
		return ProcessPayload{}, err
	case stored:
		return s.Submit(ctx, doc)
	}
	for i, m := range sub.Materials {
		if err := s.upload(ctx, root, files[i], m.File); err != nil {
			return ProcessPayload{}, err
		}
	}
	return s.Submit(ctx, doc)
}

func (s *Submitter) upload(ctx context.Context, root *os.Root, name, key string) error {
	f, err := root.Open(name)
	if err != nil {
		return fmt.Errorf("workers: submit: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("workers: submit: %w", err)
	}
	if err := s.Uploads.Put(ctx, key, f, st.Size(), storage.PutOptions{}); err != nil {
		return fmt.Errorf("workers: upload %s: %w", key, err)
	}
	return nil
}
