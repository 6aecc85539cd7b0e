package workers_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/workers"
)

// TestListFailures: the failure list the API and the console share, on
// the real Redis — applications needing attention filtered, counted with
// the code filter left out, paged; archived tasks filtered by campaign and
// time, an unreadable payload kept whatever the campaign.
func TestListFailures(t *testing.T) {
	ctx := context.Background()
	opt := asynq.RedisClientOpt{Addr: testenv.Redis(t), DB: redisDB}
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: redisDB})
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	st := state.New(rdb, state.Options{})
	eng := func(codes ...string) state.Meta {
		return state.Meta{Series: "engineering", Level: "intermediate", Codes: codes}
	}
	for _, a := range []struct {
		campaign, applicant string
		outcome             pipeline.Status
		meta                state.Meta
	}{
		{"2024", "A1", pipeline.Rejected, eng("blurry", "missing_material")},
		{"2024", "A2", pipeline.Rejected, eng("blurry")},
		{"2024", "A3", pipeline.Accepted, eng()},
		{"2025", "B1", pipeline.Rejected, eng("identity_leak")},
	} {
		if _, err := st.Record(ctx, a.campaign, a.applicant, a.applicant+"-r1", a.outcome, 48*time.Hour, a.meta); err != nil {
			t.Fatal(err)
		}
	}

	// Three tasks fail for good: one of each campaign and one whose
	// payload names nothing.
	start := time.Now()
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	for id, payload := range map[string]string{
		"t-2024":  `{"campaign":"2024","applicant_id":"A1","submission_id":"A1-r1"}`,
		"t-2025":  `{"campaign":"2025","applicant_id":"B1","submission_id":"B1-r1"}`,
		"garbage": `not json`,
	} {
		if _, err := client.Enqueue(asynq.NewTask("test:fail", []byte(payload)), asynq.TaskID(id), asynq.Queue(workers.QueueDefault)); err != nil {
			t.Fatal(err)
		}
	}
	srv := asynq.NewServer(opt, asynq.Config{Concurrency: 1, Queues: map[string]int{workers.QueueDefault: 1}, LogLevel: asynq.FatalLevel})
	if err := srv.Start(asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		return fmt.Errorf("test: %w", asynq.SkipRetry)
	})); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if info, err := insp.GetQueueInfo(workers.QueueDefault); err == nil && info.Archived == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the tasks were not archived")
		}
	}

	apps := func(f workers.Failures) []string {
		var ids []string
		for _, a := range f.Applications {
			ids = append(ids, a.Campaign+"/"+a.ApplicantID)
		}
		slices.Sort(ids)
		return ids
	}
	tasks := func(f workers.Failures) []string {
		var ids []string
		for _, t := range f.Tasks {
			ids = append(ids, t.ID)
		}
		slices.Sort(ids)
		return ids
	}
	for _, tc := range []struct {
		name  string
		q     workers.FailureQuery
		apps  []string
		codes map[string]int
		tasks []string
	}{
		{"everything", workers.FailureQuery{TasksPerQueue: 10},
			[]string{"2024/A1", "2024/A2", "2025/B1"}, map[string]int{"blurry": 2, "missing_material": 1, "identity_leak": 1},
			[]string{"garbage", "t-2024", "t-2025"}},
		{"no tasks asked for", workers.FailureQuery{},
			[]string{"2024/A1", "2024/A2", "2025/B1"}, map[string]int{"blurry": 2, "missing_material": 1, "identity_leak": 1}, nil},
		{"one campaign", workers.FailureQuery{Filter: state.Filter{Campaign: "2024"}, TasksPerQueue: 10},
			[]string{"2024/A1", "2024/A2"}, map[string]int{"blurry": 2, "missing_material": 1}, []string{"garbage", "t-2024"}},
		{"a code narrows the list, not the counts", workers.FailureQuery{Filter: state.Filter{Campaign: "2024", Code: "missing_material"}},
			[]string{"2024/A1"}, map[string]int{"blurry": 2, "missing_material": 1}, nil},
		{"another series", workers.FailureQuery{Filter: state.Filter{Series: "economics"}},
			nil, map[string]int{}, nil},
		{"tasks only", workers.FailureQuery{SkipApplications: true, TasksPerQueue: 10},
			nil, map[string]int{}, []string{"garbage", "t-2024", "t-2025"}},
		{"failed before since", workers.FailureQuery{SkipApplications: true, TasksPerQueue: 10, Filter: state.Filter{Since: time.Now().Add(time.Hour)}},
			nil, map[string]int{}, nil},
		{"failed after until", workers.FailureQuery{SkipApplications: true, TasksPerQueue: 10, Filter: state.Filter{Until: start.Add(-time.Hour)}},
			nil, map[string]int{}, nil},
		{"failed within since and until", workers.FailureQuery{SkipApplications: true, TasksPerQueue: 10,
			Filter: state.Filter{Since: start.Add(-time.Hour), Until: time.Now().Add(time.Hour)}},
			nil, map[string]int{}, []string{"garbage", "t-2024", "t-2025"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := workers.ListFailures(ctx, st, insp, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := apps(f); !slices.Equal(got, tc.apps) {
				t.Errorf("applications %v, want %v", got, tc.apps)
			}
			if !maps.Equal(f.Codes, tc.codes) {
				t.Errorf("codes %v, want %v", f.Codes, tc.codes)
			}
			if got := tasks(f); !slices.Equal(got, tc.tasks) {
				t.Errorf("tasks %v, want %v", got, tc.tasks)
			}
		})
	}

	f, err := workers.ListFailures(ctx, st, insp, workers.FailureQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ offset, n, want int }{{0, 2, 2}, {2, 2, 1}, {3, 2, 0}, {9, 2, 0}} {
		if got := len(f.Page(p.offset, p.n)); got != p.want {
			t.Errorf("Page(%d, %d): %d applications, want %d", p.offset, p.n, got, p.want)
		}
	}
}
