package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"
)

// ServerConfig configures a worker server. The zero value is the default.
type ServerConfig struct {
	// Concurrency is how many tasks run at once (default: asynq's, the
	// number of CPUs).
	Concurrency int
	// ShutdownTimeout is how long a stopping worker lets running tasks
	// finish before handing them back to the queue (default 30s).
	ShutdownTimeout time.Duration
	// DelayedTaskCheckInterval is how often scheduled and retried tasks are
	// moved to their queue (default 5s; tests set it low).
	DelayedTaskCheckInterval time.Duration
	// Capabilities are what this worker can do beyond processing
	// submissions (Handler.Capabilities): it takes tasks from their
	// queues too, and from no other capability's.
	Capabilities []Capability
	// Queues overrides the queue weights (default QueuesFor(Capabilities)).
	Queues map[string]int
}

// Validate checks the configuration.
func (c ServerConfig) Validate() error {
	if c.Concurrency < 0 || c.ShutdownTimeout < 0 || c.DelayedTaskCheckInterval < 0 {
		return errors.New("workers: negative server setting")
	}
	for _, cp := range c.Capabilities {
		if !cp.Valid() {
			return fmt.Errorf("workers: unknown capability %q", cp)
		}
	}
	return nil
}

// NewServer returns an asynq server with blindpack's queues, backoff and
// logging. Run it with NewMux of a Handler whose Capabilities are the
// configuration's.
func NewServer(redis asynq.RedisConnOpt, cfg ServerConfig, log *slog.Logger) (*asynq.Server, error) {
	return newServer(redis, cfg, RetryDelay, log)
}

// newServer is an asynq server with blindpack's logging and the given
// retry delays.
func newServer(redis asynq.RedisConnOpt, cfg ServerConfig, delay asynq.RetryDelayFunc, log *slog.Logger) (*asynq.Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	queues := cfg.Queues
	if queues == nil {
		queues = QueuesFor(cfg.Capabilities...)
	}
	shutdown := cfg.ShutdownTimeout
	if shutdown == 0 {
		shutdown = 30 * time.Second
	}
	return asynq.NewServer(redis, asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   queues,
		RetryDelayFunc:           delay,
		ShutdownTimeout:          shutdown,
		DelayedTaskCheckInterval: cfg.DelayedTaskCheckInterval,
		Logger:                   asynqLogger{log.With("component", "asynq")},
		LogLevel:                 asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			id, _ := asynq.GetTaskID(ctx)
			log.Warn("task failed", "type", t.Type(), "task_id", id, "retried", retried, "max_retry", maxRetry, "err", err)
		}),
	}), nil
}

// Capabilities are what the handler can do beyond processing submissions:
// what its worker's ServerConfig.Capabilities must say.
func (h *Handler) Capabilities() []Capability {
	var caps []Capability
	if h.Result != nil {
		caps = append(caps, Signing)
	}
	if h.OCR != nil {
		caps = append(caps, OCR)
	}
	return caps
}

// NewMux routes task types to their handlers. A task needing a capability
// the handler lacks reaches it only from a queue it should not take from
// (a task queued before capability queues existed): it fails and is retried,
// perhaps on a worker that can run it.
func NewMux(h *Handler) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Handle(TypeProcessSubmission, h)
	mux.Handle(TypeIssueResult, h.resultHandler())
	mux.Handle(TypeOCRSubmission, h.ocrHandler())
	mux.Handle(TypeResolveHeld, resolveHandler{h})
	mux.Handle(TypeSweepApplications, &SweepHandler{State: h.State})
	return mux
}

// NewScheduler enqueues the abandonment sweep every interval. Every worker
// may run one: the task is unique per interval, so Redis holds at most one.
func NewScheduler(redis asynq.RedisConnOpt, interval time.Duration, log *slog.Logger) (*asynq.Scheduler, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := asynq.NewScheduler(redis, &asynq.SchedulerOpts{Logger: asynqLogger{log.With("component", "scheduler")}, LogLevel: asynq.WarnLevel})
	if _, err := s.Register(fmt.Sprintf("@every %s", interval), NewSweepTask(), asynq.Unique(interval)); err != nil {
		return nil, fmt.Errorf("workers: schedule sweep: %w", err)
	}
	return s, nil
}

// RetryDelay backs off exponentially from 1s to 5 minutes, with jitter so
// that tasks failed by one outage do not all come back at the same moment.
func RetryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	d := time.Second << min(n, 9)
	d = min(d, 5*time.Minute)
	return d + time.Duration(rand.Int64N(int64(d)/4+1))
}

// asynqLogger adapts slog to asynq's Logger.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
