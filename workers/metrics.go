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
			Help: "Submissions decided, by report status (accepted, rejected, refused, held): by the process task, the OCR gate or an administrator's decision on a hold.",
		}, []string{"status"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "blindpack_worker_submission_duration_seconds",
			Help:    "Time from taking a submission task to writing its report, or to staging its packet for the OCR gate.",
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

// decided counts a submission's decision: the report written with its
// status, whoever decided.
func (m *Metrics) decided(rep *pipeline.Report) {
	if m != nil {
		m.jobs.WithLabelValues(string(rep.Status)).Inc()
	}
}

// took times a process task.
func (m *Metrics) took(d time.Duration) {
	if m != nil {
		m.duration.Observe(d.Seconds())
	}
}

// published counts a published packet's pages.
func (m *Metrics) published(rep *pipeline.Report) {
	if m != nil && rep.Packet != nil {
		m.pages.Add(float64(rep.Packet.Pages))
	}
}
