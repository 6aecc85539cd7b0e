package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/workers"
)

// submitted is the answer to POST /v1/submissions.
type submitted struct {
	Status       string `json:"status"` // "queued" or "already queued"
	SubmissionID string `json:"submission_id"`
	Campaign     string `json:"campaign"`
	ApplicantID  string `json:"applicant_id"`
	// Href is where the state and report are read.
	Href string `json:"href"`
}

// postSubmission enqueues a submission document whose files are already
// in the uploads bucket (the upload service's job). The same document
// twice is one job: the second answer is 200 "already queued".
func (s *Server) postSubmission(w http.ResponseWriter, r *http.Request, p Principal) {
	doc, ok := readBody(w, r, s.cfg.MaxSubmissionBytes)
	if !ok {
		return
	}
	sub := workers.Submitter{Uploads: s.d.Buckets.Uploads, Client: s.d.Queue, State: s.d.State, Actor: p.Actor(), Now: s.now}
	pl, err := sub.Submit(r.Context(), doc)
	var fe *finding.Error
	status, code := "queued", http.StatusAccepted
	switch {
	case errors.Is(err, workers.ErrAlreadyQueued):
		status, code = "already queued", http.StatusOK
	case errors.Is(err, workers.ErrConflict):
		writeError(w, http.StatusConflict, "another submission document was already submitted under this submission_id")
		return
	case errors.As(err, &fe):
		// The finding's code and value never quote the document.
		msg := string(fe.Code)
		if fe.Value != "" {
			msg += ": " + fe.Value
		}
		writeError(w, http.StatusBadRequest, "not a blindpack/submission@1 document: "+msg)
		return
	case err != nil && !(pipeline.ValidID(pl.Campaign) && pipeline.ValidID(pl.ApplicantID) && pipeline.ValidID(pl.SubmissionID)):
		writeError(w, http.StatusBadRequest, "campaign, applicant_id and submission_id must be ids (letters, digits, . _ -)")
		return
	case err != nil:
		s.internalError(w, r, "submit", err)
		return
	}
	writeJSON(w, code, submitted{Status: status, SubmissionID: pl.SubmissionID, Campaign: pl.Campaign, ApplicantID: pl.ApplicantID,
		Href: "/v1/submissions/" + pl.SubmissionID})
}

// submissionView is the answer to GET /v1/submissions/{id}.
type submissionView struct {
	SubmissionID string    `json:"submission_id"`
	Campaign     string    `json:"campaign"`
	ApplicantID  string    `json:"applicant_id"`
	SubmittedAt  time.Time `json:"submitted_at"`
	// State is where the submission is: queued, processing, retrying,
	// failed (archived task: an administrator must look), or the report's
	// status — accepted, rejected, refused.
	State       pipeline.SubmissionState `json:"state"`
	Task        *taskView                `json:"task,omitempty"`
	Application applicationView          `json:"application"`
	// Report is the blindpack/report@1 document, once written.
	Report json.RawMessage `json:"report,omitempty"`
}

type taskView struct {
	ID      string `json:"id"`
	Queue   string `json:"queue"`
	State   string `json:"state"`
	Retried int    `json:"retried"`
}

type applicationView struct {
	Status         pipeline.ApplicationStatus `json:"status"`
	Returns        int                        `json:"returns"`
	Deadline       *time.Time                 `json:"deadline,omitempty"`
	LastSubmission string                     `json:"last_submission,omitempty"`
	Submissions    map[string]pipeline.Status `json:"submissions"`
}

func viewApplication(a state.Application) applicationView {
	v := applicationView{Status: a.Status, Returns: a.Returns, LastSubmission: a.Last, Submissions: a.Submissions}
	if !a.Deadline.IsZero() {
		d := a.Deadline.UTC()
		v.Deadline = &d
	}
	return v
}

// getSubmission answers a submission's state, its application's state and
// its report. Only the upload service and administrators may ask.
func (s *Server) getSubmission(w http.ResponseWriter, r *http.Request, _ Principal) {
	id := r.PathValue("id")
	if !pipeline.ValidID(id) {
		writeError(w, http.StatusBadRequest, "invalid submission id")
		return
	}
	ctx := r.Context()
	loc, err := s.d.State.Locate(ctx, id)
	if errors.Is(err, state.ErrUnknownSubmission) {
		writeError(w, http.StatusNotFound, "no such submission")
		return
	} else if err != nil {
		s.internalError(w, r, "locate submission", err)
		return
	}
	app, err := s.d.State.Get(ctx, loc.Campaign, loc.ApplicantID)
	if err != nil {
		s.internalError(w, r, "application state", err)
		return
	}
	v := submissionView{SubmissionID: id, Campaign: loc.Campaign, ApplicantID: loc.ApplicantID, SubmittedAt: loc.SubmittedAt.UTC(),
		Application: viewApplication(app)}
	rep, raw, err := s.report(ctx, loc.Campaign, loc.ApplicantID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		s.internalError(w, r, "read report", err)
		return
	default:
		v.Report = raw
		if rep.Status == pipeline.Accepted && rep.AnonCode != "" {
			// Remember whose packet this code names, for assignments.
			if err := s.d.State.IndexAnon(ctx, rep.Campaign, map[string]string{rep.AnonCode: rep.ApplicantID}); err != nil {
				s.log.Warn("index anonymous code", "err", err)
			}
		}
	}
	pr, err := workers.SubmissionProgress(ctx, s.d.Inspector, s.d.State, id, rep)
	if err != nil {
		s.internalError(w, r, "task info", err)
		return
	}
	v.State = pr.State
	if info := pr.Task; info != nil {
		v.Task = &taskView{ID: info.ID, Queue: info.Queue, State: info.State.String(), Retried: info.Retried}
	}
	writeJSON(w, http.StatusOK, v)
}

// maxReportBytes bounds a report read back; one with hundreds of findings
// is tens of KiB.
const maxReportBytes = 8 << 20

// report reads and parses the report of a submission.
func (s *Server) report(ctx context.Context, campaign, applicant, submission string) (*pipeline.Report, []byte, error) {
	rc, _, err := s.d.Buckets.Reports.Get(ctx, storage.ReportKey(campaign, applicant, submission))
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxReportBytes))
	if err != nil {
		return nil, nil, fmt.Errorf("api: read report: %w", err)
	}
	rep, err := pipeline.ParseReport(data)
	if err != nil {
		return nil, nil, err
	}
	return rep, data, nil
}

// reprocessRequest is the body of POST /v1/submissions/{id}/reprocess.
type reprocessRequest struct {
	// Overrides accept pages the clarity check flagged: material is the
	// 0-based position in the submission, page 1-based in its file.
	Overrides []struct {
		Material int `json:"material"`
		Page     int `json:"page"`
	} `json:"overrides"`
	// Reason is required with overrides; it goes into the report and the
	// audit trail.
	Reason string `json:"reason"`
}

// reprocess queues a submission again on an administrator's request, with
// their overrides, through workers.Reprocess (which audits the request and
// each override); the request's address is audited beside them.
func (s *Server) reprocess(w http.ResponseWriter, r *http.Request, p Principal) {
	id := r.PathValue("id")
	if !pipeline.ValidID(id) {
		writeError(w, http.StatusBadRequest, "invalid submission id")
		return
	}
	var req reprocessRequest
	if r.ContentLength != 0 && !decodeJSON(w, r, &req) {
		return
	}
	if len(req.Overrides) > 0 && strings.TrimSpace(req.Reason) == "" {
		writeError(w, http.StatusBadRequest, "overrides need a reason")
		return
	}
	var overrides []pipeline.Override
	for _, o := range req.Overrides {
		if o.Material < 0 || o.Page < 1 {
			writeError(w, http.StatusBadRequest, "an override names a material (0-based) and a page (1-based)")
			return
		}
		overrides = append(overrides, pipeline.Override{Material: o.Material, Page: o.Page, Reason: strings.TrimSpace(req.Reason)})
	}
	ctx := r.Context()
	loc, err := s.d.State.Locate(ctx, id)
	if errors.Is(err, state.ErrUnknownSubmission) {
		writeError(w, http.StatusNotFound, "no such submission")
		return
	} else if err != nil {
		s.internalError(w, r, "locate submission", err)
		return
	}
	task, err := workers.Reprocess(ctx, s.d.Queue, s.d.State, id, p.Actor(), overrides)
	if errors.Is(err, workers.ErrUnknownSubmission) {
		writeError(w, http.StatusNotFound, "no such submission")
		return
	} else if err != nil {
		s.internalError(w, r, "reprocess", err)
		return
	}
	ev := state.Event{Actor: p.Actor(), Action: "reprocess_requested", Submission: id,
		Detail: fmt.Sprintf("through the API: task %s, %d override(s)", task, len(overrides)), From: s.clientAddr(r)}
	if err := s.d.State.Audit(ctx, loc.Campaign, loc.ApplicantID, ev); err != nil {
		s.internalError(w, r, "audit", err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "queued", "submission_id": id, "task_id": task, "overrides": len(overrides)})
}
