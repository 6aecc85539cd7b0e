package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/result"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/workers"
)

// anonPattern is the form of an anonymous code: the campaign, then two
// groups of four Crockford base32 symbols (pipeline.AnonCode).
var anonPattern = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]{0,63})-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)

// anonCampaign returns the campaign of a well-formed anonymous code.
func anonCampaign(anon string) (string, bool) {
	m := anonPattern.FindStringSubmatch(anon)
	if m == nil || !pipeline.ValidID(m[1]) {
		return "", false
	}
	return m[1], true
}

// resolve finds the applicant an anonymous code belongs to: from the
// index, or else by computing the codes of the campaign's applicants with
// the workers' secret (the code is a keyed hash; it cannot be reversed),
// indexing them all so that the next question is one read.
func (s *Server) resolve(ctx context.Context, anon string) (campaign, applicant string, err error) {
	campaign, ok := anonCampaign(anon)
	if !ok {
		return "", "", errNoApplication
	}
	applicant, err = s.d.State.ResolveAnon(ctx, campaign, anon)
	if err == nil || !errors.Is(err, state.ErrUnknownAnon) {
		return campaign, applicant, err
	}
	ids, err := s.d.State.Applicants(ctx, campaign)
	if err != nil {
		return "", "", err
	}
	codes := make(map[string]string, len(ids))
	for _, id := range ids {
		code := pipeline.AnonCode(s.d.AnonSecret, campaign, id)
		codes[code] = id
		if code == anon {
			applicant = id
		}
	}
	if err := s.d.State.IndexAnon(ctx, campaign, codes); err != nil {
		return "", "", err
	}
	if applicant == "" {
		return "", "", errNoApplication
	}
	return campaign, applicant, nil
}

// assign gives a reviewer an applicant's packet, by anonymous code, and
// audits it in the application's trail.
func (s *Server) assign(w http.ResponseWriter, r *http.Request, p Principal) {
	var req wire.AssignRequest
	if !decodeBody(w, r, maxSmallBody, &req) {
		return
	}
	if _, ok := anonCampaign(req.AnonCode); !ok || !pipeline.ValidID(req.Reviewer) {
		writeError(w, wire.CodeInvalidParameter, "anon_code must be an anonymous code (2024-XXXX-XXXX) and reviewer a reviewer code")
		return
	}
	ctx := r.Context()
	campaign, applicant, err := s.resolve(ctx, req.AnonCode)
	if errors.Is(err, errNoApplication) {
		writeError(w, wire.CodeUnknownAnonCode, "")
		return
	} else if err != nil {
		s.internalError(w, r, "resolve anonymous code", err)
		return
	}
	added, err := s.d.State.Assign(ctx, req.AnonCode, req.Reviewer)
	if err != nil {
		s.internalError(w, r, "assign", err)
		return
	}
	code, status := http.StatusOK, "already assigned"
	if added {
		code, status = http.StatusCreated, "assigned"
		ev := state.Event{Actor: p.Actor(), Action: "assigned", Detail: fmt.Sprintf("packet %s assigned to reviewer %s", req.AnonCode, req.Reviewer), From: s.clientAddr(r)}
		if err := s.d.State.Audit(ctx, campaign, applicant, ev); err != nil {
			s.internalError(w, r, "audit", err)
			return
		}
	}
	writeJSON(w, code, wire.Assignment{Status: status, AnonCode: req.AnonCode, Reviewer: req.Reviewer})
}

// unassign takes a packet away from a reviewer, at once: every download
// checks the assignment on its own request.
func (s *Server) unassign(w http.ResponseWriter, r *http.Request, p Principal) {
	anon, reviewer := r.PathValue("anon"), r.PathValue("reviewer")
	if _, ok := anonCampaign(anon); !ok || !pipeline.ValidID(reviewer) {
		writeError(w, wire.CodeInvalidParameter, "invalid anonymous code or reviewer code")
		return
	}
	ctx := r.Context()
	removed, err := s.d.State.Unassign(ctx, anon, reviewer)
	if err != nil {
		s.internalError(w, r, "unassign", err)
		return
	}
	if !removed {
		writeError(w, wire.CodeUnknownAssignment, "")
		return
	}
	campaign, applicant, err := s.resolve(ctx, anon)
	if err != nil {
		s.internalError(w, r, "resolve anonymous code", err)
		return
	}
	ev := state.Event{Actor: p.Actor(), Action: "unassigned", Detail: fmt.Sprintf("packet %s taken from reviewer %s", anon, reviewer), From: s.clientAddr(r)}
	if err := s.d.State.Audit(ctx, campaign, applicant, ev); err != nil {
		s.internalError(w, r, "audit", err)
		return
	}
	writeJSON(w, http.StatusOK, wire.Assignment{Status: "unassigned", AnonCode: anon, Reviewer: reviewer})
}

// listAssignments lists assignments: of one reviewer (?reviewer=), of one
// packet (?anon_code=), or all, by reviewer.
func (s *Server) listAssignments(w http.ResponseWriter, r *http.Request, _ Principal) {
	ctx := r.Context()
	q := r.URL.Query()
	switch rev, anon := q.Get("reviewer"), q.Get("anon_code"); {
	case rev != "":
		if !pipeline.ValidID(rev) {
			writeError(w, wire.CodeInvalidParameter, "reviewer: not a reviewer code")
			return
		}
		codes, err := s.d.State.AssignedTo(ctx, rev)
		if err != nil {
			s.internalError(w, r, "assigned to", err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"reviewer": rev, "anon_codes": nonNil(codes)})
	case anon != "":
		if _, ok := anonCampaign(anon); !ok {
			writeError(w, wire.CodeInvalidParameter, "anon_code: not an anonymous code")
			return
		}
		revs, err := s.d.State.ReviewersOf(ctx, anon)
		if err != nil {
			s.internalError(w, r, "reviewers of", err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"anon_code": anon, "reviewers": nonNil(revs)})
	default:
		all, err := s.d.State.Assignments(ctx)
		if err != nil {
			s.internalError(w, r, "assignments", err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"assignments": all})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// failures lists what needs an administrator (workers.ListFailures, as
// the console does): archived tasks of every queue, webhook deliveries
// included (retries exhausted, or a payload nobody can act on), and
// applications that are returned, abandoned or whose latest submission was
// refused (state.Attention), filtered by ?campaign, series, level, status,
// code, since, until (RFC 3339) and at most ?limit (default 100) of each;
// the applications a page at a time from ?offset, with their total and
// the counts of their codes over all of them (?code aside).
func (s *Server) failures(w http.ResponseWriter, r *http.Request, _ Principal) {
	q := r.URL.Query()
	limit, offset := 100, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, wire.CodeInvalidParameter, "limit: 1 to 1000")
			return
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, wire.CodeInvalidParameter, "offset: 0 or more")
			return
		}
		offset = n
	}
	f := state.Filter{Campaign: q.Get("campaign"), Series: q.Get("series"), Level: q.Get("level"), Status: q.Get("status"), Code: q.Get("code")}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(t.name); v != "" {
			at, err := time.Parse(time.RFC3339, v)
			if err != nil {
				writeError(w, wire.CodeInvalidParameter, t.name+": want RFC 3339")
				return
			}
			*t.dst = at
		}
	}
	fl, err := workers.ListFailures(r.Context(), s.d.State, s.d.Inspector, workers.FailureQuery{Filter: f, TasksPerQueue: limit})
	if err != nil {
		s.internalError(w, r, "failures", err)
		return
	}
	tasks := make([]wire.ArchivedTask, 0, len(fl.Tasks))
	for _, t := range fl.Tasks {
		tasks = append(tasks, wire.ArchivedTask{ID: t.ID, Queue: t.Queue, Type: t.Type, Retried: t.Retried, LastFailedAt: t.LastFailedAt.UTC(),
			LastError: t.LastErr, Campaign: t.Campaign, ApplicantID: t.ApplicantID, SubmissionID: t.SubmissionID, BatchKey: t.BatchKey})
	}
	page := fl.Page(offset, limit)
	views := make([]wire.Attention, 0, len(page))
	for _, a := range page {
		listed, _ := a.Listed()
		v := wire.Attention{Campaign: a.Campaign, ApplicantID: a.ApplicantID, Status: listed, Returns: a.Returns,
			LastSubmission: a.LastSubmission, LastOutcome: string(a.LastOutcome), Series: a.Meta.Series, Level: a.Meta.Level,
			Codes: nonNil(a.Meta.Codes), Updated: a.Updated.UTC()}
		if !a.Deadline.IsZero() {
			d := a.Deadline.UTC()
			v.Deadline = &d
		}
		views = append(views, v)
	}
	writeJSON(w, http.StatusOK, wire.Failures{ArchivedTasks: tasks, Applications: views, ApplicationsTotal: len(fl.Applications), Codes: fl.Codes})
}

// issueResult stores a blindpack/batch@1 document and queues its signing
// (result:issue, critical queue) for a worker that holds the keys.
func (s *Server) issueResult(w http.ResponseWriter, r *http.Request, p Principal) {
	doc, ok := readJSONBody(w, r, s.cfg.MaxBatchBytes)
	if !ok {
		return
	}
	sub := workers.ResultSubmitter{Uploads: s.d.Buckets.Uploads, Client: s.d.Queue}
	pl, err := sub.Submit(r.Context(), doc)
	if errors.Is(err, result.ErrInvalidBatch) {
		// Results are public: the batch's problems may be quoted.
		writeError(w, wire.CodeInvalidBatch, err.Error())
		return
	} else if err != nil {
		s.internalError(w, r, "issue result", err)
		return
	}
	s.log.Info("result queued", "by", p.Actor(), "campaign", pl.Campaign, "output_key", pl.OutputKey)
	writeJSON(w, http.StatusAccepted, wire.ResultQueued{Status: wire.StatusQueued, Campaign: pl.Campaign, BatchKey: pl.BatchKey, OutputKey: pl.OutputKey})
}

// audit returns an application's audit trail, newest first (?limit=,
// default all).
func (s *Server) audit(w http.ResponseWriter, r *http.Request, _ Principal) {
	campaign, applicant := r.PathValue("campaign"), r.PathValue("applicant")
	if !pipeline.ValidID(campaign) || !pipeline.ValidID(applicant) {
		writeError(w, wire.CodeInvalidParameter, "invalid campaign or applicant id")
		return
	}
	s.writeTrail(w, r, campaign, applicant)
}

// submissionAudit is audit for the application of a submission.
func (s *Server) submissionAudit(w http.ResponseWriter, r *http.Request, _ Principal) {
	id := r.PathValue("id")
	if !pipeline.ValidID(id) {
		writeError(w, wire.CodeInvalidParameter, "invalid submission id")
		return
	}
	loc, err := s.d.State.Locate(r.Context(), id)
	if errors.Is(err, state.ErrUnknownSubmission) {
		writeError(w, wire.CodeUnknownSubmission, "")
		return
	} else if err != nil {
		s.internalError(w, r, "locate submission", err)
		return
	}
	s.writeTrail(w, r, loc.Campaign, loc.ApplicantID)
}

func (s *Server) writeTrail(w http.ResponseWriter, r *http.Request, campaign, applicant string) {
	n := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			writeError(w, wire.CodeInvalidParameter, "limit must be a positive number")
			return
		}
	}
	events, err := s.d.State.Trail(r.Context(), campaign, applicant, n)
	if err != nil {
		s.internalError(w, r, "trail", err)
		return
	}
	out := make([]wire.AuditEvent, 0, len(events))
	for _, e := range events {
		out = append(out, wire.AuditEvent{At: e.At.UTC(), Actor: e.Actor, Action: e.Action, Submission: e.Submission, Detail: e.Detail, From: e.From})
	}
	writeJSON(w, http.StatusOK, wire.Trail{Campaign: campaign, ApplicantID: applicant, Events: out})
}
