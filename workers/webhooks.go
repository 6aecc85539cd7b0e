package workers

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"go.yaml.in/yaml/v3"

	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/state"
)

// ErrWebhooks is returned (wrapped) for a webhook configuration that
// cannot be used.
var ErrWebhooks = errors.New("workers: webhooks")

// DefaultWebhookRetry is when a failed delivery is tried again, after each
// failure (the schedule Standard Webhooks senders commonly use): 5 s,
// 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — 27 h 35 min in all, then the
// delivery is archived where administrators see failed tasks.
var DefaultWebhookRetry = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// minWebhookRetry is the least a configuration file may retry for: a
// receiver down for a day must not lose an event.
const minWebhookRetry = 24 * time.Hour

// WebhookConfig says who is told what, and how: the webhooks file
// (--webhooks). The zero value of every field but Endpoints is the default.
//
//	base_url: https://blindpack.example      # links in events (default: relative)
//	timeout: 10s                              # one attempt, at most 60 s
//	concurrency: 4                            # deliveries at once per worker
//	retry: [5s, 5m, 30m, 2h, 5h, 10h, 10h]    # the default; 24 h in all at least
//	endpoints:
//	  - id: portal
//	    url: https://portal.example/hooks/blindpack
//	    secrets: [whsec_…]                    # 1, or 2 while rotating: both sign
//	    events: [submission.accepted, submission.returned]   # default: all
type WebhookConfig struct {
	// BaseURL is the server's public address; links in events are
	// relative to it ("/v1/submissions/…") when it is empty.
	BaseURL string `yaml:"base_url"`
	// Timeout bounds one delivery attempt, connection to answer (default
	// 10 s): a slow receiver fails the attempt, it does not hold a worker.
	Timeout time.Duration `yaml:"timeout"`
	// Concurrency is how many deliveries one worker makes at once
	// (default 4).
	Concurrency int `yaml:"concurrency"`
	// Retry is the delay before each retry (default DefaultWebhookRetry);
	// its length is the number of retries.
	Retry     []time.Duration   `yaml:"retry"`
	Endpoints []WebhookEndpoint `yaml:"endpoints"`
}

// WebhookEndpoint is one receiver.
type WebhookEndpoint struct {
	// ID names the endpoint in task ids and logs (an id: letters, digits,
	// . _ -).
	ID  string `yaml:"id"`
	URL string `yaml:"url"`
	// Secrets sign every delivery (one signature each, space-separated):
	// one secret, or two while the receiver moves to a new one.
	Secrets []Secret `yaml:"secrets"`
	// Events are the event types sent here; empty means all.
	Events []wire.EventType `yaml:"events"`
}

// Secret is a signing secret, "whsec_" and base64 of 24 to 64 random
// bytes. It prints as a mask, so that a stray log line or %v cannot leak
// it.
type Secret string

// String hides the secret.
func (Secret) String() string { return "whsec_[redacted]" }

// GoString hides the secret from %#v.
func (s Secret) GoString() string { return s.String() }

// LogValue hides the secret from slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON hides the secret from JSON.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// NewSecret makes a random signing secret (32 bytes).
func NewSecret() (Secret, error) { return NewSecretOf(32) }

// NewSecretOf makes a random signing secret of n bytes (24 to 64, as
// Standard Webhooks asks).
func NewSecretOf(n int) (Secret, error) {
	if n < 24 || n > 64 {
		return "", fmt.Errorf("%w: a secret has 24 to 64 bytes, not %d", ErrWebhooks, n)
	}
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("workers: new secret: %w", err)
	}
	return Secret("whsec_" + base64.StdEncoding.EncodeToString(b)), nil
}

var endpointIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// eventIDPattern is the form of event ids EventID makes.
var eventIDPattern = regexp.MustCompile(`^msg_[0-9a-f]{32}$`)

// Validate reports the first mistake in c.
func (c *WebhookConfig) Validate() error {
	switch {
	case c.Timeout < 0 || c.Timeout > time.Minute:
		return fmt.Errorf("%w: timeout %s: want up to 60 s", ErrWebhooks, c.Timeout)
	case c.Concurrency < 0 || c.Concurrency > 64:
		return fmt.Errorf("%w: concurrency %d: want 1 to 64", ErrWebhooks, c.Concurrency)
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%w: base_url %q: want http(s)://host", ErrWebhooks, c.BaseURL)
		}
	}
	for i, d := range c.Retry {
		if d <= 0 || d > 24*time.Hour {
			return fmt.Errorf("%w: retry %d: %s: want more than 0 and at most 24 h", ErrWebhooks, i+1, d)
		}
	}
	seen := map[string]bool{}
	for i, e := range c.Endpoints {
		where := fmt.Sprintf("endpoint %d", i+1)
		if !endpointIDPattern.MatchString(e.ID) || seen[e.ID] {
			return fmt.Errorf("%w: %s: id %q: want a unique id (letters, digits, . _ -)", ErrWebhooks, where, e.ID)
		}
		seen[e.ID] = true
		u, err := url.Parse(e.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
			return fmt.Errorf("%w: %s (%s): url: want http(s)://host/path, without user or fragment", ErrWebhooks, where, e.ID)
		}
		if len(e.Secrets) < 1 || len(e.Secrets) > 2 {
			return fmt.Errorf("%w: %s (%s): want one secret, or two while rotating", ErrWebhooks, where, e.ID)
		}
		for j, s := range e.Secrets {
			if err := checkSecret(s); err != nil {
				return fmt.Errorf("%w: %s (%s): secret %d: %w", ErrWebhooks, where, e.ID, j+1, err)
			}
		}
		for _, t := range e.Events {
			if !t.Known() {
				return fmt.Errorf("%w: %s (%s): unknown event %q", ErrWebhooks, where, e.ID, t)
			}
		}
	}
	return nil
}

func checkSecret(s Secret) error {
	raw, ok := strings.CutPrefix(string(s), "whsec_")
	key, err := base64.StdEncoding.DecodeString(raw)
	if !ok || err != nil || len(key) < 24 || len(key) > 64 {
		return errors.New("want whsec_ and base64 of 24 to 64 random bytes (blindpack webhooks secret)")
	}
	return nil
}

// LoadWebhooks reads a webhooks file (YAML), strictly: unknown keys are
// errors, and so is a retry schedule shorter than 24 hours in all.
func LoadWebhooks(path string) (*WebhookConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWebhooks, err)
	}
	return ParseWebhooks(data)
}

// ParseWebhooks parses the YAML of a webhooks file (see WebhookConfig).
func ParseWebhooks(data []byte) (*WebhookConfig, error) {
	var c WebhookConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		// The YAML error may quote a line of the file, a secret perhaps.
		return nil, fmt.Errorf("%w: not a webhooks file (%s)", ErrWebhooks, yamlProblem(err))
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var total time.Duration
	for _, d := range c.retry() {
		total += d
	}
	if total < minWebhookRetry {
		return nil, fmt.Errorf("%w: retry: %s in all; a delivery must be retried for at least 24 h", ErrWebhooks, total)
	}
	return &c, nil
}

// yamlProblem keeps the line numbers of a YAML error and drops what it
// quotes.
func yamlProblem(err error) string {
	lines := regexp.MustCompile(`line \d+`).FindAllString(err.Error(), 3)
	if len(lines) == 0 {
		return "syntax"
	}
	return strings.Join(lines, ", ")
}

func (c *WebhookConfig) timeout() time.Duration {
	if c.Timeout == 0 {
		return 10 * time.Second
	}
	return c.Timeout
}

func (c *WebhookConfig) concurrency() int {
	if c.Concurrency == 0 {
		return 4
	}
	return c.Concurrency
}

func (c *WebhookConfig) retry() []time.Duration {
	if len(c.Retry) == 0 {
		return DefaultWebhookRetry
	}
	return c.Retry
}

func (c *WebhookConfig) endpoint(id string) (WebhookEndpoint, bool) {
	for _, e := range c.Endpoints {
		if e.ID == id {
			return e, true
		}
	}
	return WebhookEndpoint{}, false
}

// taskTimeout is the asynq timeout of a delivery: the attempt's, plus
// room to sign and to be cancelled, in whole seconds (asynq keeps seconds).
func (c *WebhookConfig) taskTimeout() time.Duration {
	return (c.timeout() + 5*time.Second + time.Second - 1).Truncate(time.Second)
}

// link is a link in an event: absolute when BaseURL is set.
func (c *WebhookConfig) link(path string) string {
	if c == nil {
		return path
	}
	return strings.TrimRight(c.BaseURL, "/") + path
}

// link is a link in an event of w (relative when w is nil: no event is
// sent then).
func (w *Webhooks) link(path string) string {
	if w == nil {
		return path
	}
	return w.Config.link(path)
}

// EventID is an event's id: the same for the same parts, so that the task
// that emits an event can run again (after a crash, on a retry) and the
// receivers see the same id and drop the repeat.
func EventID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "msg_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Webhooks emits events: one delivery task per event and endpoint that
// subscribed to its type. A nil *Webhooks emits nothing.
type Webhooks struct {
	Config *WebhookConfig
	Queue  *asynq.Client
	// Now stamps events (default time.Now).
	Now func() time.Time
}

// Event is one event to emit.
type Event struct {
	// ID is the event's id (EventID of what makes it unique).
	ID   string
	Type wire.EventType
	// Data is the event's data (wire.SubmissionData, wire.ResultData).
	Data any
	// Campaign, ApplicantID and SubmissionID label the deliveries for
	// administrators.
	Campaign, ApplicantID, SubmissionID string
}

// Emit queues the event's deliveries. A delivery queued before (the same
// event id and endpoint) is not queued again.
func (w *Webhooks) Emit(ctx context.Context, ev Event) error {
	if w == nil || w.Config == nil {
		return nil
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	data, err := json.Marshal(ev.Data)
	if err != nil {
		return fmt.Errorf("workers: event data: %w", err)
	}
	body, err := json.Marshal(wire.Event{Type: ev.Type, Timestamp: now().UTC().Truncate(time.Second), Data: data})
	if err != nil {
		return fmt.Errorf("workers: event: %w", err)
	}
	for _, e := range w.Config.Endpoints {
		if len(e.Events) > 0 && !slices.Contains(e.Events, ev.Type) {
			continue
		}
		p := WebhookPayload{Endpoint: e.ID, EventID: ev.ID, EventType: ev.Type, Campaign: ev.Campaign, ApplicantID: ev.ApplicantID,
			SubmissionID: ev.SubmissionID, Body: body}
		task, err := NewWebhookTask(p, len(w.Config.retry()), w.Config.taskTimeout())
		if err != nil {
			return err
		}
		if _, err := w.Queue.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("workers: queue webhook %s for %s: %w", ev.Type, e.ID, err)
		}
	}
	return nil
}

// submissionEvents maps a report's status to its event.
var submissionEvents = map[pipeline.Status]wire.EventType{
	pipeline.Accepted: wire.EventSubmissionAccepted,
	pipeline.Rejected: wire.EventSubmissionReturned,
	pipeline.Refused:  wire.EventSubmissionRefused,
	pipeline.Held:     wire.EventSubmissionHeld,
}

// SubmissionDecided emits the event of a written report: accepted,
// returned (rejected) or refused. run names the task run that wrote it
// (its asynq task id), so that a re-run of the same task emits the same
// event id; app, when known, gives a return's count and deadline.
func (w *Webhooks) SubmissionDecided(ctx context.Context, run string, rep *pipeline.Report, app *state.Application, maxReturns int) error {
	typ, ok := submissionEvents[rep.Status]
	if w == nil || !ok {
		return nil
	}
	d := wire.SubmissionData{Campaign: rep.Campaign, ApplicantID: rep.ApplicantID, SubmissionID: rep.SubmissionID,
		Status: string(rep.Status), Codes: findingCodes(rep), Links: wire.Links{"submission": w.Config.link("/v1/submissions/" + rep.SubmissionID)}}
	if typ == wire.EventSubmissionReturned && app != nil && app.Returns > 0 {
		d.Returns, d.MaxReturns = app.Returns, maxReturns
		if !app.Deadline.IsZero() {
			at := app.Deadline.UTC()
			d.ResubmitBy = &at
		}
	}
	return w.Emit(ctx, Event{ID: EventID(string(typ), rep.SubmissionID, run), Type: typ, Data: d,
		Campaign: rep.Campaign, ApplicantID: rep.ApplicantID, SubmissionID: rep.SubmissionID})
}

// WebhookDeliverer processes TypeDeliverWebhook tasks: it signs the event
// with the endpoint's secrets and posts it. Any answer but 2xx, a
// redirect included, and any network error or timeout fails the attempt,
// which is retried on the configuration's schedule and then archived.
type WebhookDeliverer struct {
	Config *WebhookConfig
	// HTTP posts the events (default: a client with the configuration's
	// timeout that follows no redirect).
	HTTP *http.Client
	Log  *slog.Logger
	// Now is the clock the webhook-timestamp header is read from (default
	// time.Now).
	Now func() time.Time

	once sync.Once
	hc   *http.Client
}

// errNoEndpoint marks a delivery for an endpoint the configuration no
// longer has: no retry can help.
var errNoEndpoint = errors.New("workers: webhook endpoint not configured")

// ProcessTask implements asynq.Handler.
func (d *WebhookDeliverer) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := decodePayload[WebhookPayload](t)
	if err != nil {
		return err
	}
	e, ok := d.Config.endpoint(p.Endpoint)
	if !ok {
		return fmt.Errorf("%w: %s: %w", errNoEndpoint, p.Endpoint, asynq.SkipRetry)
	}
	retried, _ := asynq.GetRetryCount(ctx)
	err = d.deliver(ctx, e, p)
	log := d.log().With("endpoint", e.ID, "event_id", p.EventID, "type", p.EventType, "attempt", retried+1)
	if err != nil {
		log.Warn("webhook delivery failed", "err", err)
		return err
	}
	log.Info("webhook delivered")
	return nil
}

func (d *WebhookDeliverer) log() *slog.Logger {
	if d.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Log
}

// Sign returns the webhook-signature header of a delivery: "v1," and the
// base64 HMAC-SHA256 of "id.timestamp.body" under each secret, separated
// by spaces (the Standard Webhooks reference library's signer).
func Sign(secrets []Secret, id string, at time.Time, body []byte) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(string(s))
		if err != nil {
			return "", fmt.Errorf("%w: a secret cannot sign", ErrWebhooks)
		}
		sig, err := wh.Sign(id, at, body)
		if err != nil {
			return "", fmt.Errorf("%w: sign: %w", ErrWebhooks, err)
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

// deliver makes one attempt.
func (d *WebhookDeliverer) deliver(ctx context.Context, e WebhookEndpoint, p WebhookPayload) error {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	at := now()
	sig, err := Sign(e.Secrets, p.EventID, at, p.Body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, d.Config.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(p.Body))
	if err != nil {
		return fmt.Errorf("workers: webhook %s: %w: %w", e.ID, err, asynq.SkipRetry)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "blindpack-webhooks/1")
	req.Header.Set(standardwebhooks.HeaderWebhookID, p.EventID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := d.client().Do(req)
	if err != nil {
		// A *url.Error names the URL, which may carry the receiver's own
		// token: keep only what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("workers: webhook %s: no answer within %s: %w", e.ID, d.Config.timeout(), err)
		}
		return fmt.Errorf("workers: webhook %s: %w", e.ID, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("workers: webhook %s: the receiver answered %d", e.ID, resp.StatusCode)
	}
	return nil
}

func (d *WebhookDeliverer) client() *http.Client {
	d.once.Do(func() {
		d.hc = d.HTTP
		if d.hc == nil {
			d.hc = NewWebhookHTTPClient(d.Config)
		}
	})
	return d.hc
}

// NewWebhookHTTPClient is the client deliveries are posted with: the
// configuration's timeout for the whole attempt, dial and TLS handshake
// within it, no redirect followed (a 3xx fails the attempt), and as many
// idle connections per receiver as deliveries run at once.
func NewWebhookHTTPClient(c *WebhookConfig) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: c.timeout(), KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = c.timeout()
	tr.ResponseHeaderTimeout = c.timeout()
	tr.MaxIdleConnsPerHost = c.concurrency()
	return &http.Client{Transport: tr, Timeout: c.timeout(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// WebhookRetryDelay is the retry delay of deliveries: the configuration's
// schedule, with up to 10 % of jitter so that the deliveries failed by
// one outage do not all come back at the same second.
func WebhookRetryDelay(c *WebhookConfig) asynq.RetryDelayFunc {
	schedule := c.retry()
	return func(n int, _ error, _ *asynq.Task) time.Duration {
		d := schedule[min(n, len(schedule)-1)]
		return d + time.Duration(mrand.Int64N(int64(d)/10+1))
	}
}

// StartWebhookServer starts delivering webhooks: an asynq server that
// runs WebhookDeliverer and nothing else. It listens to QueueWebhooks
// only, with the configuration's concurrency, so that however slow the
// receivers are, the workers' own slots stay free. Stop it with Shutdown.
func StartWebhookServer(redis asynq.RedisConnOpt, c *WebhookConfig, sc ServerConfig, log *slog.Logger) (*asynq.Server, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	sc.Queues = map[string]int{QueueWebhooks: 1}
	sc.Concurrency = c.concurrency()
	srv, err := newServer(redis, sc, WebhookRetryDelay(c), log)
	if err != nil {
		return nil, err
	}
	mux := asynq.NewServeMux()
	mux.Handle(TypeDeliverWebhook, &WebhookDeliverer{Config: c, Log: log})
	if err := srv.Start(mux); err != nil {
		return nil, fmt.Errorf("workers: start webhook deliveries: %w", err)
	}
	return srv, nil
}
