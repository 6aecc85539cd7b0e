package workers

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/state"
)

// Progress is where a submission is, for the upload service and
// administrators following it.
type Progress struct {
	State pipeline.SubmissionState
	// Task is the submission's task, nil when none is known (finished
	// tasks are kept 30 days).
	Task *asynq.TaskInfo
}

// SubmissionProgress finds a submission's latest task — its latest
// reprocess (critical queue, ReprocessTaskID) if an administrator asked for
// one, else its own (default queue, task id = submission id) — and says
// where the submission is: where a reprocess is until it has run (the
// report there is the earlier run's), where its own task is until the
// report is written, then the report's status. rep is the submission's
// report, nil while there is none. The API and the console both ask here,
// so that they never differ.
func SubmissionProgress(ctx context.Context, insp *asynq.Inspector, st *state.Store, id string, rep *pipeline.Report) (Progress, error) {
	var p Progress
	find := func(queue, task string) error {
		info, err := insp.GetTaskInfo(queue, task)
		switch {
		case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
		case err != nil:
			return fmt.Errorf("workers: task of %s: %w", id, err)
		default:
			p.Task = info
		}
		return nil
	}
	reprocessed := false
	if st != nil {
		n, err := st.CounterValue(ctx, reprocessCounter(id))
		if err != nil {
			return p, err
		}
		if n > 0 {
			if err := find(QueueCritical, ReprocessTaskID(id, n)); err != nil {
				return p, err
			}
			reprocessed = p.Task != nil
		}
	}
	if p.Task == nil {
		if err := find(QueueDefault, id); err != nil {
			return p, err
		}
	}
	if p.Task != nil && p.Task.State == asynq.TaskStateCompleted && (rep == nil || reprocessed) {
		// A run that staged its packet for the OCR gate is where its
		// reading is: processing while it waits or runs, retrying, or
		// failed for an administrator.
		info, err := insp.GetTaskInfo(QueueOCR, OCRTaskID(p.Task.ID))
		switch {
		case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
		case err != nil:
			return p, fmt.Errorf("workers: OCR task of %s: %w", id, err)
		case info.State != asynq.TaskStateCompleted:
			p.Task = info
			if p.State = taskState(info.State); p.State == pipeline.Queued {
				p.State = pipeline.Processing
			}
			return p, nil
		}
	}
	switch {
	case reprocessed && p.Task.State != asynq.TaskStateCompleted, rep == nil && p.Task != nil:
		p.State = taskState(p.Task.State)
	case rep != nil:
		p.State = rep.Status.State()
	default:
		p.State = pipeline.Queued
	}
	return p, nil
}

// taskState is the state of a submission whose task is in state s and
// has no report yet.
func taskState(s asynq.TaskState) pipeline.SubmissionState {
	switch s {
	case asynq.TaskStateActive, asynq.TaskStateCompleted:
		return pipeline.Processing
	case asynq.TaskStateRetry:
		return pipeline.Retrying
	case asynq.TaskStateArchived:
		return pipeline.Failed
	}
	return pipeline.Queued
}
