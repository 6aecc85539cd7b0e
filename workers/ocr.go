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
	"os"
	"path"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/storage"
)

// EnqueueOCR queues the OCR of a submission's packet. It returns
// ErrAlreadyQueued when the submission's OCR task was queued before.
func EnqueueOCR(ctx context.Context, c *asynq.Client, p OCRPayload) error {
	task, err := NewOCRTask(p)
	if err != nil {
		return err
	}
	if _, err := c.EnqueueContext(ctx, task); err != nil {
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			return ErrAlreadyQueued
		}
		return fmt.Errorf("workers: enqueue OCR: %w", err)
	}
	return nil
}

// OCRReportKey is where the OCR document of a submission is written in the
// reports bucket: beside its report, as ocr/<submission>.json.
func OCRReportKey(campaign, applicantID, submissionID string) string {
	// Under its own directory: a submission id may contain dots, so
	// "<id>.ocr.json" beside the reports could be another submission's report.
	return path.Join(campaign, applicantID, "ocr", submissionID+".json")
}

// OCRHandler processes TypeOCRSubmission tasks, and checks packets for the
// CLI. The zero value reads with Tesseract and pdftoppm once Buckets are
// set (NewMux takes them from the Handler).
type OCRHandler struct {
	// Engine defaults to &ocr.Tesseract{}.
	Engine ocr.Engine
	// Renderer defaults to &ocr.Poppler{}.
	Renderer ocr.Renderer
	// DPI renders pages; default ocr.DefaultDPI.
	DPI int
	// Workers is how many pages one task reads at once; default 1, as a
	// worker already runs one task per CPU.
	Workers int
	// Policy names the materials in messages; default the Handler's, or
	// policy.Default().
	Policy  *policy.Policy
	Buckets storage.Buckets
	// TempDir holds the packet while it is read (default os.TempDir()).
	TempDir string
	Log     *slog.Logger
	// owner is the worker's Handler, which decides gate readings (state,
	// reports, webhooks); set by Handler.ocrHandler.
	owner *Handler
}

// errNoOCR is the error of an OCR task taken by a worker that does not run
// OCR: transient, as another worker may.
var errNoOCR = errors.New("workers: OCR is not enabled on this worker")

// ocrHandler is what NewMux registers for TypeOCRSubmission: h.OCR, with
// the fields it leaves zero taken from h (buckets, temp dir, log, policy),
// or on a worker without OCR a handler that hands the task back to the
// queue.
func (h *Handler) ocrHandler() asynq.Handler {
	if h.OCR == nil {
		return unavailable(errNoOCR)
	}
	o := *h.OCR
	// Field by field: comparing whole Buckets would panic on a store that
	// is not comparable.
	if o.Buckets.Uploads == nil {
		o.Buckets.Uploads = h.Buckets.Uploads
	}
	if o.Buckets.Packets == nil {
		o.Buckets.Packets = h.Buckets.Packets
	}
	if o.Buckets.Reports == nil {
		o.Buckets.Reports = h.Buckets.Reports
	}
	if o.TempDir == "" {
		o.TempDir = h.TempDir
	}
	if o.Log == nil {
		o.Log = h.Log
	}
	if o.Policy == nil && h.Pipeline != nil {
		o.Policy = h.Pipeline.Policy()
	}
	o.owner = h
	return &o
}

func (o *OCRHandler) log() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Log
}

// ProcessTask implements asynq.Handler.
func (o *OCRHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := decodePayload[OCRPayload](t)
	if err != nil {
		return err
	}
	return classify(o.process(ctx, p))
}

// process reads the packet and writes the OCR document in one PUT, last.
// Nothing to read — the submission was rejected, or a newer submission of
// the applicant has replaced the packet since — completes the task without
// a document.
func (o *OCRHandler) process(ctx context.Context, p OCRPayload) error {
	log := o.log().With("submission", p.SubmissionID, "campaign", p.Campaign, "task", TypeOCRSubmission)
	sub, err := o.submission(ctx, p)
	if err != nil {
		return err
	}
	if p.Gate {
		return o.gate(ctx, p, sub)
	}
	rep, err := readReport(ctx, o.Buckets.Reports, storage.ReportKey(p.Campaign, p.ApplicantID, p.SubmissionID))
	if err != nil {
		return err
	}
	if rep.Status != pipeline.Accepted || rep.Packet == nil {
		log.Info("no packet to read", "status", rep.Status)
		return nil
	}
	tmp, sum, err := o.fetchFrom(ctx, o.Buckets.Packets, p.PacketKey)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if sum != rep.Packet.SHA256 {
		log.Info("packet replaced since this submission's report; nothing to read")
		return nil
	}
	doc, err := o.Check(ctx, sub, rep, tmp)
	if err != nil {
		return err
	}
	if err := o.writeDocument(ctx, p, doc); err != nil {
		return err
	}
	log.Info("OCR document written", "anon_code", doc.AnonCode, "pages", doc.Pages, "hits", len(doc.Hits), "duration_ms", doc.DurationMS)
	return nil
}

// writeDocument writes the OCR document beside the submission's report,
// in one PUT.
func (o *OCRHandler) writeDocument(ctx context.Context, p OCRPayload, doc *ocr.Document) error {
	data := doc.Marshal()
	key := OCRReportKey(p.Campaign, p.ApplicantID, p.SubmissionID)
	if err := o.Buckets.Reports.Put(ctx, key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("workers: write OCR document: %w", err)
	}
	return nil
}

// submission reads the submission document. One that is gone or unusable
// can never be read: the task is archived at once.
func (o *OCRHandler) submission(ctx context.Context, p OCRPayload) (*pipeline.Submission, error) {
	rc, _, err := o.Buckets.Uploads.Get(ctx, p.SubmissionKey)
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrInvalidKey):
		return nil, badPayload(fmt.Errorf("submission document: %w", err))
	case err != nil:
		return nil, fmt.Errorf("workers: read submission: %w", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxSubmissionBytes+1))
	if err != nil {
		return nil, fmt.Errorf("workers: read submission: %w", err)
	}
	sub, err := pipeline.ParseSubmission(data)
	var fe *finding.Error
	switch {
	case len(data) > maxSubmissionBytes:
		return nil, badPayload(errors.New("submission document larger than 1 MiB"))
	case errors.As(err, &fe):
		return nil, badPayload(fmt.Errorf("submission document: %s", fe.Code))
	case err != nil:
		return nil, err
	case sub.Campaign != p.Campaign || sub.ApplicantID != p.ApplicantID || sub.SubmissionID != p.SubmissionID:
		return nil, badPayload(errors.New("submission document ids differ from the task's"))
	}
	return sub, nil
}

// fetchFrom copies a packet from a store into a temporary file, which
// pdftoppm needs, and returns its path and SHA-256.
func (o *OCRHandler) fetchFrom(ctx context.Context, store storage.Store, key string) (string, string, error) {
	rc, _, err := store.Get(ctx, key)
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrInvalidKey):
		return "", "", badPayload(fmt.Errorf("packet: %w", err))
	case err != nil:
		return "", "", fmt.Errorf("workers: read packet: %w", err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(o.TempDir, "blindpack-ocr-*.pdf")
	if err != nil {
		return "", "", fmt.Errorf("workers: temp file: %w", err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", "", fmt.Errorf("workers: read packet: %w", err)
	}
	return f.Name(), hex.EncodeToString(h.Sum(nil)), nil
}

// Check reads the packet file of an accepted submission and returns the
// OCR document: every material page of the packet (the cover is ours and
// is skipped), with that page's masks.
func (o *OCRHandler) Check(ctx context.Context, sub *pipeline.Submission, rep *pipeline.Report, packetPath string) (*ocr.Document, error) {
	if rep.Packet == nil {
		return nil, errors.New("workers: OCR: the report describes no packet")
	}
	pages, err := OCRPages(sub, rep.Packet)
	if err != nil {
		return nil, err
	}
	engine := o.Engine
	if engine == nil {
		engine = &ocr.Tesseract{}
	}
	dpi := o.DPI
	if dpi <= 0 {
		dpi = ocr.DefaultDPI
	}
	start := time.Now()
	hits, _, err := ocr.CheckPacket(ctx, packetPath, pages, ocr.Identity{Name: sub.Identity.Name, Employer: sub.Identity.Employer},
		ocr.PacketOptions{Engine: engine, Renderer: o.Renderer, DPI: dpi, Workers: o.Workers, Log: o.Log})
	if err != nil {
		return nil, fmt.Errorf("workers: OCR: %w", err)
	}
	pol := o.Policy
	if pol == nil {
		pol = policy.Default()
	}
	byPage := map[int]ocr.PacketPage{}
	for _, pp := range pages {
		byPage[pp.PacketPage] = pp
	}
	doc := &ocr.Document{Schema: ocr.DocumentSchema, Campaign: rep.Campaign, ApplicantID: rep.ApplicantID,
		SubmissionID: rep.SubmissionID, AnonCode: rep.AnonCode, PacketSHA256: rep.Packet.SHA256,
		Engine: ocr.Describe(ctx, engine), DPI: dpi, Pages: len(pages), Hits: []ocr.DocumentHit{}}
	for _, h := range hits {
		pp := byPage[h.Page]
		spec, _ := pol.Material(pp.Type)
		f := h.Finding(finding.Args{MaterialZH: spec.ShortZH, MaterialEN: spec.EN, Page: pp.Page})
		mat := pp.Material
		f.Material, f.Type = &mat, pp.Type
		doc.Hits = append(doc.Hits, ocr.DocumentHit{Finding: f, PacketPage: h.Page, Kind: h.Kind, Form: h.Form, Distance: h.Distance, Box: h.Box})
	}
	doc.DurationMS = time.Since(start).Milliseconds()
	return doc, nil
}

// OCRPages lists the material pages of a packet with the masks the
// applicant drew on each, from the submission and the packet's index.
func OCRPages(sub *pipeline.Submission, info *pipeline.PacketInfo) ([]ocr.PacketPage, error) {
	var pages []ocr.PacketPage
	for _, e := range info.Index {
		if e.Material < 0 || e.Material >= len(sub.Materials) || sub.Materials[e.Material].Type != e.Type {
			return nil, fmt.Errorf("workers: OCR: the packet index does not match the submission (material %d)", e.Material)
		}
		m := sub.Materials[e.Material]
		for _, pp := range e.Pages {
			page := ocr.PacketPage{PacketPage: pp[1], Material: e.Material, Type: e.Type, Page: pp[0]}
			for _, mk := range m.Masks {
				if mk.Page == pp[0] {
					page.Masks = append(page.Masks, ocr.Rect(mk.Rect))
				}
			}
			pages = append(pages, page)
		}
	}
	return pages, nil
}
