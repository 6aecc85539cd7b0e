package workers

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/storage"
)

// Task type names.
const (
	// TypeProcessSubmission checks a submission and builds its packet.
	TypeProcessSubmission = "submission:process"
	// TypeSweepApplications marks applications whose resubmission window
	// passed as abandoned; the scheduler enqueues it periodically.
	TypeSweepApplications = "applications:sweep"
	// TypeIssueResult lays out, seals and signs the approval file of a batch
	// and publishes it in the results bucket. Administrators trigger it;
	// only workers holding the signing key run it.
	TypeIssueResult = "result:issue"
	// TypeOCRSubmission reads a submission's packet with OCR and writes
	// where the applicant's name or employer still seems visible outside
	// the masks. As the gate (OCRPayload.Gate) it reads the staged packet
	// and then publishes it or holds the submission; tasks of earlier
	// versions read a published packet and only write the document. It is
	// slow (a second or two per page), so it runs on the OCR queue, which
	// only workers with Tesseract take from.
	TypeOCRSubmission = "submission:ocr"
	// TypeDeliverWebhook posts one event to one endpoint, signed as the
	// Standard Webhooks specification says. Only the webhook server
	// (StartWebhookServer) takes it, from its own queue.
	TypeDeliverWebhook = "webhook:deliver"
)

// NewSweepTask makes the periodic sweep task.
func NewSweepTask() *asynq.Task {
	return asynq.NewTask(TypeSweepApplications, nil, asynq.Queue(QueueLow), asynq.MaxRetry(1), asynq.Timeout(time.Minute))
}

// Queue names. Every worker takes from the three priority queues; each
// capability has a queue of its own that only the workers having it take
// from, so that a task never burns its retries on a worker that cannot run
// it (asynq Config.Queues; Celery's task routing).
const (
	QueueCritical = "critical"
	QueueDefault  = "default"
	QueueLow      = "low"
	// QueueSigning holds the tasks that need Signing.
	QueueSigning = string(Signing)
	// QueueOCR holds the tasks that need OCR.
	QueueOCR = string(OCR)
)

// Capability is something only the workers configured for it can do.
type Capability string

// Capabilities.
const (
	// Signing: the worker holds the result-signing key (--keys,
	// --signer-p12, --signer-cert).
	Signing Capability = "signing"
	// OCR: the worker runs Tesseract with Simplified Chinese (--ocr).
	OCR Capability = "ocr"
)

// Needs is the capability each task type needs; a type not listed needs
// none and goes to a priority queue. A task type that needs a capability is
// queued on that capability's queue (Capability.Queue): declaring it here is
// all a new one has to do.
var Needs = map[string]Capability{
	TypeIssueResult:   Signing,
	TypeOCRSubmission: OCR,
}

// capabilityWeights are the weights of the capabilities' queues beside the
// priority queues, on a worker that has them. Signing weighs as much as
// critical: an administrator is waiting for the file.
var capabilityWeights = map[Capability]int{Signing: 6, OCR: 1}

// priorities are the weights of the queues every worker takes from: a
// worker takes tasks from its queues in proportion, so a flood of
// submissions never starves administrators' work.
var priorities = map[string]int{QueueCritical: 6, QueueDefault: 3, QueueLow: 1}

// Queue is the queue of the tasks that need c.
func (c Capability) Queue() string { return string(c) }

// Valid reports whether c is a known capability.
func (c Capability) Valid() bool { _, ok := capabilityWeights[c]; return ok }

// QueuesFor is the weight of each queue a worker with the given
// capabilities takes from: the priority queues and its capabilities'.
func QueuesFor(caps ...Capability) map[string]int {
	q := maps.Clone(priorities)
	for _, c := range caps {
		if w, ok := capabilityWeights[c]; ok {
			q[c.Queue()] = w
		}
	}
	return q
}

// Queues is every queue a task may be in, with the weight a worker having
// every capability gives it: what administrators' views list.
var Queues = QueuesFor(slices.Collect(maps.Keys(capabilityWeights))...)

// QueueWebhooks holds webhook deliveries. It is not among Queues: only the
// webhook server listens to it, with its own small concurrency, so that
// slow receivers never hold a slot a submission needs.
const QueueWebhooks = "webhooks"

// AllQueues lists every queue a task can be in, sorted: where
// administrators look for failed (archived) tasks.
func AllQueues() []string {
	out := []string{QueueWebhooks}
	for q := range Queues {
		out = append(out, q)
	}
	slices.Sort(out)
	return out
}

// Task timeouts and retries. asynq keeps timeouts in whole seconds.
const (
	processTimeout  = 10 * time.Minute
	processRetries  = 10
	processRetained = 30 * 24 * time.Hour
)

// ProcessPayload is the payload of TypeProcessSubmission.
type ProcessPayload struct {
	Campaign     string `json:"campaign"`
	ApplicantID  string `json:"applicant_id"`
	SubmissionID string `json:"submission_id"`
	// SubmissionKey is the submission document's key in the uploads bucket.
	SubmissionKey string `json:"submission_key"`
	// SubmittedAt is when the upload service submitted it: the time the
	// campaign calendar and the 48-hour window are judged by, however long
	// the job waited in the queue.
	SubmittedAt time.Time `json:"submitted_at"`
	// Actor is who asked for this run: "upload-service", or the
	// administrator of a reprocess.
	Actor string `json:"actor,omitempty"`
	// Overrides are an administrator's page decisions for a reprocess.
	Overrides []pipeline.Override `json:"overrides,omitempty"`
}

// Validate checks that every id is safe to use in keys.
func (p ProcessPayload) Validate() error {
	for _, id := range []string{p.Campaign, p.ApplicantID, p.SubmissionID} {
		if !pipeline.ValidID(id) {
			return fmt.Errorf("workers: invalid id %q in payload", id)
		}
	}
	if p.SubmissionKey == "" {
		return fmt.Errorf("workers: payload without submission key")
	}
	return nil
}

// NewProcessTask makes the task for a submission. Its task id is the
// submission id, so enqueueing the same submission again is refused by
// asynq instead of building a second packet; the finished task is kept for
// 30 days to keep refusing it.
func NewProcessTask(p ProcessPayload) (*asynq.Task, error) {
	return newProcessTask(p, p.SubmissionID, QueueDefault)
}

// NewReprocessTask makes the task of an administrator's reprocess: the same
// payload with the administrator's overrides, under the n-th reprocess id
// of the submission (ReprocessTaskID), on the critical queue: an
// administrator is waiting for it.
func NewReprocessTask(p ProcessPayload, n int64) (*asynq.Task, error) {
	return newProcessTask(p, ReprocessTaskID(p.SubmissionID, n), QueueCritical)
}

// ReprocessTaskID is the task id of the n-th reprocess of a submission.
func ReprocessTaskID(submissionID string, n int64) string {
	return fmt.Sprintf("%s:reprocess:%d", submissionID, n)
}

func newProcessTask(p ProcessPayload, id, queue string) (*asynq.Task, error) {
	return newTask(TypeProcessSubmission, p,
		asynq.TaskID(id),
		asynq.Queue(queue),
		asynq.MaxRetry(processRetries),
		asynq.Timeout(processTimeout),
		asynq.Retention(processRetained),
	)
}

// payload is what every task payload does: check itself before it is
// queued, so that a task nobody can act on is never enqueued.
type payload interface{ Validate() error }

// decodePayload decodes and checks a task's payload. A payload that
// cannot be used is errBadPayload, which classify archives at once.
func decodePayload[P payload](t *asynq.Task) (P, error) {
	var p P
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, classify(badPayload(err))
	}
	if err := p.Validate(); err != nil {
		return p, classify(badPayload(err))
	}
	return p, nil
}

// newTask checks and encodes a payload into a task of type typ. A type
// that needs a capability goes to its capability's queue, whatever queue
// opts name.
func newTask(typ string, p payload, opts ...asynq.Option) (*asynq.Task, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	data, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	if c, ok := Needs[typ]; ok {
		opts = append(opts, asynq.Queue(c.Queue()))
	}
	return asynq.NewTask(typ, data, opts...), nil
}

// Task settings of TypeIssueResult: a few seconds of work even for
// thousands of persons; few retries, since what fails twice is usually
// the keys or the fonts, which need a person.
const (
	issueResultTimeout  = 5 * time.Minute
	issueResultRetries  = 3
	issueResultRetained = 30 * 24 * time.Hour
)

// IssueResultPayload is the payload of TypeIssueResult. The batch document
// stays in the uploads bucket and only its key travels: results are public,
// but payloads carry keys, never documents.
type IssueResultPayload struct {
	Campaign string `json:"campaign"`
	// BatchKey is the blindpack/batch@1 document's key in the uploads bucket.
	BatchKey string `json:"batch_key"`
	// OutputKey is where the signed file goes in the results bucket;
	// empty means ResultKey(campaign, doc_number).
	OutputKey string `json:"output_key,omitempty"`
}

// Validate checks the payload's keys.
func (p IssueResultPayload) Validate() error {
	if !pipeline.ValidID(p.Campaign) {
		return fmt.Errorf("workers: invalid campaign %q in payload", p.Campaign)
	}
	if err := storage.CheckKey(p.BatchKey); err != nil {
		return fmt.Errorf("workers: batch key: %w", err)
	}
	if p.OutputKey != "" {
		if err := storage.CheckKey(p.OutputKey); err != nil {
			return fmt.Errorf("workers: output key: %w", err)
		}
	}
	return nil
}

// NewIssueResultTask makes the task for a batch. It needs Signing, so it
// goes to the signing queue, which only workers with the key take from and
// which they weigh as much as critical: an administrator is waiting for it,
// and the September flood of submissions must not delay it.
func NewIssueResultTask(p IssueResultPayload) (*asynq.Task, error) {
	return newTask(TypeIssueResult, p,
		asynq.MaxRetry(issueResultRetries),
		asynq.Timeout(issueResultTimeout),
		asynq.Retention(issueResultRetained),
	)
}

// Task settings of TypeOCRSubmission. A packet of a hundred pages takes a
// few minutes on one core; 30 minutes leaves room for a busy machine.
// Few retries: what fails three times is the engine, which needs a person.
const (
	ocrTimeout  = 30 * time.Minute
	ocrRetries  = 3
	ocrRetained = 7 * 24 * time.Hour
)

// OCRPayload is the payload of TypeOCRSubmission: ids and keys, never the
// identity, which the handler reads from the submission document.
type OCRPayload struct {
	Campaign     string `json:"campaign"`
	ApplicantID  string `json:"applicant_id"`
	SubmissionID string `json:"submission_id"`
	// SubmissionKey is the submission document's key in the uploads
	// bucket: identity and masks.
	SubmissionKey string `json:"submission_key"`
	// PacketKey is the published packet's key in the packets bucket; for
	// a gate, the staged packet's key in the uploads bucket.
	PacketKey string `json:"packet_key"`
	// Gate says the packet is staged (storage.StagedPacketKey) and waits
	// for this reading: clean, it is published and the submission
	// accepted; with a hit, the submission is held for an administrator.
	// Without it the packet was published before and the reading is
	// advice only (tasks queued by earlier versions).
	Gate bool `json:"gate,omitempty"`
	// Run is the process task run that staged the packet (its task id),
	// so that a reprocess gets a reading of its own; empty means the
	// submission id.
	Run string `json:"run,omitempty"`
}

// Validate checks that every id is safe to use in keys and that the keys
// are clean.
func (p OCRPayload) Validate() error {
	for _, id := range []string{p.Campaign, p.ApplicantID, p.SubmissionID} {
		if !pipeline.ValidID(id) {
			return fmt.Errorf("workers: invalid id %q in payload", id)
		}
	}
	for _, k := range []string{p.SubmissionKey, p.PacketKey} {
		if err := storage.CheckKey(k); err != nil {
			return fmt.Errorf("workers: payload key: %w", err)
		}
	}
	if p.Run != "" && p.Run != p.SubmissionID && !strings.HasPrefix(p.Run, p.SubmissionID+":reprocess:") {
		return fmt.Errorf("workers: run %q is not a run of submission %s", p.Run, p.SubmissionID)
	}
	return nil
}

// OCRTaskID is the task id of the OCR reading of a run (a submission id,
// or ReprocessTaskID): "ocr:" and the run.
func OCRTaskID(run string) string { return "ocr:" + run }

// NewOCRTask makes the task for a submission's packet. Its task id is
// OCRTaskID of the run (the submission id unless a reprocess staged it),
// so that one run is read once while its finished task is kept (7 days).
func NewOCRTask(p OCRPayload) (*asynq.Task, error) {
	run := p.Run
	if run == "" {
		run = p.SubmissionID
	}
	return newTask(TypeOCRSubmission, p,
		asynq.TaskID(OCRTaskID(run)),
		asynq.MaxRetry(ocrRetries),
		asynq.Timeout(ocrTimeout),
		asynq.Retention(ocrRetained),
	)
}

// Task settings of TypeDeliverWebhook. The retry schedule (how many, how
// far apart) is the webhook configuration's: at least 24 hours in all.
// Finished deliveries are kept a week, so that the same event is not
// queued twice for an endpoint while the upload service may still care.
const (
	webhookRetained = 7 * 24 * time.Hour
	// webhookPayloadMax bounds an event's body: ids, codes and links.
	webhookPayloadMax = 64 << 10
)

// WebhookPayload is the payload of TypeDeliverWebhook: the event's body as
// it will be posted (ids, status, finding codes, links — never a name, an
// employer or file bytes) and the endpoint's id. Never the endpoint's URL
// or secrets: the deliverer looks those up in its configuration, so that
// they do not sit in Redis or show in task listings.
type WebhookPayload struct {
	Endpoint  string         `json:"endpoint"`
	EventID   string         `json:"event_id"`
	EventType wire.EventType `json:"event_type"`
	// Campaign, ApplicantID and SubmissionID say what the event is about,
	// for administrators reading failed deliveries.
	Campaign     string `json:"campaign,omitempty"`
	ApplicantID  string `json:"applicant_id,omitempty"`
	SubmissionID string `json:"submission_id,omitempty"`
	// Body is the wire.Event, byte for byte as it is signed and posted on
	// every attempt.
	Body json.RawMessage `json:"body"`
}

// Validate checks the ids and the body.
func (p WebhookPayload) Validate() error {
	switch {
	case !pipeline.ValidID(p.Endpoint):
		return fmt.Errorf("workers: invalid webhook endpoint id %q", p.Endpoint)
	case !eventIDPattern.MatchString(p.EventID):
		return fmt.Errorf("workers: invalid event id %q", p.EventID)
	case !p.EventType.Known():
		return fmt.Errorf("workers: unknown event type %q", p.EventType)
	case len(p.Body) == 0 || len(p.Body) > webhookPayloadMax || !json.Valid(p.Body):
		return fmt.Errorf("workers: webhook body: not a JSON event of at most %d bytes", webhookPayloadMax)
	}
	return nil
}

// NewWebhookTask makes the delivery of one event to one endpoint. Its task
// id is "webhook:<endpoint>:<event id>": queuing the same event again (a
// re-run of the task that emitted it) is refused while the delivery is
// kept. retries is the length of the retry schedule.
func NewWebhookTask(p WebhookPayload, retries int, timeout time.Duration) (*asynq.Task, error) {
	return newTask(TypeDeliverWebhook, p,
		asynq.TaskID("webhook:"+p.Endpoint+":"+p.EventID),
		asynq.Queue(QueueWebhooks),
		asynq.MaxRetry(retries),
		asynq.Timeout(timeout),
		asynq.Retention(webhookRetained),
	)
}
