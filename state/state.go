package state

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/blindpack/blindpack/pipeline"
)

// Application is the stored state of one application (campaign ×
// applicant).
type Application struct {
	Campaign, ApplicantID string
	Status                pipeline.ApplicationStatus
	// Returns counts distinct submissions that were rejected.
	Returns int
	// Deadline is when the latest return's window closes (zero when not
	// returned).
	Deadline time.Time
	// Last is the newest submission decided: by when it was submitted,
	// not by when its run ended (see Record).
	Last string
	// LastAt is when Last was submitted (zero when not known).
	LastAt time.Time
	// Submissions maps each submission recorded to its outcome.
	Submissions map[string]pipeline.Status
	Updated     time.Time
	// LastOutcome is the outcome of the latest submission recorded,
	// refusals included (Last names only decided submissions).
	LastOutcome pipeline.Status
	// LastSubmission is the latest submission recorded, refusals included.
	LastSubmission string
	// Meta describes the latest submission recorded.
	Meta Meta
}

// Meta is what an administrator filters applications by: series, level
// and the finding codes of the latest submission. No identity.
type Meta struct {
	Series, Level string
	Codes         []string
	// SubmittedAt is when the submission was submitted (zero: not known,
	// taken as the newest). It orders submissions for Record.
	SubmittedAt time.Time
}

// Options configure a Store. The zero value is usable.
type Options struct {
	// Prefix of every key (default "bp:").
	Prefix string
	// Now is the clock (default time.Now); tests inject their own.
	Now func() time.Time
	// Replicas is how many replicas Confirm waits for a recorded outcome
	// to reach: 1 under Sentinel, 0 (no wait) for one server.
	Replicas int
}

// Store keeps application state in Redis.
type Store struct {
	rdb      redis.UniversalClient
	prefix   string
	now      func() time.Time
	replicas int
}

// New returns a Store on a Redis client.
func New(rdb redis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = "bp:"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{rdb: rdb, prefix: opts.Prefix, now: opts.Now, replicas: opts.Replicas}
}

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.now() }

func (s *Store) appKey(campaign, applicant string) string {
	return s.prefix + "app:{" + campaign + ":" + applicant + "}"
}
func (s *Store) subsKey(campaign, applicant string) string {
	return s.prefix + "app:{" + campaign + ":" + applicant + "}:subs"
}
func (s *Store) auditKey(campaign, applicant string) string {
	return s.prefix + "audit:{" + campaign + ":" + applicant + "}"
}
func (s *Store) deadlinesKey() string { return s.prefix + "deadlines" }

// attentionKey is the index of applications an administrator should look
// at: returned, abandoned, or whose latest submission was refused.
func (s *Store) attentionKey() string { return s.prefix + "attention" }
func (s *Store) subIndexKey(id string) string {
	return s.prefix + "sub:" + id
}

// SupersededBy names the newer decided submission that supersedes a
// submission submitted at at: the application's state is its newest
// decided submission's, whatever order the runs end in. None for the
// newest itself or when at is not known.
func (a Application) SupersededBy(submission string, at time.Time) (string, bool) {
	if a.Last == "" || a.Last == submission || at.IsZero() || a.LastAt.Unix() <= at.Unix() {
		return "", false
	}
	return a.Last, true
}

// Listed is how the application appears in administrators' list of what
// needs attention, and whether it is there (pipeline.Listed).
func (a Application) Listed() (string, bool) { return pipeline.Listed(a.Status, a.LastOutcome) }

// Get returns an application's state; an application never seen is
// pending.
func (s *Store) Get(ctx context.Context, campaign, applicant string) (Application, error) {
	apps, err := s.getMany(ctx, []Key{{Campaign: campaign, ApplicantID: applicant}})
	if err != nil {
		return Application{Campaign: campaign, ApplicantID: applicant, Status: pipeline.AppPending}, err
	}
	return apps[0], nil
}

// getMany reads applications in one round trip to Redis: a list of
// thousands costs what one application does, plus the bytes.
func (s *Store) getMany(ctx context.Context, keys []Key) ([]Application, error) {
	type reads struct{ app, subs *redis.MapStringStringCmd }
	cmds := make([]reads, len(keys))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = reads{p.HGetAll(ctx, s.appKey(k.Campaign, k.ApplicantID)), p.HGetAll(ctx, s.subsKey(k.Campaign, k.ApplicantID))}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("state: get applications: %w", err)
	}
	out := make([]Application, len(keys))
	for i, k := range keys {
		out[i] = parseApplication(k, cmds[i].app.Val(), cmds[i].subs.Val())
	}
	return out, nil
}

// parseApplication builds an application from its hash and its
// submissions hash; both empty is an application never seen (pending).
func parseApplication(k Key, h, subs map[string]string) Application {
	a := Application{Campaign: k.Campaign, ApplicantID: k.ApplicantID, Status: pipeline.AppPending, Submissions: map[string]pipeline.Status{}}
	for id, outcome := range subs {
		a.Submissions[id] = pipeline.Status(outcome)
	}
	if h["status"] != "" {
		a.Status = pipeline.ApplicationStatus(h["status"])
	}
	a.Returns, _ = strconv.Atoi(h["returns"])
	a.Last = h["last"]
	if d, _ := strconv.ParseInt(h["deadline"], 10, 64); d > 0 {
		a.Deadline = time.Unix(d, 0)
	}
	if u, _ := strconv.ParseInt(h["updated"], 10, 64); u > 0 {
		a.Updated = time.Unix(u, 0)
	}
	if at, _ := strconv.ParseInt(h["last_at"], 10, 64); at > 0 {
		a.LastAt = time.Unix(at, 0)
	}
	a.LastOutcome, a.LastSubmission = pipeline.Status(h["last_outcome"]), h["last_submission"]
	a.Meta = Meta{Series: h["series"], Level: h["level"]}
	if h["codes"] != "" {
		a.Meta.Codes = strings.Split(h["codes"], ",")
	}
	return a
}

// record sets a submission's outcome and derives the application's state
// from all outcomes, in one atomic step. Recording the same outcome twice
// changes nothing, so a re-run task cannot count a return twice or move a
// deadline. What an outcome does comes from pipeline's vocabulary
// (pipeline.Outcome), passed in: the script spells no status.
//
// The newest submission decides: an outcome of a submission submitted
// before the application's newest decided one (a run that ended late, a
// hold released after a resubmission) is kept for that submission and
// counted among the returns, and changes nothing else.
//
// KEYS: application hash, its submissions hash, the deadlines index, the
// attention index. ARGV: submission, outcome, now, return window (s),
// index member, series, level, codes, the application's new status (""
// leaves it), "1" if the outcome is a return, "1" if it needs attention,
// when the submission was submitted (unix s, 0 unknown), then every
// outcome that counts as a return.
var record = redis.NewScript(`
local app, subs, deadlines, attention = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local sub, outcome, now, window, member = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local newStatus, isReturn, needsLook, at = ARGV[9], ARGV[10] == '1', ARGV[11] == '1', tonumber(ARGV[12])
local returning = {}
for i = 13, #ARGV do returning[ARGV[i]] = true end
local prev = redis.call('HGET', subs, sub)
redis.call('HSET', subs, sub, outcome)
local returns = 0
for _, v in ipairs(redis.call('HVALS', subs)) do
  if returning[v] then returns = returns + 1 end
end
local last = redis.call('HGET', app, 'last')
local lastAt = tonumber(redis.call('HGET', app, 'last_at') or '0')
if last and last ~= sub and at > 0 and lastAt > at then
  redis.call('HSET', app, 'returns', returns, 'updated', now)
  return 'superseded'
end
redis.call('HSET', app, 'returns', returns, 'updated', now, 'last_outcome', outcome, 'last_submission', sub,
  'series', ARGV[6], 'level', ARGV[7], 'codes', ARGV[8])
if needsLook then
  redis.call('ZADD', attention, now, member)
else
  redis.call('ZREM', attention, member)
end
if newStatus == '' then
  return redis.call('HGET', app, 'status') or ''
end
redis.call('HSET', app, 'last', sub, 'last_at', at, 'status', newStatus)
if isReturn then
  if not (prev and returning[prev]) then
    redis.call('HSET', app, 'deadline', now + window)
    redis.call('ZADD', deadlines, now + window, member)
  end
else
  redis.call('HDEL', app, 'deadline')
  redis.call('ZREM', deadlines, member)
end
return newStatus
`)

// Record stores the outcome of a submission and returns the application's
// new state. What the outcome does is pipeline's (Status.Outcome): a
// return opens a window of the given length from now; a refusal (the
// submission was not processed) changes nothing but the record of that
// submission and the attention list. meta describes the submission for
// administrators' lists. The outcome of a submission superseded by a newer
// decided one (Application.SupersededBy) is kept, and counted if it is a
// return, and changes nothing else.
func (s *Store) Record(ctx context.Context, campaign, applicant, submission string, outcome pipeline.Status, window time.Duration, meta Meta) (Application, error) {
	o, ok := outcome.Outcome()
	if !ok {
		return Application{}, fmt.Errorf("state: record: unknown outcome %q", outcome)
	}
	keys := []string{s.appKey(campaign, applicant), s.subsKey(campaign, applicant), s.deadlinesKey(), s.attentionKey()}
	args := []any{submission, string(outcome), s.now().Unix(), int64(window / time.Second), campaign + "\x00" + applicant,
		meta.Series, meta.Level, strings.Join(meta.Codes, ","), string(o.Application), flag(o.Return), flag(o.Attention), unixOrZero(meta.SubmittedAt)}
	for _, r := range pipeline.ReturnStatuses() {
		args = append(args, string(r))
	}
	err := record.Run(ctx, s.rdb, keys, args...).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return Application{}, fmt.Errorf("state: record: %w", err)
	}
	return s.Get(ctx, campaign, applicant)
}

// confirmWait bounds how long Confirm waits for the replicas: a replica
// that is down must slow each outcome, not stop them.
const confirmWait = 2 * time.Second

// ErrNotRecorded means an outcome Record stored is not in the state any
// more: the write was lost in a failover.
var ErrNotRecorded = errors.New("state: the outcome recorded is not there: lost in a failover")

// Confirm makes sure that the outcome Record stored for a submission has
// lasted, before the caller acts on it (the worker writes the report).
// Under Sentinel a primary acknowledges a write before its replica has
// it; a primary that dies in between takes the write with it, and the
// replica promoted in its place never had it. So Confirm first waits, for
// at most confirmWait, until the writes so far reach the configured
// replicas (Redis WAIT, behind a write of its own on the same connection:
// the replication stream is in order, so every earlier write is in it),
// then reads the application again — from the new primary, after a
// failover — and returns ErrNotRecorded unless it holds the outcome. The
// worker then fails the task, which runs again and records it again.
func (s *Store) Confirm(ctx context.Context, campaign, applicant, submission string, outcome pipeline.Status) error {
	if s.replicas > 0 {
		pipe := s.rdb.Pipeline()
		pipe.Set(ctx, s.prefix+"confirm", s.now().UnixNano(), 0)
		pipe.Do(ctx, "wait", s.replicas, confirmWait.Milliseconds())
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("state: confirm: %w", err)
		}
	}
	app, err := s.Get(ctx, campaign, applicant)
	if err != nil {
		return err
	}
	if app.Submissions[submission] != outcome {
		return fmt.Errorf("%w: %s of %s/%s is %q, recorded %q", ErrNotRecorded, submission, campaign, applicant, app.Submissions[submission], outcome)
	}
	return nil
}

// unixOrZero is t in unix seconds, 0 for the zero time.
func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// abandon marks one overdue application abandoned, if it still is returned
// with that deadline: a resubmission decided meanwhile wins. ARGV: index
// member, now, the returned status, the abandoned status.
var abandon = redis.NewScript(`
local app, deadlines = KEYS[1], KEYS[2]
local member, now, returned, abandoned = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local status = redis.call('HGET', app, 'status')
local deadline = tonumber(redis.call('HGET', app, 'deadline') or '0')
if status == returned and deadline > 0 and deadline <= now then
  redis.call('HSET', app, 'status', abandoned, 'updated', now)
  redis.call('ZREM', deadlines, member)
  return 1
end
if status ~= returned then redis.call('ZREM', deadlines, member) end
return 0
`)

// Key names an application.
type Key struct{ Campaign, ApplicantID string }

// AbandonOverdue marks every returned application whose deadline has
// passed as abandoned, and returns them.
func (s *Store) AbandonOverdue(ctx context.Context) ([]Key, error) {
	now := s.now().Unix()
	members, err := s.rdb.ZRangeByScore(ctx, s.deadlinesKey(), &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(now, 10)}).Result()
	if err != nil {
		return nil, fmt.Errorf("state: overdue: %w", err)
	}
	var out []Key
	for _, m := range members {
		var k Key
		for i := 0; i < len(m); i++ {
			if m[i] == 0 {
				k = Key{m[:i], m[i+1:]}
			}
		}
		n, err := abandon.Run(ctx, s.rdb, []string{s.appKey(k.Campaign, k.ApplicantID), s.deadlinesKey()}, m, now,
			string(pipeline.AppReturned), string(pipeline.AppAbandoned)).Int()
		if err != nil {
			return out, fmt.Errorf("state: abandon: %w", err)
		}
		if n == 1 {
			out = append(out, k)
		}
	}
	return out, nil
}

// Located says where a submission's document is.
type Located struct {
	Campaign, ApplicantID, Key string
	// SubmittedAt is when it was first submitted.
	SubmittedAt time.Time
}

// index stores a submission's location unless the id already has one, in
// one step, and returns the location the id has now.
var index = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'campaign', ARGV[1], 'applicant', ARGV[2], 'key', ARGV[3], 'submitted', ARGV[4])
end
return redis.call('HMGET', KEYS[1], 'campaign', 'applicant', 'key', 'submitted')
`)

// Index remembers where a submission is, so that administrators can name it
// by its id alone. The first index wins: a submission id is forever.
func (s *Store) Index(ctx context.Context, submission string, loc Located) error {
	_, err := s.Claim(ctx, submission, loc)
	return err
}

// Claim indexes a submission id for loc unless it is indexed already, in
// one atomic step, and returns the location the id has: loc if this call
// claimed it, the first claimant's otherwise. Two submitters racing with
// the same id for different applicants get the same answer, so exactly one
// of them owns it.
func (s *Store) Claim(ctx context.Context, submission string, loc Located) (Located, error) {
	v, err := index.Run(ctx, s.rdb, []string{s.subIndexKey(submission)},
		loc.Campaign, loc.ApplicantID, loc.Key, strconv.FormatInt(loc.SubmittedAt.Unix(), 10)).StringSlice()
	if err != nil || len(v) != 4 {
		return Located{}, fmt.Errorf("state: index submission: %w", err)
	}
	ts, _ := strconv.ParseInt(v[3], 10, 64)
	return Located{Campaign: v[0], ApplicantID: v[1], Key: v[2], SubmittedAt: time.Unix(ts, 0)}, nil
}

// ErrUnknownSubmission is returned by Locate for a submission never indexed.
var ErrUnknownSubmission = errors.New("state: unknown submission")

// Locate finds a submission by id.
func (s *Store) Locate(ctx context.Context, submission string) (Located, error) {
	h, err := s.rdb.HGetAll(ctx, s.subIndexKey(submission)).Result()
	if err != nil {
		return Located{}, fmt.Errorf("state: locate: %w", err)
	}
	if h["key"] == "" {
		return Located{}, ErrUnknownSubmission
	}
	ts, _ := strconv.ParseInt(h["submitted"], 10, 64)
	return Located{Campaign: h["campaign"], ApplicantID: h["applicant"], Key: h["key"], SubmittedAt: time.Unix(ts, 0)}, nil
}
