package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/blindpack/blindpack/api/people"
	"github.com/blindpack/blindpack/state"
)

const usersUsage = "usage: blindpack users list | add NAME --role administrator|reviewer --by ADMIN | " +
	"disable|enable|reset-password|reset-totp|unlock NAME --by ADMIN | audit [-n N]"

// runUsers is `blindpack users`: the accounts of administrators and
// reviewers, kept in Redis. Changes take effect at once on every server;
// each is audited in the security trail under --by.
func runUsers(ctx context.Context, args []string) error {
	fs := newFlagSet("users")
	var s services
	s.register(fs)
	role := fs.String("role", "", "role of a new account: administrator or reviewer (a reviewer's name is their reviewer code, e.g. E-0042)")
	by := fs.String("by", "", "the administrator making the change (required for changes; goes into the audit trail)")
	n := fs.Int("n", 50, "how many audit events to show")
	if err := parse(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	st, closeState := s.state(time.Now)
	defer closeState()
	acc := &people.Accounts{State: st}
	cmd, name := fs.Arg(0), fs.Arg(1)
	needName := map[string]bool{"add": true, "disable": true, "enable": true, "reset-password": true, "reset-totp": true, "unlock": true}
	switch {
	case cmd == "list" && fs.NArg() == 1:
		return listUsers(ctx, st, acc)
	case cmd == "audit" && fs.NArg() == 1:
		events, err := st.SecurityTrail(ctx, *n)
		if err != nil {
			return err
		}
		for _, ev := range events {
			fmt.Printf("%s  %-20s %-28s %s %s\n", ev.At.UTC().Format(time.RFC3339), ev.Action, ev.Actor, ev.Detail, ev.From)
		}
		return nil
	case !needName[cmd] || fs.NArg() != 2:
		return exitError{code: 2, err: errors.New(usersUsage)}
	case *by == "":
		return exitError{code: 2, err: errors.New("users: --by ADMIN is required: every change to an account is attributed")}
	}
	actor := "admin:" + *by
	switch cmd {
	case "add":
		pw, err := acc.Add(ctx, name, state.Role(*role), actor)
		if errors.Is(err, state.ErrAccountExists) {
			return fmt.Errorf("users: %s exists", name)
		} else if err != nil {
			return err
		}
		oneTime(name, pw)
	case "disable", "enable":
		n, err := acc.SetDisabled(ctx, name, cmd == "disable", actor)
		if err != nil {
			return err
		}
		fmt.Printf("%s %sd; %d session(s) ended\n", name, cmd, n)
	case "reset-password":
		pw, n, err := acc.ResetPassword(ctx, name, actor)
		if err != nil {
			return err
		}
		oneTime(name, pw)
		fmt.Fprintf(os.Stderr, "%d session(s) ended\n", n)
	case "reset-totp":
		n, err := acc.ResetTOTP(ctx, name, actor)
		if err != nil {
			return err
		}
		fmt.Printf("%s: second factor removed, %d session(s) ended; they set up a new one at their next sign-in\n", name, n)
	case "unlock":
		if err := acc.Unlock(ctx, name, actor); err != nil {
			return err
		}
		fmt.Printf("%s unlocked\n", name)
	}
	return nil
}

// oneTime prints a one-time password: the password alone on stdout, the
// explanation on stderr.
func oneTime(name, pw string) {
	fmt.Fprintf(os.Stderr, "one-time password for %s (give it to them; it is not stored anywhere; at first sign-in they choose their own and set up a second factor):\n", name)
	fmt.Println(pw)
}

func listUsers(ctx context.Context, st *state.Store, acc *people.Accounts) error {
	all, err := st.Accounts(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSTATUS\tSECOND FACTOR\tPASSWORD\tCREATED")
	for _, a := range all {
		status := "enabled"
		if a.Disabled {
			status = "disabled"
		} else if d, err := acc.Locked(ctx, a.Name); err == nil && d > 0 {
			status = fmt.Sprintf("locked %s", d.Round(time.Second))
		}
		totp, pw := "enrolled", "set"
		if a.TOTPSecret == "" {
			totp = "not yet"
		}
		if a.MustChangePassword {
			pw = "one-time"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, a.Role, status, totp, pw, people.Beijing(a.Created))
	}
	return tw.Flush()
}
