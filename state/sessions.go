package state

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sessions of people's browsers live here, beside the accounts and audit
// trails they depend on, rather than in a signed cookie: a session that
// signs out, idles or expires is gone for every server at once, disabling
// an account ends its sessions on the spot, nothing in the browser can be
// replayed after that, and no signing key has to be kept and rotated.
// Sessions are stored under a digest of their id (package people hashes
// the cookie value before asking), so a copy of Redis holds no cookie
// that would work. Sessions run on the real clock, whatever clock the
// store was given for campaigns.

// ErrNoSession is returned by Session for an id that names no live
// session: never opened, closed, idle too long, or expired.
var ErrNoSession = errors.New("state: no such session")

// Session is one person's browser session.
type Session struct {
	// Account and Role are the account's when the session was opened;
	// Epoch is the account's epoch then, so that a later reset or
	// disable ends the session even if deleting it failed.
	Account string
	Role    Role
	Epoch   int64
	// Stage is what is left to do before the person is signed in: ""
	// (nothing: signed in), "password" (choose a password), "enrol" (set
	// up the second factor) or "totp" (type a code).
	Stage string
	// Pending is the sealed second-factor secret being enrolled.
	Pending string
	// Next is where to go once signed in (a path on this site).
	Next string
	// CSRF is the session's anti-forgery token, which every form that
	// changes something must carry.
	CSRF string
	// Created and Expires bound the session; Idle is how long it may go
	// unused; Seen is when it was last used.
	Created, Expires, Seen time.Time
	Idle                   time.Duration
}

func (s *Store) sessionKey(id string) string      { return s.prefix + "session:" + id }
func (s *Store) sessionsOfKey(name string) string { return s.prefix + "sessions:{" + name + "}" }

// ttl is how long Redis keeps a session from now: until it idles out or
// expires, whichever is first.
func (sess Session) ttl(now time.Time) time.Duration {
	ttl := sess.Expires.Sub(now)
	if sess.Idle > 0 && sess.Idle < ttl {
		ttl = sess.Idle
	}
	return ttl
}

// OpenSession stores a session under id.
func (s *Store) OpenSession(ctx context.Context, id string, sess Session) error {
	now := time.Now()
	if sess.Seen.IsZero() {
		sess.Seen = now
	}
	ttl := sess.ttl(now)
	if id == "" || sess.Account == "" || ttl <= 0 {
		return errors.New("state: open session: no id, no account, or already expired")
	}
	key := s.sessionKey(id)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, key)
		p.HSet(ctx, key, "account", sess.Account, "role", string(sess.Role), "epoch", sess.Epoch, "stage", sess.Stage,
			"pending", sess.Pending, "next", sess.Next, "csrf", sess.CSRF, "created", sess.Created.UnixMilli(),
			"expires", sess.Expires.UnixMilli(), "seen", sess.Seen.UnixMilli(), "idle", sess.Idle.Milliseconds())
		p.PExpire(ctx, key, ttl)
		p.SAdd(ctx, s.sessionsOfKey(sess.Account), id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("state: open session: %w", err)
	}
	return nil
}

// Session returns the live session stored under id, or ErrNoSession.
func (s *Store) Session(ctx context.Context, id string) (Session, error) {
	h, err := s.rdb.HGetAll(ctx, s.sessionKey(id)).Result()
	if err != nil {
		return Session{}, fmt.Errorf("state: session: %w", err)
	}
	num := func(k string) int64 { n, _ := strconv.ParseInt(h[k], 10, 64); return n }
	sess := Session{Account: h["account"], Role: Role(h["role"]), Epoch: num("epoch"), Stage: h["stage"], Pending: h["pending"],
		Next: h["next"], CSRF: h["csrf"], Created: time.UnixMilli(num("created")), Expires: time.UnixMilli(num("expires")),
		Seen: time.UnixMilli(num("seen")), Idle: time.Duration(num("idle")) * time.Millisecond}
	// Redis expires the key; the stored times are checked as well, in
	// case a key outlives its TTL (a restored snapshot).
	now := time.Now()
	if sess.Account == "" || sess.CSRF == "" || now.After(sess.Expires) || sess.Idle > 0 && now.Sub(sess.Seen) > sess.Idle {
		return Session{}, ErrNoSession
	}
	return sess, nil
}

// TouchSession marks the session used now, which restarts its idle time.
func (s *Store) TouchSession(ctx context.Context, id string, sess Session) error {
	now := time.Now()
	sess.Seen = now
	ttl := sess.ttl(now)
	if ttl <= 0 {
		return s.CloseSession(ctx, id, sess.Account)
	}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.sessionKey(id), "seen", now.UnixMilli())
		p.PExpire(ctx, s.sessionKey(id), ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("state: touch session: %w", err)
	}
	return nil
}

// AdvanceSession moves a session to its next stage (and enrolment secret).
func (s *Store) AdvanceSession(ctx context.Context, id, stage, pending string) error {
	if err := s.rdb.HSet(ctx, s.sessionKey(id), "stage", stage, "pending", pending).Err(); err != nil {
		return fmt.Errorf("state: advance session: %w", err)
	}
	return nil
}

// CloseSession ends a session (sign-out). Closing one that is gone is not
// an error.
func (s *Store) CloseSession(ctx context.Context, id, account string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.sessionKey(id))
		if account != "" {
			p.SRem(ctx, s.sessionsOfKey(account), id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("state: close session: %w", err)
	}
	return nil
}

// CloseSessionsOf ends every session of an account and reports how many
// were live.
func (s *Store) CloseSessionsOf(ctx context.Context, account string) (int, error) {
	ids, err := s.rdb.SMembers(ctx, s.sessionsOfKey(account)).Result()
	if err != nil {
		return 0, fmt.Errorf("state: close sessions: %w", err)
	}
	keys := []string{s.sessionsOfKey(account)}
	for _, id := range ids {
		keys = append(keys, s.sessionKey(id))
	}
	// DEL counts the keys it removed: the set itself plus each live
	// session.
	n, err := s.rdb.Del(ctx, keys...).Result()
	if err != nil {
		return 0, fmt.Errorf("state: close sessions: %w", err)
	}
	if len(ids) > 0 {
		n--
	}
	return int(n), nil
}
