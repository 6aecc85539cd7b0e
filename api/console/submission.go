package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/workers"
)

// Bounds on what is read back: a submission document is at most 1 MiB
// (the workers' limit), a report tens of KiB.
const (
	maxDocBytes    = 1 << 20
	maxReportBytes = 8 << 20
	trailShown     = 300
)

// loaded is what the console knows of one submission.
type loaded struct {
	id  string
	loc state.Located
	app state.Application
	// sub is the submission document (nil when it cannot be read; problem
	// then names why). It holds the identity: only ids, types, file names
	// and masks are ever taken from it.
	sub     *pipeline.Submission
	problem finding.Code
	rep     *pipeline.Report
	version string // digest of the stored report, "" without one
}

var errNoSubmission = errors.New("console: no such submission")

// load reads a submission's index entry, application state, document and
// report.
// loadOrFail loads the submission a page's URL names, or answers with
// the error page and reports false.
func (c *Console) loadOrFail(w http.ResponseWriter, r *http.Request, v *visitor) (*loaded, bool) {
	l, err := c.load(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, errNoSubmission):
		c.errorPage(w, r, v, http.StatusNotFound, "没有这份申报。", "No such submission.")
		return nil, false
	case err != nil:
		c.internalError(w, r, "load submission", err)
		return nil, false
	}
	return l, true
}

func (c *Console) load(ctx context.Context, id string) (*loaded, error) {
	if !pipeline.ValidID(id) {
		return nil, errNoSubmission
	}
	loc, err := c.d.State.Locate(ctx, id)
	if errors.Is(err, state.ErrUnknownSubmission) {
		return nil, errNoSubmission
	} else if err != nil {
		return nil, err
	}
	l := &loaded{id: id, loc: loc}
	if l.app, err = c.d.State.Get(ctx, loc.Campaign, loc.ApplicantID); err != nil {
		return nil, err
	}
	doc, err := readAll(ctx, c.d.Buckets.Uploads, loc.Key, maxDocBytes)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		l.problem = finding.SubmissionMissing
	case err != nil:
		return nil, err
	default:
		if l.sub, err = pipeline.ParseSubmission(doc); err != nil {
			l.problem = finding.MalformedSubmission
		} else if l.sub.SubmissionID != id {
			l.sub, l.problem = nil, finding.MalformedSubmission
		}
	}
	raw, err := readAll(ctx, c.d.Buckets.Reports, storage.ReportKey(loc.Campaign, loc.ApplicantID, id), maxReportBytes)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		if l.rep, err = pipeline.ParseReport(raw); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(raw)
		l.version = hex.EncodeToString(sum[:12])
	}
	return l, nil
}

func readAll(ctx context.Context, s storage.Store, key string, limit int64) ([]byte, error) {
	rc, _, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("console: read %s: %w", key, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("console: %s is larger than %d bytes", key, limit)
	}
	return data, nil
}

type findingRow struct {
	Material         label
	Position         int // 1-based, 0 for the submission as a whole
	Page             int
	Code, CodeZH     string
	ZH, EN           string
	Measured, Thresh string
}

type overrideRow struct {
	Material         label
	Position, Page   int
	Reason, By, At   string
	Codes            []string
	Material0, Page0 int
}

type materialRow struct {
	Position int // 1-based
	Type     label
	File     string
}

type thumbRow struct {
	Position, Page int
	Type           label
	Thumb, View    string
	W, H           int
	Problem        string
	Failing        bool
	Overridden     bool
	Labels         []string
}

type flagRow struct {
	Value   string // material:page, material 0-based as workers.Reprocess takes it
	Label   string
	Reasons []string
}

type eventRow struct {
	At, Actor, Action, ActionZH, Submission, Detail, From string
}

type submissionView struct {
	ID, Campaign, ApplicantID, AnonCode string
	Series, Level                       label
	State, AppStatus                    string
	Returns, MaxReturns                 int
	Deadline, DeadlineLeft              string
	Overdue                             bool
	SubmittedAt, Updated                string
	Materials                           []materialRow
	Findings                            []findingRow
	Overrides                           []overrideRow
	Pages                               []thumbRow
	PagesProblem                        string
	Flagged                             []flagRow
	Failed                              []taskRow
	Trail                               []eventRow
	TrailMore                           int
	DocProblem                          string
	HasReport                           bool
	Poll, Done                          string
	TaskID, TaskQueue                   string
	CSRF                                string
	// Held are the pages OCR read the identity on, when the submission
	// is held; HeldProblem says they cannot be shown.
	Held        []heldPage
	HeldProblem bool
	// Running is true while a task of the submission is queued, running
	// or waiting to retry: no action is offered then (the page follows
	// the task instead).
	Running bool
}

func (s *submissionView) Title() string { return s.ID + " · 申报 Submission" }

// submission is one submission's page.
func (c *Console) submission(w http.ResponseWriter, r *http.Request, v *visitor) {
	ctx := r.Context()
	l, ok := c.loadOrFail(w, r, v)
	if !ok {
		return
	}
	sv := &submissionView{ID: l.id, Campaign: l.loc.Campaign, ApplicantID: l.loc.ApplicantID, AppStatus: string(l.app.Status),
		Returns: l.app.Returns, MaxReturns: c.pol.Returns.MaxReturns, SubmittedAt: beijing(l.loc.SubmittedAt),
		Updated: beijing(l.app.Updated), CSRF: v.CSRF, DocProblem: string(l.problem)}
	if l.app.Status == pipeline.AppReturned && !l.app.Deadline.IsZero() {
		sv.Deadline = beijing(l.app.Deadline)
		left := l.app.Deadline.Sub(c.now())
		sv.Overdue = left <= 0
		if !sv.Overdue {
			sv.DeadlineLeft = fmt.Sprintf("%.0f", left.Hours())
			if left < time.Hour {
				sv.DeadlineLeft = "< 1"
			}
		}
	}
	pr, err := workers.SubmissionProgress(ctx, c.d.Inspector, c.d.State, l.id, l.rep)
	if err != nil {
		c.internalError(w, r, "task state", err)
		return
	}
	sv.State = string(pr.State)
	if l.rep != nil {
		sv.HasReport, sv.AnonCode = true, l.rep.AnonCode
	}
	if l.sub != nil {
		sv.Series, sv.Level = c.series(l.sub.Series), c.level(l.sub.Level)
		for i, m := range l.sub.Materials {
			sv.Materials = append(sv.Materials, materialRow{Position: i + 1, Type: c.material(m.Type), File: path.Base(m.File)})
		}
	}
	var findings []finding.Finding
	if l.rep != nil {
		findings = l.rep.Findings
	}
	for _, f := range findings {
		row := findingRow{Page: f.Page, Code: string(f.Code), CodeZH: codeZH(string(f.Code)), ZH: f.MessageZH, EN: f.MessageEN,
			Measured: f.Measured.String(), Thresh: f.Threshold.String()}
		if f.Material != nil {
			row.Position = *f.Material + 1
			row.Material = c.material(f.Type)
		}
		sv.Findings = append(sv.Findings, row)
	}
	if l.rep != nil {
		for _, o := range l.rep.Overrides {
			row := overrideRow{Position: o.Material + 1, Page: o.Page, Reason: o.Reason, By: o.By, At: beijing(o.At)}
			if l.sub != nil && o.Material >= 0 && o.Material < len(l.sub.Materials) {
				row.Material = c.material(l.sub.Materials[o.Material].Type)
			}
			for _, cd := range o.Codes {
				row.Codes = append(row.Codes, string(cd))
			}
			sv.Overrides = append(sv.Overrides, row)
		}
	}
	if l.sub != nil {
		c.thumbnails(ctx, sv, l, findings)
	}
	if l.rep != nil && l.rep.Status == pipeline.Held {
		if sv.Held, err = c.heldPages(ctx, l); err != nil || len(sv.Held) == 0 {
			c.log.Error("console: held pages", "submission", l.id, "err", err)
			sv.HeldProblem = true
		}
	}
	tasks, err := workers.ListArchived(c.d.Inspector, archivedShown)
	if err != nil {
		c.internalError(w, r, "archived tasks", err)
		return
	}
	for _, t := range tasks {
		if t.SubmissionID == l.id {
			sv.Failed = append(sv.Failed, taskRow{ID: t.ID, Queue: t.Queue, Type: t.Type, Error: clip(t.LastErr, 300),
				FailedAt: beijing(t.LastFailedAt), Retried: t.Retried})
		}
	}
	trail, err := c.d.State.Trail(ctx, l.loc.Campaign, l.loc.ApplicantID, trailShown+1)
	if err != nil {
		c.internalError(w, r, "trail", err)
		return
	}
	if len(trail) > trailShown {
		trail, sv.TrailMore = trail[:trailShown], 1
	}
	for _, e := range trail {
		sv.Trail = append(sv.Trail, eventRow{At: beijing(e.At), Actor: e.Actor, Action: e.Action, ActionZH: actionNames[e.Action],
			Submission: e.Submission, Detail: e.Detail, From: e.From})
	}
	task, queue, ok := followed(r.URL.Query(), l.id)
	if rt, rq, err := c.running(ctx, l.id); err != nil {
		c.internalError(w, r, "running task", err)
		return
	} else if rt != "" {
		sv.Running = true
		if !ok {
			task, queue, ok = rt, rq, true
		}
	}
	if ok {
		sv.TaskID, sv.TaskQueue = task, queue
		sv.Poll = Prefix + "submissions/" + l.id + "/status?" + url.Values{"task": {task}, "queue": {queue}}.Encode()
		sv.Done = Prefix + "submissions/" + l.id
	}
	c.show(w, r, v, http.StatusOK, "submission", sv)
}

// running returns the submission's task that is queued, active or
// waiting to retry — its own, or its latest reprocess — if any.
func (c *Console) running(ctx context.Context, id string) (task, queue string, err error) {
	candidates := [][2]string{{id, workers.QueueDefault}}
	n, err := c.d.State.CounterValue(ctx, "reprocess:"+id)
	if err != nil {
		return "", "", err
	}
	candidates = append(candidates, [2]string{workers.OCRTaskID(id), workers.QueueOCR})
	if n > 0 {
		candidates = append(candidates, [2]string{workers.ReprocessTaskID(id, n), workers.QueueCritical},
			[2]string{workers.OCRTaskID(workers.ReprocessTaskID(id, n)), workers.QueueOCR})
	}
	if k, err := c.d.State.CounterValue(ctx, workers.ResolveCounter(id)); err != nil {
		return "", "", err
	} else if k > 0 {
		candidates = append(candidates, [2]string{workers.ResolveTaskID(id, k), workers.QueueCritical})
	}
	for _, cand := range candidates {
		info, err := c.d.Inspector.GetTaskInfo(cand[1], cand[0])
		if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
			continue
		} else if err != nil {
			return "", "", err
		}
		switch info.State {
		case asynq.TaskStateActive, asynq.TaskStatePending, asynq.TaskStateScheduled, asynq.TaskStateRetry, asynq.TaskStateAggregating:
			return cand[0], cand[1], nil
		}
	}
	return "", "", nil
}

// thumbnails fills in the page grid and the pages that may be accepted.
func (c *Console) thumbnails(ctx context.Context, sv *submissionView, l *loaded, findings []finding.Finding) {
	sh, err := c.sheet(ctx, l)
	if err != nil {
		c.log.Error("console: thumbnails", "submission", l.id, "err", err)
		sv.PagesProblem = "error"
		return
	}
	overridden := map[[2]int]bool{}
	if l.rep != nil {
		for _, o := range l.rep.Overrides {
			overridden[[2]int{o.Material, o.Page}] = true
		}
	}
	base := Prefix + "submissions/" + l.id
	for _, p := range sh.pages {
		row := thumbRow{Position: p.material + 1, Page: p.page, Type: c.material(p.typ), W: p.w, H: p.h, Problem: string(p.problem),
			Overridden: overridden[[2]int{p.material, p.page}]}
		if p.png != nil {
			row.Thumb = fmt.Sprintf("%s/thumbs/%d/%d", base, p.material, p.page)
			row.View = fmt.Sprintf("%s/pages/%d/%d", base, p.material, p.page)
		}
		var clarity []string
		for _, f := range findings {
			if f.Material == nil || *f.Material != p.material || (f.Page != p.page && f.Page != 0) {
				continue
			}
			row.Failing = true
			row.Labels = append(row.Labels, findingLabel(f))
			if clarityCodes[f.Code] && f.Page == p.page {
				clarity = append(clarity, findingLabel(f))
			}
		}
		if len(clarity) > 0 {
			sv.Flagged = append(sv.Flagged, flagRow{Value: fmt.Sprintf("%d:%d", p.material, p.page),
				Label: fmt.Sprintf("%d. %s %s p%d", p.material+1, row.Type.ZH, row.Type.EN, p.page), Reasons: clarity})
		}
		sv.Pages = append(sv.Pages, row)
	}
}

// findingLabel is the short label of a failing page: the code in both
// languages and, for a measure, the value against the threshold.
func findingLabel(f finding.Finding) string {
	s := string(f.Code)
	if zh := codeZH(s); zh != "" {
		s = zh + " " + s
	}
	if f.Measured != nil && f.Threshold != nil {
		s += fmt.Sprintf(" · %s vs %s", f.Measured.String(), f.Threshold.String())
	}
	return s
}

// actionNames name the audit trail's actions in Chinese; a decision is
// recorded under its status's name.
var actionNames = map[string]string{
	string(pipeline.Accepted): "通过", string(pipeline.Rejected): "退回", string(pipeline.Refused): "拒收",
	string(pipeline.AppAbandoned): "视为放弃", "submitted": "已提交",
	"reprocess": "重新处理", "reprocess_requested": "请求重新处理", "override": "人工接受页面", "downloaded": "下载",
	"assigned": "分配评审", "unassigned": "取消分配", "withdrawn": "撤下材料包", "viewed": "查看原件",
	"rerun_requested":     "请求重新运行",
	string(pipeline.Held): "暂扣待核查", "release_requested": "请求放行", "return_requested": "请求退回",
}

// reprocessTask is the form of a reprocess task id of a submission, or
// of an administrator's decision on a hold (workers.Resolve).
var reprocessTask = regexp.MustCompile(`^:(reprocess|resolve):[0-9]{1,12}$`)

// followed reads the task the page follows (?task=&queue=) after an
// action: one of this submission's own tasks, in a known queue.
func followed(q url.Values, id string) (task, queue string, ok bool) {
	task, queue = q.Get("task"), q.Get("queue")
	if _, known := workers.Queues[queue]; !known {
		return "", "", false
	}
	// The gate's OCR reading of a run is "ocr:" and the run's id.
	run := strings.TrimPrefix(task, workers.OCRTaskID(""))
	if run != id && !(strings.HasPrefix(run, id) && reprocessTask.MatchString(run[len(id):])) {
		return "", "", false
	}
	return task, queue, true
}

// statusView is the answer of the status endpoint the page polls.
type statusView struct {
	State     string `json:"state"`
	Report    string `json:"report"`
	TaskState string `json:"task_state,omitempty"`
	// Done is true once the followed task has finished (its report is
	// then written: a worker writes the report before the task ends).
	Done bool `json:"done"`
}

// status answers the small JSON document the submission page polls while
// it waits for a task.
func (c *Console) status(w http.ResponseWriter, r *http.Request, _ *visitor) {
	ctx := r.Context()
	l, err := c.load(ctx, r.PathValue("id"))
	if errors.Is(err, errNoSubmission) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such submission"})
		return
	} else if err != nil {
		c.internalError(w, r, "load submission", err)
		return
	}
	sv := statusView{Report: l.version, Done: true}
	if l.rep != nil {
		sv.State = string(l.rep.Status)
	}
	if task, queue, ok := followed(r.URL.Query(), l.id); ok {
		info, err := c.d.Inspector.GetTaskInfo(queue, task)
		switch {
		case errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound):
			sv.TaskState = "gone"
		case err != nil:
			c.internalError(w, r, "task info", err)
			return
		default:
			sv.TaskState = info.State.String()
			sv.Done = info.State == asynq.TaskStateCompleted || info.State == asynq.TaskStateArchived
		}
	}
	writeJSON(w, http.StatusOK, sv)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
