package state

import (
	"context"
	"fmt"
	"time"
)

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
