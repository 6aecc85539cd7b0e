package state

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Copy records a reviewer's personal copy of a packet: which packet it was
// made from, when (the time stamped on its pages), and what was stored.
type Copy struct {
	Anon, Reviewer string
	// PacketSHA256 is the digest of the packet the copy was made from; a
	// packet made again (an administrator's reprocess) needs a new copy.
	PacketSHA256 string
	// At is the time the copy carries.
	At time.Time
	// SHA256 and FileID describe the stored copy; empty until it is.
	SHA256 string
	FileID string
}

func (s *Store) copyKey(anon, reviewer string) string {
	return s.prefix + "copy:" + anon + ":" + reviewer
}

// claimCopy keeps the time of the first claim for a packet version.
var claimCopy = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'packet') == ARGV[1] then
  return redis.call('HGET', KEYS[1], 'at')
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'packet', ARGV[1], 'at', ARGV[2])
return ARGV[2]
`)

// ClaimCopy fixes the time of reviewer's copy of the packet version
// packetSHA256 and returns the copy's record: the first claim's time wins,
// so that two first downloads racing each other stamp the same time and
// make the same bytes. A claim for another packet version starts afresh.
func (s *Store) ClaimCopy(ctx context.Context, anon, reviewer, packetSHA256 string, at time.Time) (Copy, error) {
	v, err := claimCopy.Run(ctx, s.rdb, []string{s.copyKey(anon, reviewer)}, packetSHA256, at.Unix()).Text()
	if err != nil {
		return Copy{}, fmt.Errorf("state: claim copy: %w", err)
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return Copy{}, fmt.Errorf("state: claim copy: bad time %q", v)
	}
	c, _, err := s.CopyOf(ctx, anon, reviewer)
	if err != nil {
		return Copy{}, err
	}
	c.PacketSHA256, c.At = packetSHA256, time.Unix(sec, 0).UTC()
	return c, nil
}

// CopyStored records the digest and file identifier of a stored copy, for
// the packet version it was claimed for.
func (s *Store) CopyStored(ctx context.Context, c Copy) error {
	err := s.rdb.HSet(ctx, s.copyKey(c.Anon, c.Reviewer), "packet", c.PacketSHA256, "at", c.At.Unix(), "sha256", c.SHA256, "file_id", c.FileID).Err()
	if err != nil {
		return fmt.Errorf("state: copy stored: %w", err)
	}
	return nil
}

// CopyOf returns the record of reviewer's copy of the packet of anon, and
// whether there is one.
func (s *Store) CopyOf(ctx context.Context, anon, reviewer string) (Copy, bool, error) {
	h, err := s.rdb.HGetAll(ctx, s.copyKey(anon, reviewer)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return Copy{}, false, fmt.Errorf("state: copy of: %w", err)
	}
	c := Copy{Anon: anon, Reviewer: reviewer, PacketSHA256: h["packet"], SHA256: h["sha256"], FileID: h["file_id"]}
	if sec, err := strconv.ParseInt(h["at"], 10, 64); err == nil {
		c.At = time.Unix(sec, 0).UTC()
	}
	return c, h["packet"] != "", nil
}
