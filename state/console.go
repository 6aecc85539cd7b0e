package state

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sessions of the administrators' console live here, beside the audit
// trail they feed, rather than in a signed cookie: a session that logs
// out or expires is gone for every server at once, nothing in the browser
// can be replayed after that, and no signing key has to be kept and
// rotated. Sessions are stored under a digest of their id (the console
// hashes the cookie value before asking), so a copy of Redis holds no
// cookie that would work.

// ErrNoSession is returned by Session for an id that names no live
// session: never opened, closed, or expired.
var ErrNoSession = errors.New("state: no such session")

// ConsoleSession is one administrator's signed-in browser session.
type ConsoleSession struct {
	// TokenID is the SHA-256 (hex) of the bearer token the session was
	// opened with — never the token — so that the token's removal from
	// the tokens file ends the session too.
	TokenID string
	// Role and Subject are the token's, when the session was opened.
	Role, Subject string
	// CSRF is the session's anti-forgery token, which every form that
	// changes something must carry.
	CSRF string
	// Created and Expires bound the session (Redis also expires the key).
	Created, Expires time.Time
}

func (s *Store) sessionKey(id string) string { return s.prefix + "console:session:" + id }

// OpenSession stores a session under id until sess.Expires.
func (s *Store) OpenSession(ctx context.Context, id string, sess ConsoleSession) error {
	ttl := time.Until(sess.Expires)
	if id == "" || ttl <= 0 {
		return errors.New("state: open session: no id, or already expired")
	}
	key := s.sessionKey(id)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, "token", sess.TokenID, "role", sess.Role, "subject", sess.Subject, "csrf", sess.CSRF,
			"created", sess.Created.Unix(), "expires", sess.Expires.UnixMilli())
		p.PExpire(ctx, key, ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("state: open session: %w", err)
	}
	return nil
}

// Session returns the live session stored under id, or ErrNoSession.
func (s *Store) Session(ctx context.Context, id string) (ConsoleSession, error) {
	h, err := s.rdb.HGetAll(ctx, s.sessionKey(id)).Result()
	if err != nil {
		return ConsoleSession{}, fmt.Errorf("state: session: %w", err)
	}
	exp, _ := strconv.ParseInt(h["expires"], 10, 64)
	created, _ := strconv.ParseInt(h["created"], 10, 64)
	// Redis expires the key; the stored expiry is checked as well, in case
	// a key outlives its TTL (a restored snapshot).
	if h["token"] == "" || h["csrf"] == "" || time.Now().After(time.UnixMilli(exp)) {
		return ConsoleSession{}, ErrNoSession
	}
	return ConsoleSession{TokenID: h["token"], Role: h["role"], Subject: h["subject"], CSRF: h["csrf"],
		Created: time.Unix(created, 0), Expires: time.UnixMilli(exp)}, nil
}

// CloseSession ends a session (logout). Closing one that is gone is not
// an error.
func (s *Store) CloseSession(ctx context.Context, id string) error {
	if err := s.rdb.Del(ctx, s.sessionKey(id)).Err(); err != nil {
		return fmt.Errorf("state: close session: %w", err)
	}
	return nil
}

// FirstIn reports whether key was not marked within the last ttl, and
// marks it: one atomic SET NX, so that of many servers answering at once
// exactly one sees true. The console uses it to audit a burst of views
// (every thumbnail of a page) once.
func (s *Store) FirstIn(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.prefix+"console:once:"+key, 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("state: first in: %w", err)
	}
	return ok, nil
}
