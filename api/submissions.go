package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/workers"
)

// postSubmission enqueues a submission document whose files are already
// in the uploads bucket (the upload service's job). The same document
// twice is one job: the second answer is 200 "already queued". Another
// document under the same id — or the same id for another applicant or
// campaign — is 409 and stores nothing.
func (s *Server) postSubmission(w http.ResponseWriter, r *http.Request, p Principal) {
	doc, ok := readJSONBody(w, r, s.cfg.MaxSubmissionBytes)
	if !ok {
		return
	}
	sub := workers.Submitter{Uploads: s.d.Buckets.Uploads, Client: s.d.Queue, State: s.d.State, Actor: p.Actor(), Now: s.now}
	pl, err := sub.Submit(r.Context(), doc)
	var fe *finding.Error
	status, code := wire.StatusQueued, http.StatusAccepted
	switch {
	case errors.Is(err, workers.ErrAlreadyQueued):
		status, code = wire.StatusAlreadyQueued, http.StatusOK
	case errors.Is(err, workers.ErrConflict):
		writeError(w, wire.CodeSubmissionConflict, "submission_id "+pl.SubmissionID+" is taken")
		return
	case errors.As(err, &fe):
		// The finding's code and value never quote the document.
		msg := string(fe.Code)
		if fe.Value != "" {
			msg += ": " + fe.Value
		}
		writeError(w, wire.CodeInvalidSubmission, msg)
		return
	case err != nil && !(pipeline.ValidID(pl.Campaign) && pipeline.ValidID(pl.ApplicantID) && pipeline.ValidID(pl.SubmissionID)):
		writeError(w, wire.CodeInvalidSubmission, "invalid_field: campaign, applicant_id and submission_id must be ids (letters, digits, . _ -)")
		return
	case err != nil:
		s.internalError(w, r, "submit", err)
		return
	}
	writeJSON(w, code, wire.Submitted{Status: status, SubmissionID: pl.SubmissionID, Campaign: pl.Campaign, ApplicantID: pl.ApplicantID,
		Href: "/v1/submissions/" + pl.SubmissionID})
}

func viewApplication(a state.Application) wire.Application {
	v := wire.Application{Status: string(a.Status), Returns: a.Returns, LastSubmission: a.Last, Submissions: make(map[string]string, len(a.Submissions))}
	for id, st := range a.Submissions {
		v.Submissions[id] = string(st)
	}
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
		writeError(w, wire.CodeInvalidParameter, "invalid submission id")
		return
	}
	ctx := r.Context()
	loc, err := s.d.State.Locate(ctx, id)
	if errors.Is(err, state.ErrUnknownSubmission) {
		writeError(w, wire.CodeUnknownSubmission, "")
		return
	} else if err != nil {
		s.internalError(w, r, "locate submission", err)
		return
	}
	// The report first: workers record the application's state before
	// they write the report, so a report read now is never newer than the
	// state read after it.
	rep, raw, rerr := s.report(ctx, loc.Campaign, loc.ApplicantID, id)
	if rerr != nil && !errors.Is(rerr, storage.ErrNotFound) {
		s.internalError(w, r, "read report", rerr)
		return
	}
	app, err := s.d.State.Get(ctx, loc.Campaign, loc.ApplicantID)
	if err != nil {
		s.internalError(w, r, "application state", err)
		return
	}
	v := wire.Submission{SubmissionID: id, Campaign: loc.Campaign, ApplicantID: loc.ApplicantID, SubmittedAt: loc.SubmittedAt.UTC(),
		Application: viewApplication(app)}
	if rerr == nil {
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
	v.State = string(pr.State)
	if info := pr.Task; info != nil {
		v.Task = &wire.Task{ID: info.ID, Queue: info.Queue, State: info.State.String(), Retried: info.Retried}
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

// reprocess queues a submission again on an administrator's request, with
// their overrides, through workers.Reprocess (which audits the request and
// each override); the request's address is audited beside them.
func (s *Server) reprocess(w http.ResponseWriter, r *http.Request, p Principal) {
	id := r.PathValue("id")
	if !pipeline.ValidID(id) {
		writeError(w, wire.CodeInvalidParameter, "invalid submission id")
		return
	}
	var req wire.ReprocessRequest
	if r.ContentLength != 0 && !decodeBody(w, r, maxSmallBody, &req) {
		return
	}
	ctx := r.Context()
	loc, err := s.d.State.Locate(ctx, id)
	if errors.Is(err, state.ErrUnknownSubmission) {
		writeError(w, wire.CodeUnknownSubmission, "")
		return
	} else if err != nil {
		s.internalError(w, r, "locate submission", err)
		return
	}
	overrides := make([]pipeline.Override, 0, len(req.Overrides))
	for _, o := range req.Overrides {
		overrides = append(overrides, pipeline.Override{Material: o.Material, Page: o.Page, Reason: strings.TrimSpace(req.Reason)})
	}
	if err := pipeline.CheckReason(req.Reason, len(overrides) > 0); err != nil {
		writeError(w, wire.CodeInvalidReason, err.Error())
		return
	}
	if len(overrides) > 0 {
		// Overrides are checked against the submission itself, as the
		// console does: the worker would archive a task naming material 999.
		sub, err := s.submissionDoc(ctx, loc.Key)
		var fe *finding.Error
		if errors.Is(err, storage.ErrNotFound) || errors.As(err, &fe) {
			// Nothing to accept pages of: the run will report the document.
			writeError(w, wire.CodeInvalidOverride, "the submission document is missing or malformed: reprocess without overrides")
			return
		} else if err != nil {
			s.internalError(w, r, "read submission", err)
			return
		}
		if err := pipeline.CheckOverrides(sub, overrides); errors.Is(err, pipeline.ErrBadReason) {
			writeError(w, wire.CodeInvalidReason, err.Error())
			return
		} else if err != nil {
			writeError(w, wire.CodeInvalidOverride, err.Error())
			return
		}
	}
	task, err := workers.Reprocess(ctx, s.d.Queue, s.d.State, id, p.Actor(), overrides)
	if errors.Is(err, workers.ErrUnknownSubmission) {
		writeError(w, wire.CodeUnknownSubmission, "")
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
	writeJSON(w, http.StatusAccepted, wire.Reprocessed{Status: wire.StatusQueued, SubmissionID: id, TaskID: task, Overrides: len(overrides)})
}

// submissionDoc reads and parses a submission document from the uploads
// bucket; it is kept in memory only (it holds the identity).
func (s *Server) submissionDoc(ctx context.Context, key string) (*pipeline.Submission, error) {
	rc, _, err := s.d.Buckets.Uploads.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("api: read submission: %w", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, s.cfg.MaxSubmissionBytes+1))
	if err != nil {
		return nil, fmt.Errorf("api: read submission: %w", err)
	}
	sub, err := pipeline.ParseSubmission(data)
	if err != nil {
		return nil, fmt.Errorf("api: submission: %w", err)
	}
	return sub, nil
}

// release and giveBack are an administrator's decisions on a held
// submission (workers.Resolve): the reason is required and audited with
// the caller's address; the decision runs on the critical queue.
func (s *Server) release(w http.ResponseWriter, r *http.Request, p Principal) {
	s.resolveHeld(w, r, p, workers.Release)
}

func (s *Server) giveBack(w http.ResponseWriter, r *http.Request, p Principal) {
	s.resolveHeld(w, r, p, workers.Return)
}

func (s *Server) resolveHeld(w http.ResponseWriter, r *http.Request, p Principal, d workers.Decision) {
	id := r.PathValue("id")
	if !pipeline.ValidID(id) {
		writeError(w, wire.CodeInvalidParameter, "invalid submission id")
		return
	}
	var req wire.ResolveRequest
	if !decodeBody(w, r, maxSmallBody, &req) {
		return
	}
	task, err := workers.Resolve(r.Context(), s.d.Queue, s.d.State, s.d.Buckets.Reports, id, d, p.Actor(), req.Reason, s.clientAddr(r))
	switch {
	case errors.Is(err, pipeline.ErrBadReason):
		writeError(w, wire.CodeInvalidReason, err.Error())
	case errors.Is(err, workers.ErrUnknownSubmission):
		writeError(w, wire.CodeUnknownSubmission, "")
	case errors.Is(err, workers.ErrNotHeld):
		writeError(w, wire.CodeNotHeld, "")
	case err != nil:
		s.internalError(w, r, string(d), err)
	default:
		writeJSON(w, http.StatusAccepted, wire.Resolved{Status: wire.StatusQueued, SubmissionID: id, Decision: string(d), TaskID: task})
	}
}
