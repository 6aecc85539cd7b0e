package workers

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/hibiken/asynq"
)

// Archived is a task asynq gave up on — its retries ran out, or nobody
// could act on its payload — with the ids its payload names. Payloads
// carry ids and keys only (tasks.go), so nothing here is a document.
type Archived struct {
	*asynq.TaskInfo
	Campaign, ApplicantID, SubmissionID string
	// BatchKey names a result batch (result:issue).
	BatchKey string
}

// ListArchived lists the archived tasks of queues — every queue when none
// is named — at most perQueue of each, newest failure first. A queue
// nothing was ever put on has none. The API, the console and the CLI all
// list failures through it.
func ListArchived(insp *asynq.Inspector, perQueue int, queues ...string) ([]Archived, error) {
	if len(queues) == 0 {
		queues = AllQueues()
	}
	var out []Archived
	for _, q := range queues {
		list, err := insp.ListArchivedTasks(q, asynq.PageSize(perQueue))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("workers: archived tasks of %s: %w", q, err)
		}
		for _, t := range list {
			out = append(out, Describe(t))
		}
	}
	slices.SortStableFunc(out, func(a, b Archived) int { return b.LastFailedAt.Compare(a.LastFailedAt) })
	return out, nil
}

// Describe reads the ids a task's payload names; a payload that is not
// JSON names nothing.
func Describe(t *asynq.TaskInfo) Archived {
	a := Archived{TaskInfo: t}
	var ids struct {
		Campaign     string `json:"campaign"`
		ApplicantID  string `json:"applicant_id"`
		SubmissionID string `json:"submission_id"`
		BatchKey     string `json:"batch_key"`
	}
	if json.Unmarshal(t.Payload, &ids) == nil {
		a.Campaign, a.ApplicantID, a.SubmissionID, a.BatchKey = ids.Campaign, ids.ApplicantID, ids.SubmissionID, ids.BatchKey
	}
	return a
}
