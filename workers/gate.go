package workers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/storage"
)

// The OCR gate. With it on (Handler.OCRQueue set), an accepted packet is
// staged in the uploads bucket, beside the originals, and its report kept
// there too; the reading (TypeOCRSubmission with Gate) then either
// publishes the packet and writes the accepted report, or writes a held
// report and leaves the packet staged for an administrator, who releases
// or returns it (TypeResolveHeld). An OCR error is a task error: retried,
// then archived for an administrator, never a return.

// gated reports whether accepted packets wait for the OCR gate.
func (h *Handler) gated() bool { return h.OCRQueue != nil }

// errNoGate is the error of a gate reading taken by an OCR handler that
// is not a worker's (no state, no webhooks to decide with): transient.
var errNoGate = errors.New("workers: this OCR handler cannot decide a gate (no worker behind it)")

// stage writes an accepted packet and its report to the staging keys and
// queues the packet's reading. Nothing is recorded and no report is
// written: until the gate decides, the submission is processing.
func (h *Handler) stage(ctx context.Context, p ProcessPayload, f *os.File, rep *pipeline.Report) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("workers: rewind packet: %w", err)
	}
	packetKey := storage.StagedPacketKey(p.Campaign, p.ApplicantID, p.SubmissionID)
	if err := h.Buckets.Uploads.Put(ctx, packetKey, f, rep.Packet.Bytes, storage.PutOptions{ContentType: "application/pdf"}); err != nil {
		return fmt.Errorf("workers: stage packet: %w", err)
	}
	rep.Packet.Location = ""
	data := rep.Marshal()
	if err := h.Buckets.Uploads.Put(ctx, storage.StagedReportKey(p.Campaign, p.ApplicantID, p.SubmissionID), bytes.NewReader(data), int64(len(data)),
		storage.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("workers: stage report: %w", err)
	}
	run := runOf(ctx, p.SubmissionID)
	err := EnqueueOCR(ctx, h.OCRQueue, OCRPayload{Campaign: p.Campaign, ApplicantID: p.ApplicantID, SubmissionID: p.SubmissionID,
		SubmissionKey: p.SubmissionKey, PacketKey: packetKey, Gate: true, Run: run})
	if err != nil && !errors.Is(err, ErrAlreadyQueued) {
		return fmt.Errorf("workers: queue OCR: %w", err)
	}
	h.log().Info("packet staged for the OCR gate", "submission", p.SubmissionID, "campaign", p.Campaign, "anon_code", rep.AnonCode, "run", run)
	return nil
}

// gate reads a staged packet and decides: published and accepted when
// OCR finds nothing outside the masks, held otherwise. A reading whose
// staged report is gone was decided already (a re-run after the
// decision, or a newer run decided without a gate) and does nothing.
func (o *OCRHandler) gate(ctx context.Context, p OCRPayload, sub *pipeline.Submission) error {
	h := o.owner
	if h == nil {
		return errNoGate
	}
	log := o.log().With("submission", p.SubmissionID, "campaign", p.Campaign, "task", TypeOCRSubmission, "gate", true)
	rep, err := readReport(ctx, o.Buckets.Uploads, storage.StagedReportKey(p.Campaign, p.ApplicantID, p.SubmissionID))
	if errors.Is(err, storage.ErrNotFound) {
		log.Info("nothing staged: decided already")
		return nil
	} else if err != nil {
		return err
	}
	if rep.Status != pipeline.Accepted || rep.Packet == nil {
		return badPayload(errors.New("the staged report describes no accepted packet"))
	}
	tmp, sum, err := o.fetchFrom(ctx, o.Buckets.Uploads, p.PacketKey)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if sum != rep.Packet.SHA256 {
		// Another run is staging this submission: its packet and report
		// are not written together. Transient: the next attempt reads
		// them both again.
		return errors.New("workers: the staged packet differs from its staged report")
	}
	doc, err := o.Check(ctx, sub, rep, tmp)
	if err != nil {
		return err
	}
	if err := o.writeDocument(ctx, p, doc); err != nil {
		return err
	}
	pp := ProcessPayload{Campaign: p.Campaign, ApplicantID: p.ApplicantID, SubmissionID: p.SubmissionID, SubmissionKey: p.SubmissionKey}
	// Looked up once: the superseded check and the record both order by it.
	if pp.SubmittedAt, err = h.submittedAt(ctx, pp); err != nil {
		return err
	}
	if len(doc.Hits) == 0 {
		f, err := os.Open(tmp)
		if err != nil {
			return fmt.Errorf("workers: open packet: %w", err)
		}
		err = h.publishUnlessSuperseded(ctx, pp, f, rep)
		f.Close()
		if err != nil {
			return err
		}
	} else {
		rep.Status = pipeline.Held
	}
	run := p.Run
	if run == "" {
		run = p.SubmissionID
	}
	if err := h.decide(ctx, run, pp, sub, rep); err != nil {
		return err
	}
	log.Info("OCR gate decided", "status", rep.Status, "hits", len(doc.Hits), "pages", doc.Pages, "duration_ms", doc.DurationMS)
	return h.dropStaged(ctx, pp, rep.Status != pipeline.Held)
}

// dropStaged removes the staged report and, unless the submission is
// held (its packet waits for an administrator), the staged packet.
func (h *Handler) dropStaged(ctx context.Context, p ProcessPayload, packet bool) error {
	keys := []string{storage.StagedReportKey(p.Campaign, p.ApplicantID, p.SubmissionID)}
	if packet {
		keys = append(keys, storage.StagedPacketKey(p.Campaign, p.ApplicantID, p.SubmissionID))
	}
	for _, k := range keys {
		if err := h.Buckets.Uploads.Delete(ctx, k); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("workers: drop staged object: %w", err)
		}
	}
	return nil
}

// readReport reads and parses a report from a store.
func readReport(ctx context.Context, s storage.Store, key string) (*pipeline.Report, error) {
	data, err := readObject(ctx, s, key, "report")
	if err != nil {
		return nil, err
	}
	rep, err := pipeline.ParseReport(data)
	if err != nil {
		return nil, badPayload(err)
	}
	return rep, nil
}

// readObject reads a document the workers wrote (a report, an OCR
// document), bounded at 16 MiB.
func readObject(ctx context.Context, s storage.Store, key, what string) ([]byte, error) {
	rc, _, err := s.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("workers: read %s: %w", what, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("workers: read %s: %w", what, err)
	}
	return data, nil
}
