package api

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/blindpack/blindpack/pipeline/verify"
)

// metrics are what /metrics exports from the API side:
//
//   - blindpack_api_requests_total{route,method,code} and
//     blindpack_api_request_duration_seconds{route}: every request, by
//     route pattern (never the path, so ids do not become labels);
//   - blindpack_api_downloads_total{outcome}: packet downloads —
//     streamed, denied (not assigned), unavailable (no accepted packet,
//     or no application has the code), bad_request, error;
//   - blindpack_api_copies_total{outcome} and
//     blindpack_api_copy_duration_seconds: personal copies made on first
//     downloads, and how long making one took;
//   - blindpack_api_verifications_waiting: personal copies waiting for
//     the process's one verification slot (verify.Packet) — a burst of
//     first downloads queues here instead of holding many packets in
//     memory;
//   - blindpack_queue_tasks{queue,state}: queue depth by task state
//     (pending, active, scheduled, retry, archived, completed), read from
//     asynq's Inspector at each scrape;
//   - blindpack_queue_processed_total{queue} and
//     blindpack_queue_failed_total{queue}: tasks processed and failed since
//     the queue existed (asynq's counters): jobs by outcome as the queue
//     sees them; blindpack_queue_latency_seconds{queue}: age of the oldest
//     pending task.
//
// Stage durations and report outcomes happen in the workers, which would
// export them themselves.
type metrics struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	downloads *prometheus.CounterVec
	copies    *prometheus.CounterVec
	copyTime  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, insp *asynq.Inspector, log *slog.Logger) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "blindpack_api_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "blindpack_api_request_duration_seconds", Help: "HTTP request duration by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		downloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "blindpack_api_downloads_total", Help: "Packet downloads by reviewers, by outcome.",
		}, []string{"outcome"}),
		copies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "blindpack_api_copies_total", Help: "Personal copies made on first downloads, by outcome.",
		}, []string{"outcome"}),
		copyTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "blindpack_api_copy_duration_seconds", Help: "Time to make, verify and store one personal copy.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
	}
	waiting := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "blindpack_api_verifications_waiting", Help: "Verifications of personal copies waiting for the process's one verification slot.",
	}, func() float64 { _, n := verify.Load(); return float64(n) })
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.downloads, m.copies, m.copyTime, waiting, &queueCollector{insp: insp, log: log}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

var (
	queueTasksDesc     = prometheus.NewDesc("blindpack_queue_tasks", "Tasks in a queue by state.", []string{"queue", "state"}, nil)
	queueProcessedDesc = prometheus.NewDesc("blindpack_queue_processed_total", "Tasks processed (succeeded or failed) since the queue existed.", []string{"queue"}, nil)
	queueFailedDesc    = prometheus.NewDesc("blindpack_queue_failed_total", "Task runs that failed since the queue existed.", []string{"queue"}, nil)
	queueLatencyDesc   = prometheus.NewDesc("blindpack_queue_latency_seconds", "Age of the oldest pending task.", []string{"queue"}, nil)
)

// queueCollector reads the queues at scrape time, so the figures are
// those of Redis, shared by every worker, not of this process.
type queueCollector struct {
	insp *asynq.Inspector
	log  *slog.Logger
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueTasksDesc
	ch <- queueProcessedDesc
	ch <- queueFailedDesc
	ch <- queueLatencyDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	queues, err := c.insp.Queues()
	if err != nil {
		c.log.Warn("metrics: list queues", "err", err)
		return
	}
	for _, q := range queues {
		info, err := c.insp.GetQueueInfo(q)
		if err != nil {
			c.log.Warn("metrics: queue info", "queue", q, "err", err)
			continue
		}
		for state, n := range map[string]int{"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "completed": info.Completed} {
			ch <- prometheus.MustNewConstMetric(queueTasksDesc, prometheus.GaugeValue, float64(n), q, state)
		}
		ch <- prometheus.MustNewConstMetric(queueProcessedDesc, prometheus.CounterValue, float64(info.ProcessedTotal), q)
		ch <- prometheus.MustNewConstMetric(queueFailedDesc, prometheus.CounterValue, float64(info.FailedTotal), q)
		ch <- prometheus.MustNewConstMetric(queueLatencyDesc, prometheus.GaugeValue, info.Latency.Seconds(), q)
	}
}

// recorder remembers what a handler answered, for logs and metrics.
type recorder struct {
	http.ResponseWriter
	status    int
	bytes     int64
	principal Principal
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// observe logs and counts every request. The log line names the request
// id, the route, the path (ids and anonymous codes only), the caller's
// role and subject, the status and the time taken — never a body.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			// Answered before routing (401 by the guard): count it under
			// the route it was for, if any.
			if _, route = s.mux.Handler(r); route == "" {
				route = "unmatched"
			}
		}
		elapsed := time.Since(start)
		s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.status)).Inc()
		s.metrics.duration.WithLabelValues(route).Observe(elapsed.Seconds())
		if route == "GET /metrics" || route == "GET /healthz" || route == "GET /readyz" {
			return // probes every few seconds would drown the log
		}
		s.log.Info("request", "request_id", requestID(r.Context()), "method", r.Method, "route", route, "path", r.URL.Path, "status", rec.status,
			"bytes", rec.bytes, "duration_ms", elapsed.Milliseconds(), "role", string(rec.principal.Role),
			"subject", rec.principal.Subject, "remote", s.clientAddr(r))
	})
}
