package state_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/state"
)

// assignRedisDB is the database of the assignment tests, apart from the
// return-loop tests' so that neither flushes the other's keys.
const assignRedisDB = 5

func newAssignStore(t *testing.T) *state.Store {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: testenv.Redis(t), DB: assignRedisDB})
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	return state.New(rdb, state.Options{Prefix: "test:"})
}

func TestAssignments(t *testing.T) {
	ctx := context.Background()
	s := newAssignStore(t)
	steps := []struct {
		name     string
		do       func() (bool, error)
		wantNew  bool
		assigned map[string][]string // reviewer → codes after the step
	}{
		{"assign", func() (bool, error) { return s.Assign(ctx, "2024-AAAA-AAAA", "E-0042") }, true,
			map[string][]string{"E-0042": {"2024-AAAA-AAAA"}}},
		{"assign again", func() (bool, error) { return s.Assign(ctx, "2024-AAAA-AAAA", "E-0042") }, false,
			map[string][]string{"E-0042": {"2024-AAAA-AAAA"}}},
		{"second packet", func() (bool, error) { return s.Assign(ctx, "2024-BBBB-BBBB", "E-0042") }, true,
			map[string][]string{"E-0042": {"2024-AAAA-AAAA", "2024-BBBB-BBBB"}}},
		{"second reviewer", func() (bool, error) { return s.Assign(ctx, "2024-AAAA-AAAA", "E-0077") }, true,
			map[string][]string{"E-0042": {"2024-AAAA-AAAA", "2024-BBBB-BBBB"}, "E-0077": {"2024-AAAA-AAAA"}}},
		{"unassign", func() (bool, error) { return s.Unassign(ctx, "2024-AAAA-AAAA", "E-0042") }, true,
			map[string][]string{"E-0042": {"2024-BBBB-BBBB"}, "E-0077": {"2024-AAAA-AAAA"}}},
		{"unassign again", func() (bool, error) { return s.Unassign(ctx, "2024-AAAA-AAAA", "E-0042") }, false,
			map[string][]string{"E-0042": {"2024-BBBB-BBBB"}, "E-0077": {"2024-AAAA-AAAA"}}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, err := st.do()
			if err != nil || got != st.wantNew {
				t.Fatalf("got %v %v, want %v", got, err, st.wantNew)
			}
			all, err := s.Assignments(ctx)
			if err != nil || !reflect.DeepEqual(all, st.assigned) {
				t.Fatalf("assignments %v %v, want %v", all, err, st.assigned)
			}
			for rev, codes := range st.assigned {
				to, err := s.AssignedTo(ctx, rev)
				if err != nil || !reflect.DeepEqual(to, codes) {
					t.Errorf("AssignedTo(%s) = %v %v, want %v", rev, to, err, codes)
				}
				for _, anon := range []string{"2024-AAAA-AAAA", "2024-BBBB-BBBB"} {
					want := false
					for _, c := range codes {
						want = want || c == anon
					}
					if ok, err := s.IsAssigned(ctx, anon, rev); err != nil || ok != want {
						t.Errorf("IsAssigned(%s, %s) = %v %v, want %v", anon, rev, ok, err, want)
					}
				}
			}
		})
	}
	if revs, err := s.ReviewersOf(ctx, "2024-AAAA-AAAA"); err != nil || !reflect.DeepEqual(revs, []string{"E-0077"}) {
		t.Errorf("ReviewersOf = %v %v", revs, err)
	}
	if to, err := s.AssignedTo(ctx, "E-9999"); err != nil || len(to) != 0 {
		t.Errorf("a reviewer never assigned has %v %v", to, err)
	}
}

func TestAnonIndexAndApplicants(t *testing.T) {
	ctx := context.Background()
	s := newAssignStore(t)
	if _, err := s.ResolveAnon(ctx, "2024", "2024-AAAA-AAAA"); !errors.Is(err, state.ErrUnknownAnon) {
		t.Fatalf("unindexed code: %v", err)
	}
	if err := s.IndexAnon(ctx, "2024", map[string]string{"2024-AAAA-AAAA": "A1", "2024-BBBB-BBBB": "A2"}); err != nil {
		t.Fatal(err)
	}
	// The first index of a code wins.
	if err := s.IndexAnon(ctx, "2024", map[string]string{"2024-AAAA-AAAA": "A9"}); err != nil {
		t.Fatal(err)
	}
	if a, err := s.ResolveAnon(ctx, "2024", "2024-AAAA-AAAA"); err != nil || a != "A1" {
		t.Errorf("resolved %q %v", a, err)
	}
	if _, err := s.ResolveAnon(ctx, "2025", "2024-AAAA-AAAA"); !errors.Is(err, state.ErrUnknownAnon) {
		t.Errorf("another campaign resolved: %v", err)
	}

	const window = 48 * time.Hour
	for i := range 1200 { // more than one SCAN page and one pipeline batch
		if _, err := s.Record(ctx, "2024", fmt.Sprintf("A%04d", i), fmt.Sprintf("A%04d-r1", i), pipeline.Accepted, window, state.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	s.Record(ctx, "2024", "A0007", "A0007-r2", pipeline.Refused, window, state.Meta{})
	s.Record(ctx, "2024", "B1", "B1-r1", pipeline.Rejected, window, state.Meta{})
	s.Record(ctx, "2025", "C1", "C1-r1", pipeline.Rejected, window, state.Meta{})
	ids, err := s.Applicants(ctx, "2024")
	if err != nil || len(ids) != 1201 || ids[0] != "A0000" || ids[1200] != "B1" {
		t.Fatalf("%d applicants (%v)", len(ids), err)
	}
}

func TestCopyClaims(t *testing.T) {
	ctx := context.Background()
	s := newAssignStore(t)
	if _, ok, err := s.CopyOf(ctx, "2024-AAAA-AAAA", "E-0042"); ok || err != nil {
		t.Fatalf("copy before any: %v %v", ok, err)
	}
	first := time.Date(2024, 10, 3, 9, 15, 0, 0, time.UTC)
	// Ten first downloads at once: one time wins and all see it.
	var wg sync.WaitGroup
	got := make([]time.Time, 10)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.ClaimCopy(ctx, "2024-AAAA-AAAA", "E-0042", "sha-1", first.Add(time.Duration(i)*time.Minute))
			if err != nil {
				t.Error(err)
			}
			got[i] = c.At
		}()
	}
	wg.Wait()
	for _, at := range got[1:] {
		if !at.Equal(got[0]) {
			t.Fatalf("claims disagree: %v", got)
		}
	}
	c := state.Copy{Anon: "2024-AAAA-AAAA", Reviewer: "E-0042", PacketSHA256: "sha-1", At: got[0], SHA256: "copy-sha", FileID: "abcd"}
	if err := s.CopyStored(ctx, c); err != nil {
		t.Fatal(err)
	}
	if rec, ok, err := s.CopyOf(ctx, c.Anon, c.Reviewer); !ok || err != nil || rec != c {
		t.Errorf("CopyOf = %+v %v %v, want %+v", rec, ok, err, c)
	}
	// Claiming the same version later keeps the record; a new packet
	// version starts afresh.
	if rec, err := s.ClaimCopy(ctx, c.Anon, c.Reviewer, "sha-1", first.Add(time.Hour)); err != nil || rec != c {
		t.Errorf("same version: %+v %v", rec, err)
	}
	later := first.Add(24 * time.Hour)
	rec, err := s.ClaimCopy(ctx, c.Anon, c.Reviewer, "sha-2", later)
	if err != nil || !rec.At.Equal(later) || rec.SHA256 != "" || rec.PacketSHA256 != "sha-2" {
		t.Errorf("new version: %+v %v", rec, err)
	}
}
