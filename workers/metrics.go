package workers

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/blindpack/blindpack/pipeline"
)

// Metrics are a worker's Prometheus metrics: submissions by outcome, and
// how long jobs and the pipeline's stages take. The API exports the queues'
// depths; these are what only the worker that ran a job knows.
type Metrics struct {
	jobs     *prometheus.CounterVec
	duration prometheus.Histogram
	stages   *prometheus.HistogramVec
	pages    prometheus.Counter
}

// NewMetrics registers the worker's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "blindpack_worker_submissions_total",
			Help: "Submissions processed, by report status (accepted, rejected, refused).",
		}, []string{"status"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "blindpack_worker_submission_duration_seconds",
			Help:    "Time from taking a submission task to writing its report.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2, 12),
		}),
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "blindpack_worker_stage_duration_seconds",
			Help:    "Time spent in each pipeline stage, per call: fetch and open per file, check and build per page (build also closes the packet), verify per packet.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"stage"}),
		pages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "blindpack_worker_packet_pages_total",
			Help: "Pages of the packets published, covers included.",
		}),
	}
	reg.MustRegister(m.jobs, m.duration, m.stages, m.pages)
	return m
}

// observe is a pipeline.Options.Observe.
func (m *Metrics) observe(stage string, d time.Duration) {
	if m != nil {
		m.stages.WithLabelValues(stage).Observe(d.Seconds())
	}
}

// done counts a finished submission.
func (m *Metrics) done(rep *pipeline.Report, took time.Duration) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(string(rep.Status)).Inc()
	m.duration.Observe(took.Seconds())
	if rep.Packet != nil {
		m.pages.Add(float64(rep.Packet.Pages))
	}
}
