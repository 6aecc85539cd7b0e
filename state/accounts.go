package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// People — administrators and reviewers — have accounts here, beside the
// sessions and audit trails that depend on them, so that disabling an
// account or resetting its password takes effect on every server at once
// and without a restart. The store keeps what it is given: the password
// is a PHC-encoded argon2id hash and the TOTP secret is sealed by package
// people before it arrives.

// Role is what an account may do in the browser. The same words name the
// API's bearer-token roles (package api), which add the upload service.
type Role string

// Roles of people.
const (
	// RoleAdministrator uses the administrators' console.
	RoleAdministrator Role = "administrator"
	// RoleReviewer uses the reviewers' portal; the account's name is the
	// reviewer's code that assignments use (e.g. E-0042).
	RoleReviewer Role = "reviewer"
)

// Valid reports whether r is a role of people.
func (r Role) Valid() bool { return r == RoleAdministrator || r == RoleReviewer }

// Errors of accounts.
var (
	// ErrNoAccount is returned for a name no account has.
	ErrNoAccount = errors.New("state: no such account")
	// ErrAccountExists is returned by CreateAccount for a name taken.
	ErrAccountExists = errors.New("state: account exists")
)

// Account is one person's account.
type Account struct {
	// Name is the user name: an administrator's (wang.li) or a reviewer's
	// code (E-0042).
	Name string
	Role Role
	// Disabled accounts cannot sign in, and their sessions are gone.
	Disabled bool
	// PasswordHash is the PHC string of the password (argon2id).
	PasswordHash string
	// MustChangePassword is set for a password an administrator handed
	// out (add, reset-password): the person chooses their own at sign-in.
	MustChangePassword bool
	// TOTPSecret is the sealed second-factor secret; "" until the person
	// enrols (and again after reset-totp).
	TOTPSecret string
	// TOTPStep is the last time step whose code was accepted: a code is
	// good once.
	TOTPStep int64
	// Epoch grows with every change that must end the account's sessions
	// (disable, password or second-factor reset); a session remembers the
	// epoch it was opened in.
	Epoch            int64
	Created, Updated time.Time
}

func (s *Store) accountKey(name string) string { return s.prefix + "account:{" + name + "}" }
func (s *Store) accountsKey() string           { return s.prefix + "accounts" }

// CreateAccount stores a new account; a taken name is ErrAccountExists.
func (s *Store) CreateAccount(ctx context.Context, a Account) error {
	if a.Name == "" || !a.Role.Valid() {
		return errors.New("state: create account: a name and a valid role are required")
	}
	now := s.now().UTC()
	key := s.accountKey(a.Name)
	ok, err := s.rdb.HSetNX(ctx, key, "role", string(a.Role)).Result()
	if err != nil {
		return fmt.Errorf("state: create account: %w", err)
	}
	if !ok {
		return ErrAccountExists
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, "password", a.PasswordHash, "must_change", boolField(a.MustChangePassword),
			"totp", a.TOTPSecret, "totp_step", a.TOTPStep, "disabled", boolField(a.Disabled), "epoch", 1,
			"created", now.Unix(), "updated", now.Unix())
		p.SAdd(ctx, s.accountsKey(), a.Name)
		return nil
	})
	if err != nil {
		return fmt.Errorf("state: create account: %w", err)
	}
	return nil
}

func boolField(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Account returns the account named name, or ErrNoAccount.
func (s *Store) Account(ctx context.Context, name string) (Account, error) {
	h, err := s.rdb.HGetAll(ctx, s.accountKey(name)).Result()
	if err != nil {
		return Account{}, fmt.Errorf("state: account: %w", err)
	}
	if h["role"] == "" {
		return Account{}, ErrNoAccount
	}
	num := func(k string) int64 { n, _ := strconv.ParseInt(h[k], 10, 64); return n }
	return Account{Name: name, Role: Role(h["role"]), Disabled: h["disabled"] == "1", PasswordHash: h["password"],
		MustChangePassword: h["must_change"] == "1", TOTPSecret: h["totp"], TOTPStep: num("totp_step"), Epoch: num("epoch"),
		Created: time.Unix(num("created"), 0).UTC(), Updated: time.Unix(num("updated"), 0).UTC()}, nil
}

// Accounts lists every account, by name.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	names, err := s.rdb.SMembers(ctx, s.accountsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("state: accounts: %w", err)
	}
	slices.Sort(names)
	out := make([]Account, 0, len(names))
	for _, n := range names {
		a, err := s.Account(ctx, n)
		if errors.Is(err, ErrNoAccount) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// AccountChange is one change to an account; nil fields are left alone.
type AccountChange struct {
	PasswordHash       *string
	MustChangePassword *bool
	TOTPSecret         *string
	Disabled           *bool
	// EndSessions bumps the epoch and closes every session of the
	// account, at once.
	EndSessions bool
}

// UpdateAccount applies ch to the account named name, and reports how
// many sessions it ended.
func (s *Store) UpdateAccount(ctx context.Context, name string, ch AccountChange) (int, error) {
	key := s.accountKey(name)
	if n, err := s.rdb.Exists(ctx, key).Result(); err != nil {
		return 0, fmt.Errorf("state: update account: %w", err)
	} else if n == 0 {
		return 0, ErrNoAccount
	}
	fields := []any{"updated", s.now().Unix()}
	if ch.PasswordHash != nil {
		fields = append(fields, "password", *ch.PasswordHash)
	}
	if ch.MustChangePassword != nil {
		fields = append(fields, "must_change", boolField(*ch.MustChangePassword))
	}
	if ch.TOTPSecret != nil {
		// A new secret (or none) starts its replay guard afresh.
		fields = append(fields, "totp", *ch.TOTPSecret, "totp_step", 0)
	}
	if ch.Disabled != nil {
		fields = append(fields, "disabled", boolField(*ch.Disabled))
	}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, fields...)
		if ch.EndSessions {
			p.HIncrBy(ctx, key, "epoch", 1)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("state: update account: %w", err)
	}
	if !ch.EndSessions {
		return 0, nil
	}
	return s.CloseSessionsOf(ctx, name)
}

// useTOTPStep accepts a time step once: only a step later than the last
// one accepted.
var useTOTPStep = redis.NewScript(`
local last = tonumber(redis.call('HGET', KEYS[1], 'totp_step') or '0') or 0
if redis.call('HGET', KEYS[1], 'totp') ~= ARGV[2] then return 0 end
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('HSET', KEYS[1], 'totp_step', ARGV[1])
return 1
`)

// UseTOTPStep records that a code of time step step was accepted for the
// account's current secret (sealed as stored), and reports false when that
// step or a later one was already used — a code seen once (by a shoulder
// surfer, a phishing proxy) does not work a second time.
func (s *Store) UseTOTPStep(ctx context.Context, name, secret string, step int64) (bool, error) {
	n, err := useTOTPStep.Run(ctx, s.rdb, []string{s.accountKey(name)}, step, secret).Int()
	if err != nil {
		return false, fmt.Errorf("state: use totp step: %w", err)
	}
	return n == 1, nil
}

// failLogin counts a failure under KEYS[1] within a window and, at the
// limit, locks KEYS[2] for a while and starts counting afresh. It returns
// the lock's remaining milliseconds (0: not locked).
var failLogin = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return tonumber(ARGV[3])
end
return 0
`)

// Throttle is one limit on sign-in failures: Limit failures within Window
// lock the subject (an account, an address) for LockFor.
type Throttle struct {
	Limit           int
	Window, LockFor time.Duration
}

func (s *Store) failKey(subject string) string { return s.prefix + "signin:fail:" + subject }
func (s *Store) lockKey(subject string) string { return s.prefix + "signin:lock:" + subject }

// FailSignIn counts a failed sign-in of subject ("account:wang.li",
// "addr:203.0.113.5") and returns how long it is now locked (0 when the
// limit was not reached by this failure).
func (s *Store) FailSignIn(ctx context.Context, subject string, t Throttle) (time.Duration, error) {
	if t.Limit < 1 || t.Window <= 0 || t.LockFor <= 0 {
		return 0, errors.New("state: fail sign-in: the throttle needs a limit, a window and a lock time")
	}
	ms, err := failLogin.Run(ctx, s.rdb, []string{s.failKey(subject), s.lockKey(subject)},
		t.Window.Milliseconds(), t.Limit, t.LockFor.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("state: fail sign-in: %w", err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// SignInLocked returns how much longer subject is locked (0: not locked).
func (s *Store) SignInLocked(ctx context.Context, subject string) (time.Duration, error) {
	d, err := s.rdb.PTTL(ctx, s.lockKey(subject)).Result()
	if err != nil {
		return 0, fmt.Errorf("state: sign-in locked: %w", err)
	}
	if d < 0 {
		return 0, nil
	}
	return d, nil
}

// ClearSignIn forgets subject's failures and lifts its lock (a successful
// sign-in, or an administrator's unlock).
func (s *Store) ClearSignIn(ctx context.Context, subject string, lock bool) error {
	keys := []string{s.failKey(subject)}
	if lock {
		keys = append(keys, s.lockKey(subject))
	}
	if err := s.rdb.Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("state: clear sign-in: %w", err)
	}
	return nil
}

func (s *Store) securityKey() string { return s.prefix + "audit:security" }

// SecurityAudit appends an event to the security trail: sign-ins and
// their failures, lock-outs, account changes, refused downloads of
// packets nobody has. Events about an application go to its own trail.
func (s *Store) SecurityAudit(ctx context.Context, ev Event) error {
	_, err := s.appendEvent(ctx, s.securityKey(), ev)
	return err
}

// SecurityTrail returns up to n events of the security trail, newest
// first (all when n <= 0).
func (s *Store) SecurityTrail(ctx context.Context, n int) ([]Event, error) {
	return s.readEvents(ctx, s.securityKey(), n)
}
