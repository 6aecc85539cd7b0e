package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage/s3"
)

// envDefaults lets every flag be set from the environment: --redis-addr is
// BLINDPACK_REDIS_ADDR. Flags given on the command line win. This is the
// only place blindpack reads its environment.
func envDefaults(fs *flag.FlagSet) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := "BLINDPACK_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
		}
	})
	return errors.Join(errs...)
}

// parse sets fs's flags from the environment, then from args, in which
// flags may come before, between and after the arguments: `submit S.json
// --redis-addr H` is `submit --redis-addr H S.json` (the flag package alone
// stops at the first argument). "--" ends the flags. The arguments are
// fs.Args() afterwards. Every command parses through here.
func parse(fs *flag.FlagSet, args []string) error {
	if err := envDefaults(fs); err != nil {
		return err
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		// The flag package stopped at an argument, or after "--".
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Hand the arguments back through the flag set, so that fs.Args()
	// answers as callers expect; "--" keeps any that look like flags.
	if err := fs.Parse(append([]string{"--"}, positional...)); err != nil {
		return err
	}
	if parsed != nil {
		return parsed(fs)
	}
	return nil
}

// parsed, when set, is called with every flag set parse has parsed, and its
// error returned: the tests see what each command made of its arguments
// without running it.
var parsed func(*flag.FlagSet) error

// parseFlags is parse for a command that takes flags only: an argument is a
// usage error, not silently ignored.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s takes no arguments, only flags: %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// common are the settings every pipeline-running command shares.
type common struct {
	policyFile     string
	fontFile       string
	fontIndex      int
	anonSecret     string
	anonSecretFile string
	logFormat      string
	logLevel       string
}

func (c *common) register(fs *flag.FlagSet, logFormat string) {
	fs.StringVar(&c.policyFile, "policy", "", "policy `file` (YAML); default: the policy built in")
	fs.StringVar(&c.fontFile, "font", "", "TrueType CJK font `file` (.ttf/.ttc); default: WenQuanYi Zen Hei from fonts-wqy-zenhei")
	fs.IntVar(&c.fontIndex, "font-index", 0, "member of a .ttc collection")
	fs.StringVar(&c.anonSecret, "anon-secret", "", "secret keying the anonymous applicant codes (prefer --anon-secret-file or the environment)")
	fs.StringVar(&c.anonSecretFile, "anon-secret-file", "", "`file` holding the anonymous-code secret")
	fs.StringVar(&c.logFormat, "log-format", logFormat, "log format: json or text")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// fontCandidates are TrueType CJK fonts known to embed well, in Debian's
// locations. OpenType-CFF fonts such as Noto CJK are not among them.
var fontCandidates = []string{
	"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
	"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
	"/usr/share/fonts/truetype/arphic/uming.ttc",
}

func (c *common) font() (*pdfkit.Font, error) {
	path := c.fontFile
	if path == "" {
		for _, p := range fontCandidates {
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		return nil, errors.New("no CJK TrueType font found: apt-get install fonts-wqy-zenhei, or give --font")
	}
	return pdfkit.LoadFont(path, c.fontIndex)
}

// devSecret keys anonymous codes when no secret is configured, which only
// the local commands allow: codes made with it are not secret.
const devSecret = "blindpack-development-secret-not-for-production"

func (c *common) secret(allowDev bool, log *slog.Logger) ([]byte, error) {
	s := c.anonSecret
	if c.anonSecretFile != "" {
		b, err := os.ReadFile(c.anonSecretFile)
		if err != nil {
			return nil, fmt.Errorf("anonymous-code secret: %w", err)
		}
		s = strings.TrimSpace(string(b))
	}
	if s == "" {
		if !allowDev {
			return nil, errors.New("no anonymous-code secret: set BLINDPACK_ANON_SECRET or --anon-secret-file (at least 16 bytes, the same on every worker)")
		}
		log.Warn("using the development anonymous-code secret; codes are not secret")
		s = devSecret
	}
	if len(s) < 16 {
		return nil, errors.New("the anonymous-code secret must be at least 16 bytes")
	}
	return []byte(s), nil
}

func (c *common) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var log *slog.Logger
	switch c.logFormat {
	case "json":
		log = slog.New(slog.NewJSONHandler(w, opts))
	case "text":
		log = slog.New(slog.NewTextHandler(w, opts))
	default:
		return nil, fmt.Errorf("log format %q: want json or text", c.logFormat)
	}
	// go-redis reports what it does on its own — above all, following a
	// Sentinel failover — through one logger for the whole process, which
	// would otherwise print plain lines among the JSON ones. This is the
	// only way it offers to set it.
	redis.SetLogger(redisLogger{log.With("component", "redis")})
	return log, nil
}

// redisLogger adapts slog to go-redis's logger.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.InfoContext(ctx, fmt.Sprintf(format, v...))
}

// loadPolicy reads the policy file at path, or gives the policy built in
// when path is empty. Every command with a --policy flag goes through it.
func loadPolicy(path string) (*policy.Policy, error) {
	if path == "" {
		return policy.Default(), nil
	}
	return policy.Load(path)
}

func (c *common) pipeline(allowDevSecret bool, log *slog.Logger) (*pipeline.Pipeline, error) {
	pol, err := loadPolicy(c.policyFile)
	if err != nil {
		return nil, err
	}
	font, err := c.font()
	if err != nil {
		return nil, err
	}
	secret, err := c.secret(allowDevSecret, log)
	if err != nil {
		return nil, err
	}
	return pipeline.New(pipeline.Config{Policy: pol, AnonSecret: secret, Font: font, Logger: log})
}

// services are the settings of commands that talk to Redis and S3.
type services struct {
	redisConf     redisConfig
	s3            s3.Config
	buckets       s3.BucketNames
	createBuckets bool
	timeout       time.Duration
}

func (s *services) register(fs *flag.FlagSet) {
	s.redisConf.register(fs)
	fs.StringVar(&s.s3.Endpoint, "s3-endpoint", "127.0.0.1:9000", "S3 endpoint `host:port` (MinIO or any S3 store)")
	fs.StringVar(&s.s3.AccessKey, "s3-access-key", "", "S3 access key")
	fs.StringVar(&s.s3.SecretKey, "s3-secret-key", "", "S3 secret key")
	fs.BoolVar(&s.s3.Secure, "s3-secure", false, "use HTTPS to reach S3")
	fs.StringVar(&s.s3.Region, "s3-region", "", "S3 region (empty: ask the server)")
	fs.StringVar(&s.buckets.Uploads, "bucket-uploads", "uploads", "bucket of originals and submission documents")
	fs.StringVar(&s.buckets.Packets, "bucket-packets", "packets", "bucket of review packets")
	fs.StringVar(&s.buckets.Reports, "bucket-reports", "reports", "bucket of reports")
	fs.StringVar(&s.buckets.Results, "bucket-results", "results", "bucket of signed result files")
	fs.BoolVar(&s.createBuckets, "create-buckets", false, "create missing buckets at start-up")
	fs.DurationVar(&s.timeout, "connect-timeout", 15*time.Second, "how long to wait for Redis and S3 at start-up")
}

// validate checks the Redis and S3 settings.
func (s *services) validate() error {
	return errors.Join(s.redisConf.validate(), s.s3.Validate())
}

// redis is how asynq reaches Redis: one server, or the primary that the
// Sentinels name.
func (s *services) redis() asynq.RedisConnOpt { return s.redisConf.queue() }

// state opens the application state store on the same Redis as the queue.
func (s *services) state(now func() time.Time) (*state.Store, func()) {
	rdb := s.redisConf.client()
	return state.New(rdb, state.Options{Now: now, Replicas: s.redisConf.replicas()}), func() { rdb.Close() }
}

// redisConfig says how to reach Redis: --redis-addr for one server, or
// --redis-sentinels with --redis-master for a primary with replicas under
// Redis Sentinel, which every client then follows through a failover. The
// queue (asynq) and the state store (go-redis) are built from the same
// settings, so they always talk to the same primary.
type redisConfig struct {
	addr             string
	password         string
	db               int
	sentinels        string
	master           string
	sentinelPassword string
}

func (r *redisConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&r.addr, "redis-addr", "127.0.0.1:6379", "Redis `host:port` (without Sentinel)")
	fs.StringVar(&r.password, "redis-password", "", "Redis password")
	fs.IntVar(&r.db, "redis-db", 0, "Redis database number")
	fs.StringVar(&r.sentinels, "redis-sentinels", "", "Redis Sentinel `addresses`, comma-separated host:port; with --redis-master, instead of --redis-addr")
	fs.StringVar(&r.master, "redis-master", "", "`name` of the primary the Sentinels monitor")
	fs.StringVar(&r.sentinelPassword, "redis-sentinel-password", "", "password of the Sentinels themselves, if they have one")
}

// sentinelAddrs splits --redis-sentinels.
func (r *redisConfig) sentinelAddrs() []string {
	var out []string
	for _, a := range strings.Split(r.sentinels, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// validate refuses half a Sentinel configuration, which would otherwise
// fall back silently to --redis-addr.
func (r *redisConfig) validate() error {
	switch n := len(r.sentinelAddrs()); {
	case n > 0 && r.master == "":
		return errors.New("--redis-sentinels needs --redis-master, the name the Sentinels monitor")
	case n == 0 && r.master != "":
		return errors.New("--redis-master needs --redis-sentinels")
	}
	return nil
}

// describe names the Redis in use for a start-up log line.
func (r *redisConfig) describe() string {
	if addrs := r.sentinelAddrs(); len(addrs) > 0 {
		return fmt.Sprintf("sentinel %s (master %q)", strings.Join(addrs, ","), r.master)
	}
	return r.addr
}

func (r *redisConfig) queue() asynq.RedisConnOpt {
	if addrs := r.sentinelAddrs(); len(addrs) > 0 {
		return asynq.RedisFailoverClientOpt{MasterName: r.master, SentinelAddrs: addrs,
			SentinelPassword: r.sentinelPassword, Password: r.password, DB: r.db}
	}
	return asynq.RedisClientOpt{Addr: r.addr, Password: r.password, DB: r.db}
}

// replicas is how many replicas a recorded outcome waits for
// (state.Options.Replicas): one under Sentinel, which monitors a primary
// with replicas; none for one server.
func (r *redisConfig) replicas() int {
	if len(r.sentinelAddrs()) > 0 {
		return 1
	}
	return 0
}

func (r *redisConfig) client() redis.UniversalClient {
	if addrs := r.sentinelAddrs(); len(addrs) > 0 {
		return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: r.master, SentinelAddrs: addrs,
			SentinelPassword: r.sentinelPassword, Password: r.password, DB: r.db})
	}
	return redis.NewClient(&redis.Options{Addr: r.addr, Password: r.password, DB: r.db})
}

// clockFlag is --clock: run as if it were this time, for rehearsing a
// campaign outside its calendar. Empty means the real clock.
type clockFlag struct{ at time.Time }

func (c *clockFlag) String() string {
	if c.at.IsZero() {
		return ""
	}
	return c.at.Format(time.RFC3339)
}

func (c *clockFlag) Set(v string) error {
	if v == "" {
		c.at = time.Time{}
		return nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return fmt.Errorf("want RFC 3339, e.g. 2024-09-20T10:00:00+08:00: %w", err)
	}
	c.at = t
	return nil
}

// now returns the clock: real, or running on from the given time.
func (c *clockFlag) now() func() time.Time {
	if c.at.IsZero() {
		return time.Now
	}
	start, at := time.Now(), c.at
	return func() time.Time { return at.Add(time.Since(start)) }
}

func newFlagSet(name string) *flag.FlagSet { return flag.NewFlagSet(name, flag.ContinueOnError) }
