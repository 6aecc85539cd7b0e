package state

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/blindpack/blindpack/pipeline"
)

// AcceptedApplicants lists, sorted, the applicants of a campaign whose
// application is accepted: the population of the paper spot checks. Like
// Applicants it scans the key space rather than keeping an index, so that
// it is right for every application ever recorded, whatever version of
// blindpack recorded it.
func (s *Store) AcceptedApplicants(ctx context.Context, campaign string) ([]string, error) {
	ids, err := s.Applicants(ctx, campaign)
	if err != nil {
		return nil, err
	}
	var out []string
	for batch := range slices.Chunk(ids, 500) {
		pipe := s.rdb.Pipeline()
		cmds := make([]*redis.StringCmd, len(batch))
		for i, id := range batch {
			cmds[i] = pipe.HGet(ctx, s.appKey(campaign, id), "status")
		}
		// A key gone since the scan answers nil: not accepted.
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("state: accepted applications: %w", err)
		}
		for i, id := range batch {
			if pipeline.ApplicationStatus(cmds[i].Val()) == pipeline.AppAccepted {
				out = append(out, id)
			}
		}
	}
	return out, nil
}
