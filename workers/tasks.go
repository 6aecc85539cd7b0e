package workers

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/pipeline"
)

// Task type names.
const (
	// TypeProcessSubmission checks a submission and builds its packet.
	TypeProcessSubmission = "submission:process"
	// TypeSweepApplications marks applications whose resubmission window
	// passed as abandoned; the scheduler enqueues it periodically.
	TypeSweepApplications = "applications:sweep"
)

// NewSweepTask makes the periodic sweep task.
func NewSweepTask() *asynq.Task {
	return asynq.NewTask(TypeSweepApplications, nil, asynq.Queue(QueueLow), asynq.MaxRetry(1), asynq.Timeout(time.Minute))
}

// Queue names, in order of priority.
const (
	QueueCritical = "critical"
	QueueDefault  = "default"
	QueueLow      = "low"
)

// Queues is the weight of each queue: a worker takes tasks from them in
// proportion, so a flood of submissions never starves administrators' work.
var Queues = map[string]int{QueueCritical: 6, QueueDefault: 3, QueueLow: 1}

// Task timeouts and retries. asynq keeps timeouts in whole seconds.
const (
	processTimeout  = 10 * time.Minute
	processRetries  = 10
	processRetained = 30 * 24 * time.Hour
)

// ProcessPayload is the payload of TypeProcessSubmission.
type ProcessPayload struct {
	Campaign     string `json:"campaign"`
	ApplicantID  string `json:"applicant_id"`
	SubmissionID string `json:"submission_id"`
	// SubmissionKey is the submission document's key in the uploads bucket.
	SubmissionKey string `json:"submission_key"`
	// SubmittedAt is when the upload service submitted it: the time the
	// campaign calendar and the 48-hour window are judged by, however long
	// the job waited in the queue.
	SubmittedAt time.Time `json:"submitted_at"`
	// Actor is who asked for this run: "upload-service", or the
	// administrator of a reprocess.
	Actor string `json:"actor,omitempty"`
	// Overrides are an administrator's page decisions for a reprocess.
	Overrides []pipeline.Override `json:"overrides,omitempty"`
}

// Validate checks that every id is safe to use in keys.
func (p ProcessPayload) Validate() error {
	for _, id := range []string{p.Campaign, p.ApplicantID, p.SubmissionID} {
		if !pipeline.ValidID(id) {
			return fmt.Errorf("workers: invalid id %q in payload", id)
		}
	}
	if p.SubmissionKey == "" {
		return fmt.Errorf("workers: payload without submission key")
	}
	return nil
}

// NewProcessTask makes the task for a submission. Its task id is the
// submission id, so enqueueing the same submission again is refused by
// asynq instead of building a second packet; the finished task is kept for
// 30 days to keep refusing it.
func NewProcessTask(p ProcessPayload) (*asynq.Task, error) {
	return newProcessTask(p, p.SubmissionID)
}

// NewReprocessTask makes the task of an administrator's reprocess: the same
// payload with the administrator's overrides, under the n-th reprocess id
// of the submission.
func NewReprocessTask(p ProcessPayload, n int64) (*asynq.Task, error) {
	return newProcessTask(p, fmt.Sprintf("%s:reprocess:%d", p.SubmissionID, n))
}

func newProcessTask(p ProcessPayload, id string) (*asynq.Task, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	data, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeProcessSubmission, data,
		asynq.TaskID(id),
		asynq.Queue(QueueDefault),
		asynq.MaxRetry(processRetries),
		asynq.Timeout(processTimeout),
		asynq.Retention(processRetained),
	), nil
}
