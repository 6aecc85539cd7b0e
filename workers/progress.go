package workers

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/pipeline"
)

// Progress is where a submission is, for the upload service and
// administrators following it.
type Progress struct {
	State pipeline.SubmissionState
	// Task is the submission's task, nil when none is known (finished
	// tasks are kept 30 days).
	Task *asynq.TaskInfo
}

// SubmissionProgress finds a submission's task and says where the
// submission is: where its task is until the report is written, then the
// report's status. rep is the submission's report, nil while there is
// none. The API and the console both ask here, so that they never differ.
func SubmissionProgress(ctx context.Context, insp *asynq.Inspector, id string, rep *pipeline.Report) (Progress, error) {
	var p Progress
	info, err := insp.GetTaskInfo(QueueDefault, id)
	switch {
	case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
	case err != nil:
		return p, fmt.Errorf("workers: task of %s: %w", id, err)
	default:
		p.Task = info
	}
	switch {
	case rep != nil:
		p.State = rep.Status.State()
	case p.Task != nil:
		p.State = taskState(p.Task.State)
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
