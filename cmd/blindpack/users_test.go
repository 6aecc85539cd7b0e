package main

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/blindpack/blindpack/api/people"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/state"
)

// TestUsers runs `blindpack users` against the real Redis: add prints a
// one-time password that checks against the stored hash; disable,
// reset-password and reset-totp end sessions and are audited with --by;
// changes without --by are refused.
func TestUsers(t *testing.T) {
	addr := testenv.Redis(t)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: 6})
	defer rdb.Close()
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	st := state.New(rdb, state.Options{})
	users := func(args ...string) (string, error) {
		return captureStdout(t, func() error {
			return runUsers(ctx, append(args, "--redis-addr", addr, "--redis-db", "6"))
		})
	}
	out, err := users("add", "E-0042", "--role", "reviewer", "--by", "wang.li")
	if err != nil {
		t.Fatal(err)
	}
	pw := strings.TrimSpace(out)
	a, err := st.Account(ctx, "E-0042")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := people.CheckPassword(a.PasswordHash, pw); !ok || !a.MustChangePassword || a.Role != state.RoleReviewer || strings.Contains(a.PasswordHash, pw) {
		t.Fatalf("account %+v does not match the printed one-time password", a)
	}
	if _, err := users("add", "E-0042", "--role", "reviewer", "--by", "wang.li"); err == nil {
		t.Error("an account was added twice")
	}
	for _, args := range [][]string{
		{"add", "E/1", "--role", "reviewer", "--by", "wang.li"},
		{"add", "x", "--role", "upload_service", "--by", "wang.li"},
		{"disable", "E-0042"}, // no --by
		{"frobnicate", "E-0042", "--by", "wang.li"},
	} {
		if _, err := users(args...); err == nil {
			t.Errorf("users %v: no error", args)
		}
	}
	now := state.Session{Account: "E-0042", Role: state.RoleReviewer, Epoch: a.Epoch, CSRF: "c"}
	now.Created, now.Expires = a.Created, a.Created.AddDate(1, 0, 0)
	for _, cmd := range []string{"disable", "enable", "reset-password", "reset-totp", "unlock"} {
		if err := st.OpenSession(ctx, "s-"+cmd, now); err != nil {
			t.Fatal(err)
		}
		if _, err := users(cmd, "E-0042", "--by", "wang.li"); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		_, err := st.Session(ctx, "s-"+cmd)
		if ended := err != nil; ended != (cmd == "disable" || cmd == "reset-password" || cmd == "reset-totp") {
			t.Errorf("%s: session ended %v", cmd, ended)
		}
		st.CloseSession(ctx, "s-"+cmd, "E-0042")
	}
	list, err := users("list")
	if err != nil || !strings.Contains(list, "E-0042") || !strings.Contains(list, "reviewer") || !strings.Contains(list, "one-time") {
		t.Errorf("list: %v\n%s", err, list)
	}
	trail, err := users("audit")
	for _, action := range []string{"account_added", "account_disabled", "account_enabled", "password_reset", "totp_reset", "account_unlocked"} {
		if !strings.Contains(trail, action) {
			t.Errorf("audit lacks %s: %v\n%s", action, err, trail)
		}
	}
	if !strings.Contains(trail, "admin:wang.li") {
		t.Errorf("audit does not name who:\n%s", trail)
	}
}
