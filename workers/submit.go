package workers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/storage"
)

// ErrAlreadyQueued is returned by Submit when the submission was enqueued
// before: the queue keeps one task per submission id.
var ErrAlreadyQueued = errors.New("workers: submission already queued")

// ErrConflict is returned by Submit when a different document was already
// stored under the same submission id.
var ErrConflict = errors.New("workers: another submission document has this submission id")

// Submitter is what the upload service does: store the submission document
// beside the uploads and enqueue one task for it.
type Submitter struct {
	Uploads storage.Store
	Client  *asynq.Client
}

// Submit stores and enqueues a submission document. The document is checked
// only as far as the queue needs (schema and ids); everything else is the
// worker's to judge and report.
func (s *Submitter) Submit(ctx context.Context, doc []byte) (ProcessPayload, error) {
	sub, err := pipeline.ParseSubmission(doc)
	if err != nil {
		return ProcessPayload{}, fmt.Errorf("workers: submit: %w", err)
	}
	p := ProcessPayload{Campaign: sub.Campaign, ApplicantID: sub.ApplicantID, SubmissionID: sub.SubmissionID,
		SubmissionKey: storage.SubmissionKey(sub.Campaign, sub.ApplicantID, sub.SubmissionID)}
	task, err := NewProcessTask(p)
	if err != nil {
		return p, fmt.Errorf("workers: submit: %w", err)
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
	return p, nil
}

// store writes the document unless the same one is already there. A
// different document under the same id is refused: the id names one
// submission for good.
func (s *Submitter) store(ctx context.Context, key string, doc []byte) error {
	rc, _, err := s.Uploads.Get(ctx, key)
	switch {
	case err == nil:
		defer rc.Close()
		old, err := io.ReadAll(io.LimitReader(rc, maxSubmissionBytes+1))
		if err != nil {
			return fmt.Errorf("workers: read stored submission: %w", err)
		}
		if !bytes.Equal(old, doc) {
			return ErrConflict
		}
		return nil
	case !errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("workers: read stored submission: %w", err)
	}
	if err := s.Uploads.Put(ctx, key, bytes.NewReader(doc), int64(len(doc)), storage.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("workers: store submission: %w", err)
	}
	return nil
}
