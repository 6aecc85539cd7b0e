package state_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/state"
)

// redisDB is this package's database on the test Redis.
const redisDB = 3

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newStore(t testing.TB) (*state.Store, *clock) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: testenv.Redis(t), DB: redisDB})
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2024, 9, 20, 10, 0, 0, 0, time.UTC)}
	return state.New(rdb, state.Options{Prefix: "test:", Now: c.Now}), c
}

func TestReturnsAndDeadlines(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	const window = 48 * time.Hour
	a, err := s.Get(ctx, "2024", "A1")
	if err != nil || a.Status != pipeline.AppPending || a.Returns != 0 {
		t.Fatalf("new application: %+v %v", a, err)
	}
	a, _ = s.Record(ctx, "2024", "A1", "A1-r1", pipeline.Rejected, window, state.Meta{})
	if a.Status != pipeline.AppReturned || a.Returns != 1 || !a.Deadline.Equal(clk.Now().Add(window).Truncate(time.Second)) {
		t.Fatalf("after a return: %+v", a)
	}
	first := a.Deadline
	// The same task run again an hour later: no second return, same deadline.
	clk.Advance(time.Hour)
	a, _ = s.Record(ctx, "2024", "A1", "A1-r1", pipeline.Rejected, window, state.Meta{})
	if a.Returns != 1 || !a.Deadline.Equal(first) {
		t.Fatalf("re-run counted again: %+v", a)
	}
	// A refused submission is recorded but changes nothing else.
	a, _ = s.Record(ctx, "2024", "A1", "A1-x", pipeline.Refused, window, state.Meta{})
	if a.Status != pipeline.AppReturned || a.Returns != 1 || a.Submissions["A1-x"] != pipeline.Refused {
		t.Fatalf("refusal changed state: %+v", a)
	}
	a, _ = s.Record(ctx, "2024", "A1", "A1-r2", pipeline.Rejected, window, state.Meta{})
	if a.Returns != 2 || !a.Deadline.After(first) {
		t.Fatalf("second return: %+v", a)
	}
	a, _ = s.Record(ctx, "2024", "A1", "A1-r3", pipeline.Accepted, window, state.Meta{})
	if a.Status != pipeline.AppAccepted || a.Returns != 2 || !a.Deadline.IsZero() || a.Last != "A1-r3" {
		t.Fatalf("accepted: %+v", a)
	}
	if _, err := s.Record(ctx, "2024", "A1", "x", "maybe", window, state.Meta{}); err == nil {
		t.Error("unknown outcome accepted")
	}
}

func TestAbandonOverdue(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	s.Record(ctx, "2024", "late", "late-r1", pipeline.Rejected, 48*time.Hour, state.Meta{})
	s.Record(ctx, "2024", "quick", "quick-r1", pipeline.Rejected, 48*time.Hour, state.Meta{})
	clk.Advance(24 * time.Hour)
	s.Record(ctx, "2024", "quick", "quick-r2", pipeline.Accepted, 48*time.Hour, state.Meta{})
	if got, _ := s.AbandonOverdue(ctx); len(got) != 0 {
		t.Fatalf("abandoned before the deadline: %v", got)
	}
	clk.Advance(24*time.Hour + time.Second)
	got, err := s.AbandonOverdue(ctx)
	if err != nil || len(got) != 1 || got[0] != (state.Key{Campaign: "2024", ApplicantID: "late"}) {
		t.Fatalf("abandoned %v, %v", got, err)
	}
	if a, _ := s.Get(ctx, "2024", "late"); a.Status != pipeline.AppAbandoned {
		t.Errorf("status %s", a.Status)
	}
	if a, _ := s.Get(ctx, "2024", "quick"); a.Status != pipeline.AppAccepted {
		t.Errorf("a resubmitted application was abandoned: %s", a.Status)
	}
	if got, _ := s.AbandonOverdue(ctx); len(got) != 0 {
		t.Errorf("abandoned twice: %v", got)
	}
}

func TestAuditTrailNewestFirst(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	for i, action := range []string{"submitted", "rejected", "override", "accepted"} {
		clk.Advance(time.Minute)
		if err := s.Audit(ctx, "2024", "A1", state.Event{Actor: "worker@h", Action: action, Submission: "A1-r1", Detail: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	trail, err := s.Trail(ctx, "2024", "A1", 0)
	if err != nil || len(trail) != 4 || trail[0].Action != "accepted" || trail[3].Action != "submitted" {
		t.Fatalf("trail %+v %v", trail, err)
	}
	if !trail[0].At.After(trail[3].At) {
		t.Error("times not kept")
	}
	if two, _ := s.Trail(ctx, "2024", "A1", 2); len(two) != 2 || two[1].Action != "override" {
		t.Errorf("last two: %+v", two)
	}
}

func TestSubmissionIndex(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	loc := state.Located{Campaign: "2024", ApplicantID: "A1", Key: "submissions/2024/A1/A1-r1.json", SubmittedAt: clk.Now()}
	if err := s.Index(ctx, "A1-r1", loc); err != nil {
		t.Fatal(err)
	}
	s.Index(ctx, "A1-r1", state.Located{Campaign: "other", ApplicantID: "B", Key: "elsewhere", SubmittedAt: clk.Now().Add(time.Hour)})
	got, err := s.Locate(ctx, "A1-r1")
	if err != nil || got.Key != loc.Key || got.Campaign != "2024" || !got.SubmittedAt.Equal(loc.SubmittedAt) {
		t.Fatalf("located %+v %v", got, err)
	}
	if _, err := s.Locate(ctx, "nope"); !errors.Is(err, state.ErrUnknownSubmission) {
		t.Errorf("unknown: %v", err)
	}
}

// TestClaimIsAtomic: 20 submitters racing with one id for 20 applicants
// all learn the same owner, whole (never one applicant's campaign with
// another's key).
func TestClaimIsAtomic(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	var wg sync.WaitGroup
	got := make([]state.Located, 20)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			app := fmt.Sprintf("A%d", i)
			loc, err := s.Claim(ctx, "X-r1", state.Located{Campaign: "c" + app, ApplicantID: app, Key: "k/" + app, SubmittedAt: clk.Now()})
			if err != nil {
				t.Error(err)
			}
			got[i] = loc
		}()
	}
	wg.Wait()
	owner := got[0]
	for _, g := range got {
		if g != owner || g.Campaign != "c"+g.ApplicantID || g.Key != "k/"+g.ApplicantID {
			t.Fatalf("claims disagree or are mixed: %+v vs %+v", g, owner)
		}
	}
	if loc, _ := s.Locate(ctx, "X-r1"); loc.ApplicantID != owner.ApplicantID {
		t.Errorf("located %+v, claimed by %+v", loc, owner)
	}
}

func TestConcurrentRecordsCountOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Record(ctx, "2024", "A9", "A9-r1", pipeline.Rejected, time.Hour, state.Meta{})
		}()
	}
	wg.Wait()
	if a, _ := s.Get(ctx, "2024", "A9"); a.Returns != 1 {
		t.Errorf("%d returns from one submission recorded by 20 workers", a.Returns)
	}
}

func TestAttentionList(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	eng := state.Meta{Series: "engineering", Level: "intermediate", Codes: []string{"blurry"}}
	s.Record(ctx, "2024", "A1", "A1-r1", pipeline.Rejected, time.Hour, eng)
	clk.Advance(time.Minute)
	s.Record(ctx, "2024", "A2", "A2-r1", pipeline.Rejected, time.Hour, state.Meta{Series: "accounting", Level: "associate_senior", Codes: []string{"missing_material"}})
	clk.Advance(time.Minute)
	s.Record(ctx, "2024", "A3", "A3-r1", pipeline.Refused, time.Hour, state.Meta{Series: "engineering", Level: "junior", Codes: []string{"outside_submission_window"}})
	clk.Advance(time.Minute)
	s.Record(ctx, "2024", "A4", "A4-r1", pipeline.Accepted, time.Hour, state.Meta{Series: "engineering"})
	s.Record(ctx, "2023", "A5", "A5-r1", pipeline.Rejected, time.Hour, eng)

	all, err := s.Attention(ctx, state.Filter{Campaign: "2024"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range all {
		ids = append(ids, a.ApplicantID)
	}
	if strings.Join(ids, ",") != "A3,A2,A1" {
		t.Errorf("attention list %v, want newest first without the accepted one", ids)
	}
	for _, tc := range []struct {
		f    state.Filter
		want string
	}{
		{state.Filter{Campaign: "2024", Series: "engineering"}, "A3,A1"},
		{state.Filter{Code: "missing_material"}, "A2"},
		{state.Filter{Status: "refused"}, "A3"},
		{state.Filter{Level: "intermediate"}, "A5,A1"},
	} {
		got, _ := s.Attention(ctx, tc.f, 0)
		var ids []string
		for _, a := range got {
			ids = append(ids, a.ApplicantID)
		}
		if strings.Join(ids, ",") != tc.want {
			t.Errorf("filter %+v: %v, want %s", tc.f, ids, tc.want)
		}
	}
	// Fixed and accepted: off the list.
	s.Record(ctx, "2024", "A1", "A1-r2", pipeline.Accepted, time.Hour, state.Meta{Series: "engineering"})
	if got, _ := s.Attention(ctx, state.Filter{Campaign: "2024", Code: "blurry"}, 0); len(got) != 0 {
		t.Errorf("accepted application still listed: %+v", got)
	}
	if counts := state.CodeCounts(all); counts["blurry"] != 1 || counts["missing_material"] != 1 {
		t.Errorf("counts %v", counts)
	}
}

// TestAcceptedApplicantsAndCampaignTrail: the spot-check population is the
// campaign's accepted applications only, and the campaign's trail keeps
// its events in order with their ids.
func TestAcceptedApplicantsAndCampaignTrail(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	const window = 48 * time.Hour
	for _, r := range []struct {
		campaign, applicant string
		outcome             pipeline.Status
	}{
		{"2024", "A3", pipeline.Accepted}, {"2024", "A1", pipeline.Accepted}, {"2024", "A2", pipeline.Rejected},
		{"2024", "A4", pipeline.Refused}, {"2025", "A5", pipeline.Accepted},
	} {
		if _, err := s.Record(ctx, r.campaign, r.applicant, r.applicant+"-r1", r.outcome, window, state.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	// A returned application accepted on resubmission counts; one accepted
	// and then rejected by a reprocess does not.
	s.Record(ctx, "2024", "A2", "A2-r2", pipeline.Accepted, window, state.Meta{})
	s.Record(ctx, "2024", "A3", "A3-r1", pipeline.Rejected, window, state.Meta{})
	got, err := s.AcceptedApplicants(ctx, "2024")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "A1,A2" {
		t.Errorf("accepted in 2024: %v, want A1,A2", got)
	}

	first, err := s.CampaignAudit(ctx, "2024", state.Event{Actor: "admin:wang.li", Action: "spot_check_seed", Detail: "seed=00"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.CampaignAudit(ctx, "2024", state.Event{Actor: "admin:wang.li", Action: "spot_check_drawn"})
	if err != nil {
		t.Fatal(err)
	}
	trail, err := s.CampaignTrail(ctx, "2024", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != 2 || trail[0].ID != second || trail[1].ID != first || trail[1].Action != "spot_check_seed" {
		t.Errorf("campaign trail %+v", trail)
	}
	if other, _ := s.CampaignTrail(ctx, "2025", 0); len(other) != 0 {
		t.Errorf("2025's trail has %d events", len(other))
	}
}

// BenchmarkAttention lists a campaign's returned applications from an
// index of 2,000, as the console's front page does.
func BenchmarkAttention(b *testing.B) {
	s, _ := newStore(b)
	ctx := context.Background()
	for i := range 2000 {
		sub := fmt.Sprintf("B2024-%05d-r1", i)
		if _, err := s.Record(ctx, "2024", fmt.Sprintf("B2024-%05d", i), sub, pipeline.Rejected, time.Hour, state.Meta{Series: "engineering", Level: "intermediate", Codes: []string{"blurry"}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		apps, err := s.Attention(ctx, state.Filter{Campaign: "2024"}, 0)
		if err != nil || len(apps) != 2000 {
			b.Fatalf("%d applications, %v", len(apps), err)
		}
	}
}

// Runs end in any order: two submissions processed at once, or a hold
// released after the applicant resubmitted. The newest submission decides.
func TestNewestSubmissionDecides(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	const window = 48 * time.Hour
	t1 := clk.Now()
	t2 := t1.Add(10 * time.Minute)
	// r1 is held (decides nothing); r2, submitted later, is accepted.
	a, err := s.Record(ctx, "2024", "A1", "A1-r1", pipeline.Held, window, state.Meta{SubmittedAt: t1})
	if err != nil || a.Status != pipeline.AppPending {
		t.Fatalf("held: %+v %v", a, err)
	}
	clk.Advance(time.Hour)
	a, _ = s.Record(ctx, "2024", "A1", "A1-r2", pipeline.Accepted, window, state.Meta{SubmittedAt: t2})
	if a.Status != pipeline.AppAccepted || a.Last != "A1-r2" || !a.LastAt.Equal(t2.Truncate(time.Second)) {
		t.Fatalf("newer accepted: %+v", a)
	}
	if by, ok := a.SupersededBy("A1-r1", t1); !ok || by != "A1-r2" {
		t.Fatalf("r1 not superseded by r2: %q %v", by, ok)
	}
	if _, ok := a.SupersededBy("A1-r2", t2); ok {
		t.Fatal("the newest superseded by itself")
	}
	// The hold on r1 is then returned by an administrator: counted as a
	// return of r1, but the application stays accepted with r2.
	clk.Advance(time.Hour)
	a, _ = s.Record(ctx, "2024", "A1", "A1-r1", pipeline.Rejected, window, state.Meta{SubmittedAt: t1})
	if a.Status != pipeline.AppAccepted || a.Last != "A1-r2" || a.Returns != 1 || !a.Deadline.IsZero() ||
		a.LastOutcome != pipeline.Accepted || a.Submissions["A1-r1"] != pipeline.Rejected {
		t.Fatalf("a late return of an older submission changed the application: %+v", a)
	}
	if _, listed := a.Listed(); listed {
		t.Error("superseded return put the application on the attention list")
	}
	// A newer submission after that decides as usual.
	t3 := t2.Add(time.Hour)
	a, _ = s.Record(ctx, "2024", "A1", "A1-r3", pipeline.Rejected, window, state.Meta{SubmittedAt: t3})
	if a.Status != pipeline.AppReturned || a.Last != "A1-r3" || a.Returns != 2 {
		t.Fatalf("newest return: %+v", a)
	}
	// Without submission times (older records), the last run decides, as before.
	a, _ = s.Record(ctx, "2024", "A2", "A2-r2", pipeline.Accepted, window, state.Meta{})
	a, _ = s.Record(ctx, "2024", "A2", "A2-r1", pipeline.Rejected, window, state.Meta{})
	if a.Status != pipeline.AppReturned || a.Last != "A2-r1" {
		t.Fatalf("unknown times: %+v", a)
	}
}

// TestConfirm: an outcome Record stored is confirmed; one that is not in
// the state any more — a write the primary acknowledged and then lost in
// a failover, made here by removing it — is not, so that the worker does
// not write a report for it. With a replica to wait for and none there,
// Confirm waits for it a bounded time and then reads the state as it is.
func TestConfirm(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if _, err := s.Record(ctx, "2024", "A1", "A1-r1", pipeline.Accepted, time.Hour, state.Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Confirm(ctx, "2024", "A1", "A1-r1", pipeline.Accepted); err != nil {
		t.Fatalf("recorded: %v", err)
	}
	if err := s.Confirm(ctx, "2024", "A1", "A1-r1", pipeline.Rejected); !errors.Is(err, state.ErrNotRecorded) {
		t.Fatalf("another outcome: %v, want ErrNotRecorded", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: testenv.Redis(t), DB: redisDB})
	defer rdb.Close()
	if err := rdb.HDel(ctx, "test:app:{2024:A1}:subs", "A1-r1").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Confirm(ctx, "2024", "A1", "A1-r1", pipeline.Accepted); !errors.Is(err, state.ErrNotRecorded) {
		t.Fatalf("lost: %v, want ErrNotRecorded", err)
	}

	waiting := state.New(rdb, state.Options{Prefix: "test:", Replicas: 1})
	if _, err := waiting.Record(ctx, "2024", "A2", "A2-r1", pipeline.Rejected, time.Hour, state.Meta{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := waiting.Confirm(ctx, "2024", "A2", "A2-r1", pipeline.Rejected); err != nil {
		t.Fatalf("no replica to wait for: %v", err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("no replica: confirmed after %v, without waiting for it", waited)
	}
}
