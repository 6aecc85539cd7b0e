package state

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// What a reviewer did with the packets assigned to them: when each was
// assigned, and which they marked reviewed. Both are per reviewer, so
// that a reviewer's list is two reads whatever the number of packets,
// and both are forgotten on unassignment.

func (s *Store) assignedAtKey(reviewer string) string { return s.prefix + "assign:at:" + reviewer }
func (s *Store) reviewedKey(reviewer string) string   { return s.prefix + "review:done:" + reviewer }

// AssignedAt returns when each packet now assigned to reviewer was
// assigned, by anonymous code (assignments older than this record are
// missing).
func (s *Store) AssignedAt(ctx context.Context, reviewer string) (map[string]time.Time, error) {
	return s.times(ctx, s.assignedAtKey(reviewer), "assigned at")
}

// Reviewed returns when reviewer marked each packet reviewed, by
// anonymous code.
func (s *Store) Reviewed(ctx context.Context, reviewer string) (map[string]time.Time, error) {
	return s.times(ctx, s.reviewedKey(reviewer), "reviewed")
}

func (s *Store) times(ctx context.Context, key, op string) (map[string]time.Time, error) {
	h, err := s.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, fmt.Errorf("state: %s: %w", op, err)
	}
	out := make(map[string]time.Time, len(h))
	for k, v := range h {
		if sec, err := strconv.ParseInt(v, 10, 64); err == nil {
			out[k] = time.Unix(sec, 0).UTC()
		}
	}
	return out, nil
}

// MarkReviewed records (done) or withdraws (!done) reviewer's mark that
// the packet of anon is reviewed, and reports whether anything changed.
func (s *Store) MarkReviewed(ctx context.Context, anon, reviewer string, done bool) (bool, error) {
	var n int64
	var err error
	if done {
		var ok bool
		ok, err = s.rdb.HSetNX(ctx, s.reviewedKey(reviewer), anon, s.now().Unix()).Result()
		if ok {
			n = 1
		}
	} else {
		n, err = s.rdb.HDel(ctx, s.reviewedKey(reviewer), anon).Result()
	}
	if err != nil {
		return false, fmt.Errorf("state: mark reviewed: %w", err)
	}
	return n == 1, nil
}
