package state_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/blindpack/blindpack/state"
)

func TestAccounts(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	a := state.Account{Name: "wang.li", Role: state.RoleAdministrator, PasswordHash: "$argon2id$x", MustChangePassword: true}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccount(ctx, a); !errors.Is(err, state.ErrAccountExists) {
		t.Fatalf("second create: %v", err)
	}
	if err := s.CreateAccount(ctx, state.Account{Name: "x", Role: "upload_service"}); err == nil {
		t.Error("an account with another role was created")
	}
	if _, err := s.Account(ctx, "nobody"); !errors.Is(err, state.ErrNoAccount) {
		t.Errorf("unknown account: %v", err)
	}
	if _, err := s.UpdateAccount(ctx, "nobody", state.AccountChange{}); !errors.Is(err, state.ErrNoAccount) {
		t.Errorf("update of an unknown account: %v", err)
	}
	got, err := s.Account(ctx, "wang.li")
	if err != nil || got.Role != state.RoleAdministrator || !got.MustChangePassword || got.Epoch != 1 || got.Disabled {
		t.Fatalf("account %+v %v", got, err)
	}
	if err := s.CreateAccount(ctx, state.Account{Name: "E-0042", Role: state.RoleReviewer}); err != nil {
		t.Fatal(err)
	}
	all, err := s.Accounts(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "E-0042" || all[1].Name != "wang.li" {
		t.Fatalf("accounts %+v %v", all, err)
	}

	// Two sessions of wang.li and one of E-0042; disabling wang.li ends
	// both of theirs and leaves the other.
	now := time.Now()
	open := func(id, account string) {
		t.Helper()
		err := s.OpenSession(ctx, id, state.Session{Account: account, Role: state.RoleAdministrator, Epoch: 1, CSRF: "c",
			Created: now, Expires: now.Add(time.Hour), Idle: 10 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
	}
	open("s1", "wang.li")
	open("s2", "wang.li")
	open("s3", "E-0042")
	yes := true
	n, err := s.UpdateAccount(ctx, "wang.li", state.AccountChange{Disabled: &yes, EndSessions: true})
	if err != nil || n != 2 {
		t.Fatalf("disable: %d sessions ended, %v", n, err)
	}
	for _, id := range []string{"s1", "s2"} {
		if _, err := s.Session(ctx, id); !errors.Is(err, state.ErrNoSession) {
			t.Errorf("session %s of a disabled account: %v", id, err)
		}
	}
	if sess, err := s.Session(ctx, "s3"); err != nil || sess.Account != "E-0042" {
		t.Errorf("another account's session: %+v %v", sess, err)
	}
	got, _ = s.Account(ctx, "wang.li")
	if !got.Disabled || got.Epoch != 2 {
		t.Errorf("after disable: %+v", got)
	}

	// A code's time step is good once, and only for the secret it was
	// checked against.
	secret := "sealed-1"
	if _, err := s.UpdateAccount(ctx, "E-0042", state.AccountChange{TOTPSecret: &secret}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		secret string
		step   int64
		want   bool
	}{{"sealed-1", 100, true}, {"sealed-1", 100, false}, {"sealed-1", 99, false}, {"other", 101, false}, {"sealed-1", 101, true}} {
		if ok, err := s.UseTOTPStep(ctx, "E-0042", tc.secret, tc.step); err != nil || ok != tc.want {
			t.Errorf("UseTOTPStep(%s, %d) = %v, %v; want %v", tc.secret, tc.step, ok, err, tc.want)
		}
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	now := time.Now()
	sess := state.Session{Account: "wang.li", Role: state.RoleAdministrator, Epoch: 3, Stage: "totp", CSRF: "c-1", Next: "/console/",
		Created: now, Expires: now.Add(time.Hour), Idle: 400 * time.Millisecond}
	if err := s.OpenSession(ctx, "k1", sess); err != nil {
		t.Fatal(err)
	}
	got, err := s.Session(ctx, "k1")
	if err != nil || got.Account != "wang.li" || got.Stage != "totp" || got.Epoch != 3 || got.Next != "/console/" || got.Idle != sess.Idle {
		t.Fatalf("session %+v %v", got, err)
	}
	if err := s.OpenSession(ctx, "k2", state.Session{Account: "x", CSRF: "c", Created: now, Expires: time.Now().Add(300 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	if err := s.AdvanceSession(ctx, "k1", "", ""); err != nil {
		t.Fatal(err)
	}
	// Used within its idle time, it lives on past it.
	for range 3 {
		time.Sleep(200 * time.Millisecond)
		got, err := s.Session(ctx, "k1")
		if err != nil {
			t.Fatalf("a session in use idled out: %v", err)
		}
		if got.Stage != "" {
			t.Fatalf("stage %q after advancing", got.Stage)
		}
		if err := s.TouchSession(ctx, "k1", got); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.OpenSession(ctx, "k3", sess); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		id    string
		after func()
	}{
		{"never opened", "nope", func() {}},
		{"closed", "k3", func() { s.CloseSession(ctx, "k3", "wang.li") }},
		{"expired", "k2", func() {}},
		{"idle", "k1", func() { time.Sleep(500 * time.Millisecond) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.after()
			if _, err := s.Session(ctx, tc.id); !errors.Is(err, state.ErrNoSession) {
				t.Errorf("err %v, want ErrNoSession", err)
			}
		})
	}
	if err := s.OpenSession(ctx, "k4", state.Session{Account: "x", Expires: time.Now().Add(-time.Second)}); err == nil {
		t.Error("an expired session was opened")
	}

	first, err := s.FirstIn(ctx, "viewed:a", time.Second)
	again, _ := s.FirstIn(ctx, "viewed:a", time.Second)
	other, _ := s.FirstIn(ctx, "viewed:b", time.Second)
	if err != nil || !first || again || !other {
		t.Errorf("FirstIn: %v %v %v %v", first, again, other, err)
	}
}

func TestSignInThrottle(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	th := state.Throttle{Limit: 3, Window: time.Minute, LockFor: 400 * time.Millisecond}
	for i := 1; i <= 3; i++ {
		d, err := s.FailSignIn(ctx, "account:a", th)
		if err != nil || (i < 3) != (d == 0) {
			t.Fatalf("failure %d: locked %v, %v", i, d, err)
		}
	}
	if d, err := s.SignInLocked(ctx, "account:a"); err != nil || d <= 0 || d > th.LockFor {
		t.Fatalf("locked for %v, %v", d, err)
	}
	if d, _ := s.SignInLocked(ctx, "account:b"); d != 0 {
		t.Errorf("another subject locked for %v", d)
	}
	time.Sleep(500 * time.Millisecond)
	if d, _ := s.SignInLocked(ctx, "account:a"); d != 0 {
		t.Errorf("still locked after the lock time: %v", d)
	}
	// The count started afresh with the lock: one failure does not lock.
	if d, _ := s.FailSignIn(ctx, "account:a", th); d != 0 {
		t.Errorf("locked again by one failure")
	}
	s.FailSignIn(ctx, "account:a", th)
	if err := s.ClearSignIn(ctx, "account:a", true); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.FailSignIn(ctx, "account:a", th); d != 0 {
		t.Errorf("failures survived ClearSignIn")
	}
	if _, err := s.FailSignIn(ctx, "x", state.Throttle{}); err == nil {
		t.Error("a zero throttle was accepted")
	}
	if err := s.SecurityAudit(ctx, state.Event{Actor: "person:a", Action: "signin_failed", From: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	if ev, err := s.SecurityTrail(ctx, 5); err != nil || len(ev) != 1 || ev[0].Action != "signin_failed" {
		t.Errorf("security trail %+v %v", ev, err)
	}
}

func TestReviewMarks(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t)
	s.Assign(ctx, "2024-AAAA-AAAA", "E-0042")
	c.Advance(time.Hour)
	s.Assign(ctx, "2024-BBBB-BBBB", "E-0042")
	s.Assign(ctx, "2024-AAAA-AAAA", "E-0042") // again: the first date stays
	at, err := s.AssignedAt(ctx, "E-0042")
	if err != nil || len(at) != 2 || at["2024-BBBB-BBBB"].Sub(at["2024-AAAA-AAAA"]) != time.Hour {
		t.Fatalf("assigned at %v %v", at, err)
	}
	if ok, err := s.MarkReviewed(ctx, "2024-AAAA-AAAA", "E-0042", true); err != nil || !ok {
		t.Fatalf("mark: %v %v", ok, err)
	}
	if ok, _ := s.MarkReviewed(ctx, "2024-AAAA-AAAA", "E-0042", true); ok {
		t.Error("marking twice changed something")
	}
	if done, _ := s.Reviewed(ctx, "E-0042"); len(done) != 1 || done["2024-AAAA-AAAA"].IsZero() {
		t.Errorf("reviewed %v", done)
	}
	if done, _ := s.Reviewed(ctx, "E-0077"); len(done) != 0 {
		t.Errorf("another reviewer's marks %v", done)
	}
	s.Unassign(ctx, "2024-AAAA-AAAA", "E-0042")
	at, _ = s.AssignedAt(ctx, "E-0042")
	done, _ := s.Reviewed(ctx, "E-0042")
	if len(at) != 1 || len(done) != 0 {
		t.Errorf("after unassigning: assigned %v, reviewed %v", at, done)
	}
}
