package workers

import (
	"context"
	"slices"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/state"
)

// FailureQuery selects what ListFailures reads. The zero value lists every
// application needing attention and no archived task.
type FailureQuery struct {
	// Filter selects the applications (state.Filter) and, by its
	// Campaign, Since and Until, the archived tasks. Its Code narrows the
	// applications but not the code counts, so that choosing a code does
	// not hide the others.
	Filter state.Filter
	// SkipApplications reads no application (a list of failed tasks only).
	SkipApplications bool
	// TasksPerQueue is how many archived tasks of each queue are read,
	// newest failure first; 0 reads none.
	TasksPerQueue int
}

// Failures is what needs an administrator: the failure list that the API
// (GET /v1/failures) and the console's front page both show.
type Failures struct {
	// Applications are those the filter selects, code included, most
	// recently changed first.
	Applications []state.Application
	// Codes counts the finding codes of the applications the filter
	// selects with its Code left out.
	Codes map[string]int
	// Tasks are the archived tasks of every queue (webhook deliveries
	// included), newest failure first, that failed within the filter's
	// time and name its campaign — or name none: a payload nobody can
	// read is shown whatever the campaign.
	Tasks []Archived
}

// ListFailures reads the failure list from the state store and the queues.
func ListFailures(ctx context.Context, st *state.Store, insp *asynq.Inspector, q FailureQuery) (Failures, error) {
	f := q.Filter
	out := Failures{Codes: map[string]int{}}
	if !q.SkipApplications {
		code := f.Code
		f.Code = ""
		apps, err := st.Attention(ctx, f, 0)
		if err != nil {
			return Failures{}, err
		}
		out.Codes = state.CodeCounts(apps)
		if code != "" {
			apps = slices.DeleteFunc(apps, func(a state.Application) bool { return !slices.Contains(a.Meta.Codes, code) })
		}
		out.Applications = apps
	}
	if q.TasksPerQueue > 0 {
		tasks, err := ListArchived(insp, q.TasksPerQueue)
		if err != nil {
			return Failures{}, err
		}
		out.Tasks = slices.DeleteFunc(tasks, func(t Archived) bool {
			return (f.Campaign != "" && t.Campaign != "" && t.Campaign != f.Campaign) ||
				(!f.Since.IsZero() && t.LastFailedAt.Before(f.Since)) || (!f.Until.IsZero() && t.LastFailedAt.After(f.Until))
		})
	}
	return out, nil
}

// Page returns applications [offset, offset+n) of the list, clamped to it.
func (f Failures) Page(offset, n int) []state.Application {
	apps := f.Applications
	return apps[min(offset, len(apps)):min(offset+n, len(apps))]
}
