package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Event is one entry of an application's audit trail: who did what, when,
// to which submission, and why. It never holds the applicant's name or
// employer.
type Event struct {
	// ID is the entry's id in its stream (set when read or appended),
	// which orders entries and names one in a report.
	ID string
	At time.Time
	// Actor is who acted: "worker@host", "admin:zhang.wei", "scheduler",
	// "upload-service".
	Actor string
	// Action: submitted, accepted, rejected, refused, abandoned,
	// reprocess, override, downloaded, …
	Action     string
	Submission string
	// Detail says why: finding codes, an override's reason, a page.
	Detail string
	// From is where the actor acted from (an address), when known.
	From string
}

// Audit appends an event to an application's trail. The trail is a Redis
// stream: append-only, ordered, kept with the rest of Redis's data.
func (s *Store) Audit(ctx context.Context, campaign, applicant string, ev Event) error {
	_, err := s.appendEvent(ctx, s.auditKey(campaign, applicant), ev)
	return err
}

// CampaignAudit appends an event that concerns a campaign rather than one
// application — a spot-check draw — to the campaign's own trail, and
// returns its id.
func (s *Store) CampaignAudit(ctx context.Context, campaign string, ev Event) (string, error) {
	return s.appendEvent(ctx, s.campaignAuditKey(campaign), ev)
}

func (s *Store) campaignAuditKey(campaign string) string {
	return s.prefix + "audit:campaign:{" + campaign + "}"
}

func (s *Store) appendEvent(ctx context.Context, key string, ev Event) (string, error) {
	if ev.At.IsZero() {
		ev.At = s.now()
	}
	id, err := s.rdb.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: map[string]any{
		"at": ev.At.UTC().Format(time.RFC3339Nano), "actor": ev.Actor, "action": ev.Action,
		"submission": ev.Submission, "detail": ev.Detail, "from": ev.From,
	}}).Result()
	if err != nil {
		return "", fmt.Errorf("state: audit: %w", err)
	}
	return id, nil
}

// Trail returns up to n events of an application, newest first (all when
// n <= 0).
func (s *Store) Trail(ctx context.Context, campaign, applicant string, n int) ([]Event, error) {
	return s.readEvents(ctx, s.auditKey(campaign, applicant), n)
}

// CampaignTrail returns up to n events of a campaign's own trail, newest
// first (all when n <= 0).
func (s *Store) CampaignTrail(ctx context.Context, campaign string, n int) ([]Event, error) {
	return s.readEvents(ctx, s.campaignAuditKey(campaign), n)
}

func (s *Store) readEvents(ctx context.Context, key string, n int) ([]Event, error) {
	var msgs []redis.XMessage
	var err error
	if n > 0 {
		msgs, err = s.rdb.XRevRangeN(ctx, key, "+", "-", int64(n)).Result()
	} else {
		msgs, err = s.rdb.XRevRange(ctx, key, "+", "-").Result()
	}
	if err != nil {
		return nil, fmt.Errorf("state: trail: %w", err)
	}
	out := make([]Event, 0, len(msgs))
	for _, m := range msgs {
		str := func(k string) string { v, _ := m.Values[k].(string); return v }
		at, _ := time.Parse(time.RFC3339Nano, str("at"))
		out = append(out, Event{ID: m.ID, At: at, Actor: str("actor"), Action: str("action"), Submission: str("submission"), Detail: str("detail"), From: str("from")})
	}
	return out, nil
}

// Counter returns the next value of a named counter, for ids that must
// never repeat (e.g. reprocess runs).
func (s *Store) Counter(ctx context.Context, name string) (int64, error) {
	n, err := s.rdb.Incr(ctx, s.prefix+"counter:"+name).Result()
	if err != nil {
		return 0, fmt.Errorf("state: counter: %w", err)
	}
	return n, nil
}

// CounterValue returns a named counter's current value without moving it
// (0 for a counter never used).
func (s *Store) CounterValue(ctx context.Context, name string) (int64, error) {
	n, err := s.rdb.Get(ctx, s.prefix+"counter:"+name).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("state: counter: %w", err)
	}
	return n, nil
}
