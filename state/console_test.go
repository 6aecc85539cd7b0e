package state_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/blindpack/blindpack/state"
)

func TestConsoleSessions(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	now := time.Now()
	sess := state.ConsoleSession{TokenID: "ab12", Role: "administrator", Subject: "wang.li", CSRF: "c-1", Created: now, Expires: now.Add(time.Hour)}
	if err := s.OpenSession(ctx, "k1", sess); err != nil {
		t.Fatal(err)
	}
	got, err := s.Session(ctx, "k1")
	if err != nil || got.TokenID != "ab12" || got.Subject != "wang.li" || got.CSRF != "c-1" || got.Expires.UnixMilli() != sess.Expires.UnixMilli() {
		t.Fatalf("session %+v %v", got, err)
	}
	short := sess
	short.Expires = time.Now().Add(300 * time.Millisecond)
	if err := s.OpenSession(ctx, "k2", short); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		id    string
		after func()
	}{
		{"never opened", "nope", func() {}},
		{"closed", "k1", func() { s.CloseSession(ctx, "k1") }},
		{"expired", "k2", func() { time.Sleep(500 * time.Millisecond) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.after()
			if _, err := s.Session(ctx, tc.id); !errors.Is(err, state.ErrNoSession) {
				t.Errorf("err %v, want ErrNoSession", err)
			}
		})
	}
	if err := s.OpenSession(ctx, "k3", state.ConsoleSession{Expires: time.Now().Add(-time.Second)}); err == nil {
		t.Error("an expired session was opened")
	}

	first, err := s.FirstIn(ctx, "viewed:a", time.Second)
	again, _ := s.FirstIn(ctx, "viewed:a", time.Second)
	other, _ := s.FirstIn(ctx, "viewed:b", time.Second)
	if err != nil || !first || again || !other {
		t.Errorf("FirstIn: %v %v %v %v", first, again, other, err)
	}
}
