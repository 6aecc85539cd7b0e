package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Reviewers are assigned to packets by anonymous code: an administrator
// decides who reviews whom, and a reviewer may download only what is
// assigned to them. Each assignment is kept twice — the reviewer's set of
// codes and the packet's set of reviewers — written together in one
// MULTI, so that either question is one read.

func (s *Store) reviewerKey(reviewer string) string { return s.prefix + "assign:reviewer:" + reviewer }
func (s *Store) packetKey(anon string) string       { return s.prefix + "assign:packet:" + anon }
func (s *Store) reviewersKey() string               { return s.prefix + "assign:reviewers" }
func (s *Store) anonKey(campaign string) string     { return s.prefix + "anon:{" + campaign + "}" }

// Assign gives reviewer the packet of the anonymous code anon. It reports
// whether the assignment is new; assigning twice changes nothing.
func (s *Store) Assign(ctx context.Context, anon, reviewer string) (bool, error) {
	var added *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		added = p.SAdd(ctx, s.reviewerKey(reviewer), anon)
		p.SAdd(ctx, s.packetKey(anon), reviewer)
		p.SAdd(ctx, s.reviewersKey(), reviewer)
		p.HSetNX(ctx, s.assignedAtKey(reviewer), anon, s.now().Unix()) // review.go
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("state: assign: %w", err)
	}
	return added.Val() == 1, nil
}

// Unassign takes the packet of anon away from reviewer. It reports whether
// there was such an assignment.
func (s *Store) Unassign(ctx context.Context, anon, reviewer string) (bool, error) {
	var removed *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		removed = p.SRem(ctx, s.reviewerKey(reviewer), anon)
		p.SRem(ctx, s.packetKey(anon), reviewer)
		p.HDel(ctx, s.assignedAtKey(reviewer), anon) // review.go
		p.HDel(ctx, s.reviewedKey(reviewer), anon)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("state: unassign: %w", err)
	}
	return removed.Val() == 1, nil
}

// AssignedTo lists the anonymous codes assigned to reviewer, sorted.
func (s *Store) AssignedTo(ctx context.Context, reviewer string) ([]string, error) {
	codes, err := s.rdb.SMembers(ctx, s.reviewerKey(reviewer)).Result()
	if err != nil {
		return nil, fmt.Errorf("state: assigned to: %w", err)
	}
	slices.Sort(codes)
	return codes, nil
}

// IsAssigned reports whether the packet of anon is assigned to reviewer.
func (s *Store) IsAssigned(ctx context.Context, anon, reviewer string) (bool, error) {
	ok, err := s.rdb.SIsMember(ctx, s.reviewerKey(reviewer), anon).Result()
	if err != nil {
		return false, fmt.Errorf("state: is assigned: %w", err)
	}
	return ok, nil
}

// ReviewersOf lists the reviewers the packet of anon is assigned to,
// sorted.
func (s *Store) ReviewersOf(ctx context.Context, anon string) ([]string, error) {
	revs, err := s.rdb.SMembers(ctx, s.packetKey(anon)).Result()
	if err != nil {
		return nil, fmt.Errorf("state: reviewers of: %w", err)
	}
	slices.Sort(revs)
	return revs, nil
}

// Assignments lists every reviewer who was ever assigned a packet, with
// the anonymous codes assigned now (possibly none), sorted.
func (s *Store) Assignments(ctx context.Context) (map[string][]string, error) {
	revs, err := s.rdb.SMembers(ctx, s.reviewersKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("state: assignments: %w", err)
	}
	cmds := make([]*redis.StringSliceCmd, len(revs))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range revs {
			cmds[i] = p.SMembers(ctx, s.reviewerKey(r))
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("state: assignments: %w", err)
	}
	out := make(map[string][]string, len(revs))
	for i, r := range revs {
		codes := cmds[i].Val()
		slices.Sort(codes)
		out[r] = codes
	}
	return out, nil
}

// ErrUnknownAnon is returned by ResolveAnon for a code not indexed.
var ErrUnknownAnon = errors.New("state: unknown anonymous code")

// IndexAnon remembers which applicant of a campaign an anonymous code
// belongs to, so that what is done to a packet (assignments, downloads)
// lands in the applicant's audit trail. The code is a keyed hash of the
// applicant id, so one code has one applicant for good: the first index
// wins.
func (s *Store) IndexAnon(ctx context.Context, campaign string, codes map[string]string) error {
	if len(codes) == 0 {
		return nil
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for anon, applicant := range codes {
			p.HSetNX(ctx, s.anonKey(campaign), anon, applicant)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("state: index anonymous code: %w", err)
	}
	return nil
}

// ResolveAnon returns the applicant an indexed anonymous code belongs to.
func (s *Store) ResolveAnon(ctx context.Context, campaign, anon string) (string, error) {
	applicant, err := s.rdb.HGet(ctx, s.anonKey(campaign), anon).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", ErrUnknownAnon
	case err != nil:
		return "", fmt.Errorf("state: resolve anonymous code: %w", err)
	}
	return applicant, nil
}

// globEscape quotes the characters SCAN's MATCH treats as patterns.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Applicants lists the applicants of a campaign that have a state (a
// decided submission), sorted. It scans Redis's key space, so its cost
// grows with everything in the database: an administrator's occasional
// question, not a request path.
func (s *Store) Applicants(ctx context.Context, campaign string) ([]string, error) {
	head := s.prefix + "app:{" + campaign + ":"
	var out []string
	iter := s.rdb.Scan(ctx, 0, globEscape(head)+"*}", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		if a := strings.TrimSuffix(strings.TrimPrefix(k, head), "}"); a != "" && !strings.ContainsAny(a, "{}") {
			out = append(out, a)
		}
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("state: list applicants: %w", err)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
