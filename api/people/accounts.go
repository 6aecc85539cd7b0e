package people

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/state"
)

// Accounts is what an administrator does to accounts (`blindpack users`):
// every change is audited in the security trail with who made it, and
// every change that must end sessions ends them at once.
type Accounts struct {
	State *state.Store
	// Argon2 are the hashing parameters of one-time passwords (default:
	// see Argon2).
	Argon2 Argon2
}

// ErrBadName is returned for a user name that cannot be used.
var ErrBadName = errors.New("people: user names are 1–64 letters, digits, '.', '_' or '-'")

func (a *Accounts) audit(ctx context.Context, by, action, name, detail string) error {
	d := "account " + name
	if detail != "" {
		d += ": " + detail
	}
	return a.State.SecurityAudit(ctx, state.Event{At: time.Now(), Actor: by, Action: action, Detail: d})
}

// oneTime makes a one-time password and its hash.
func (a *Accounts) oneTime() (string, string, error) {
	pw, err := RandomPassword()
	if err != nil {
		return "", "", err
	}
	hash, err := HashPassword(pw, a.Argon2)
	return pw, hash, err
}

// Add makes an account with a one-time password, which it returns: the
// person chooses their own and enrols a second factor at first sign-in.
// A reviewer's name is their reviewer code, as assignments name them.
func (a *Accounts) Add(ctx context.Context, name string, role state.Role, by string) (string, error) {
	if !pipeline.ValidID(name) || len(name) > 64 {
		return "", ErrBadName
	}
	if !role.Valid() {
		return "", fmt.Errorf("people: role %q: want administrator or reviewer", role)
	}
	pw, hash, err := a.oneTime()
	if err != nil {
		return "", err
	}
	if err := a.State.CreateAccount(ctx, state.Account{Name: name, Role: role, PasswordHash: hash, MustChangePassword: true}); err != nil {
		return "", err
	}
	return pw, a.audit(ctx, by, "account_added", name, "role "+string(role))
}

// SetDisabled disables (ending every session of the account at once) or
// enables an account.
func (a *Accounts) SetDisabled(ctx context.Context, name string, disabled bool, by string) (int, error) {
	n, err := a.State.UpdateAccount(ctx, name, state.AccountChange{Disabled: &disabled, EndSessions: disabled})
	if err != nil {
		return 0, err
	}
	action := "account_enabled"
	if disabled {
		action = "account_disabled"
	}
	return n, a.audit(ctx, by, action, name, fmt.Sprintf("%d session(s) ended", n))
}

// ResetPassword gives the account a new one-time password (returned),
// ends its sessions and lifts a lock-out.
func (a *Accounts) ResetPassword(ctx context.Context, name, by string) (string, int, error) {
	pw, hash, err := a.oneTime()
	if err != nil {
		return "", 0, err
	}
	yes := true
	n, err := a.State.UpdateAccount(ctx, name, state.AccountChange{PasswordHash: &hash, MustChangePassword: &yes, EndSessions: true})
	if err != nil {
		return "", 0, err
	}
	if err := a.State.ClearSignIn(ctx, "account:"+name, true); err != nil {
		return "", n, err
	}
	return pw, n, a.audit(ctx, by, "password_reset", name, fmt.Sprintf("%d session(s) ended", n))
}

// ResetTOTP removes the account's second factor (a lost phone): the
// person enrols a new one at their next sign-in. Its sessions end.
func (a *Accounts) ResetTOTP(ctx context.Context, name, by string) (int, error) {
	none := ""
	n, err := a.State.UpdateAccount(ctx, name, state.AccountChange{TOTPSecret: &none, EndSessions: true})
	if err != nil {
		return 0, err
	}
	return n, a.audit(ctx, by, "totp_reset", name, fmt.Sprintf("%d session(s) ended", n))
}

// Unlock lifts a lock-out of the account before its time.
func (a *Accounts) Unlock(ctx context.Context, name, by string) error {
	if _, err := a.State.Account(ctx, name); err != nil {
		return err
	}
	if err := a.State.ClearSignIn(ctx, "account:"+name, true); err != nil {
		return err
	}
	return a.audit(ctx, by, "account_unlocked", name, "")
}

// Locked reports how much longer the account is locked out.
func (a *Accounts) Locked(ctx context.Context, name string) (time.Duration, error) {
	return a.State.SignInLocked(ctx, "account:"+name)
}
