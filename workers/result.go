package workers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"unicode"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/pipeline/result"
	"github.com/blindpack/blindpack/storage"
)

// BatchKey is where a batch document is stored in the uploads bucket: by
// campaign and content hash, so storing the same document twice is one
// object and a corrected document is another.
func BatchKey(campaign string, doc []byte) string {
	sum := sha256.Sum256(doc)
	return path.Join("batches", campaign, hex.EncodeToString(sum[:8])+".json")
}

// ResultKey is where the signed file of a document number is published in
// the results bucket: <campaign>/<doc number>.pdf, with the document
// number's letters and digits kept (头人社发〔2024〕12号 → 头人社发-2024-12号.pdf)
// so that the downloaded file has a name people recognise.
func ResultKey(campaign, docNumber string) string {
	var b strings.Builder
	dash := false
	for _, r := range docNumber {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	name := strings.Trim(b.String(), "-")
	if name == "" {
		name = "result"
	}
	return path.Join(campaign, name+".pdf")
}

// ResultHandler processes TypeIssueResult tasks.
type ResultHandler struct {
	Issuer  *result.Issuer
	Uploads storage.Store
	Results storage.Store
	Log     *slog.Logger
	// Webhooks, when set, tells the configured endpoints about every file
	// issued (result.issued); NewMux takes it from the Handler.
	Webhooks *Webhooks
}

// errNoSigner is the error of a result task taken by a worker that has no
// signing keys: transient, as another worker may have them.
var errNoSigner = errors.New("workers: this worker has no signing keys for result:issue")

// resultHandler is what NewMux registers for TypeIssueResult: h.Result, or
// on a worker without keys a handler that fails the task so that it is
// retried, perhaps on a worker that has them. A worker without keys does
// not take from the signing queue, so only a task queued elsewhere gets
// there.
func (h *Handler) resultHandler() asynq.Handler {
	if h.Result != nil {
		if h.Result.Webhooks == nil {
			h.Result.Webhooks = h.Webhooks
		}
		return h.Result
	}
	return unavailable(errNoSigner)
}

// unavailable is the handler of a task type this worker is not set up to
// run: every task fails with a transient error, so that asynq retries it,
// perhaps on a worker that is.
func unavailable(err error) asynq.Handler {
	return asynq.HandlerFunc(func(context.Context, *asynq.Task) error { return err })
}

// errBadBatch marks a batch that can never be issued as it is: it goes to
// the archive at once with the problems as its error, for an administrator
// to read, fix and enqueue again.
var errBadBatch = errors.New("workers: batch cannot be issued")

// ProcessTask implements asynq.Handler.
func (h *ResultHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := decodePayload[IssueResultPayload](t)
	if err != nil {
		return err
	}
	err = h.issue(ctx, p)
	// A bad batch, or a signer whose certificate is revoked, cannot be
	// helped by retrying: archive at once for an administrator. A TSA or
	// CRL server that did not answer is retried like any outage.
	if errors.Is(err, result.ErrInvalidBatch) || errors.Is(err, errBadBatch) || errors.Is(err, result.ErrSignerRevoked) {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return classify(err)
}

func (h *ResultHandler) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

// issue reads the batch, makes the signed file in memory (a few hundred
// KiB even for thousands of persons) and publishes it in one PUT, so the
// results bucket never holds a partial or unsigned file. Re-running writes
// the same key again: the file differs only in its signing time.
func (h *ResultHandler) issue(ctx context.Context, p IssueResultPayload) error {
	rc, _, err := h.Uploads.Get(ctx, p.BatchKey)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("%w: no batch document at %s", errBadBatch, p.BatchKey)
	case err != nil:
		return fmt.Errorf("workers: read batch: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(rc, 8<<20))
	rc.Close()
	if err != nil {
		return fmt.Errorf("workers: read batch: %w", err)
	}
	b, err := result.ParseBatch(data)
	if err != nil {
		return err
	}
	if b.Campaign != p.Campaign {
		return fmt.Errorf("%w: batch is of campaign %q, the task of %q", errBadBatch, b.Campaign, p.Campaign)
	}
	key := p.OutputKey
	if key == "" {
		key = ResultKey(b.Campaign, b.DocNumber)
	}
	var out bytes.Buffer
	info, err := h.Issuer.Issue(ctx, b, &out)
	if err != nil {
		return err
	}
	if err := h.Results.Put(ctx, key, bytes.NewReader(out.Bytes()), int64(out.Len()), storage.PutOptions{ContentType: "application/pdf"}); err != nil {
		return fmt.Errorf("workers: publish result: %w", err)
	}
	h.log().Info("result published", "campaign", b.Campaign, "doc_number", b.DocNumber, "key", key,
		"pages", info.Pages, "bytes", info.Bytes, "sha256", info.SHA256, "level", info.Level, "timestamp", info.Timestamp)
	// The event's id is the task's: a retry that signs the file again
	// (another signing time, another digest) is still the same event.
	run, ok := asynq.GetTaskID(ctx)
	if !ok {
		run = key
	}
	// The file is public once published (`serve`'s /results/ pages), at a
	// path made from its key alone: link to it.
	links := wire.Links{}
	if p := wire.ResultFilePath(key); p != "" {
		links["file"] = h.Webhooks.link(p)
	}
	return h.Webhooks.Emit(ctx, Event{ID: EventID(string(wire.EventResultIssued), run), Type: wire.EventResultIssued, Campaign: b.Campaign,
		Data: wire.ResultData{Campaign: b.Campaign, DocNumber: b.DocNumber, OutputKey: key, SHA256: info.SHA256, Persons: len(b.Approved),
			Pages: info.Pages, Links: links}})
}

// ResultSubmitter is what an administrator's tool does to issue a result
// in production: store the batch document and enqueue its task.
type ResultSubmitter struct {
	Uploads storage.Store
	Client  *asynq.Client
}

// Submit validates doc, stores it in the uploads bucket and enqueues
// TypeIssueResult. A bad document is refused here, before anything is
// stored.
func (s *ResultSubmitter) Submit(ctx context.Context, doc []byte) (IssueResultPayload, error) {
	b, err := result.ParseBatch(doc)
	if err != nil {
		return IssueResultPayload{}, err
	}
	p := IssueResultPayload{Campaign: b.Campaign, BatchKey: BatchKey(b.Campaign, doc), OutputKey: ResultKey(b.Campaign, b.DocNumber)}
	task, err := NewIssueResultTask(p)
	if err != nil {
		return p, fmt.Errorf("workers: submit result: %w", err)
	}
	if err := s.Uploads.Put(ctx, p.BatchKey, bytes.NewReader(doc), int64(len(doc)), storage.PutOptions{ContentType: "application/json"}); err != nil {
		return p, fmt.Errorf("workers: store batch: %w", err)
	}
	if _, err := s.Client.EnqueueContext(ctx, task); err != nil {
		return p, fmt.Errorf("workers: enqueue result: %w", err)
	}
	return p, nil
}
