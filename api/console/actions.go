package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/workers"
)

// hidden is a form field carried from the action's form to its
// confirmation.
type hidden struct{ Name, Value string }

// confirmView is the confirmation step every action goes through: what
// will happen, in both languages, and a button that posts it again with
// confirm=yes.
type confirmView struct {
	ID                   string
	Action               string
	HeadZH, HeadEN       string
	Lines                []label
	Reason               string
	Fields               []hidden
	ConfirmZH, ConfirmEN string
	Back                 string
	CSRF                 string
}

func (cv *confirmView) Title() string { return "确认 Confirm · " + cv.ID }

// reprocess queues a submission again, with the pages an administrator
// accepted (overrides) — after a confirmation step — through
// workers.Reprocess, which audits the request and each override; the
// console audits the address it came from beside them.
func (c *Console) reprocess(w http.ResponseWriter, r *http.Request, v *visitor) {
	ctx := r.Context()
	l, ok := c.loadOrFail(w, r, v)
	if !ok {
		return
	}
	if task, _, err := c.running(ctx, l.id); err != nil {
		c.internalError(w, r, "running task", err)
		return
	} else if task != "" {
		// The page offers no action then; a form posted from an older page
		// is refused rather than queuing a second run.
		c.errorPage(w, r, v, http.StatusConflict, "这份申报的任务正在排队或处理中，请在完成后再操作。",
			"A task of this submission is queued or running; act once it is done.")
		return
	}
	form := r.PostForm
	// A textarea lets a person break lines; the reason is one line in the
	// report and the audit trail, so line breaks become spaces here and
	// the validator the API uses refuses what is left (pipeline.CheckReason).
	reason := strings.Join(strings.Fields(form.Get("reason")), " ")
	var overrides []pipeline.Override
	var lines []label
	seen := map[string]bool{}
	for _, val := range form["page"] {
		m, p, ok := parsePage(val)
		if !ok || l.sub == nil || m >= len(l.sub.Materials) {
			c.errorPage(w, r, v, http.StatusBadRequest, "所选页面无效。", "A selected page is not a page of this submission.")
			return
		}
		if seen[val] {
			continue
		}
		seen[val] = true
		overrides = append(overrides, pipeline.Override{Material: m, Page: p, Reason: reason})
		t := c.material(l.sub.Materials[m].Type)
		lines = append(lines, label{fmt.Sprintf("接受第%d项 %s 第%d页", m+1, t.ZH, p), fmt.Sprintf("accept item %d %s page %d", m+1, t.EN, p)})
	}
	if err := pipeline.CheckReason(reason, len(overrides) > 0); err != nil {
		zh, en := wire.CodeInvalidReason.Messages()
		c.errorPage(w, r, v, http.StatusBadRequest, zh, en)
		return
	}
	if l.sub != nil {
		if err := pipeline.CheckOverrides(l.sub, overrides); err != nil {
			zh, en := wire.CodeInvalidOverride.Messages()
			if errors.Is(err, pipeline.ErrBadReason) {
				zh, en = wire.CodeInvalidReason.Messages()
			}
			c.errorPage(w, r, v, http.StatusBadRequest, zh, en)
			return
		}
	}
	if form.Get("confirm") != "yes" {
		cv := &confirmView{ID: l.id, Action: Prefix + "submissions/" + l.id + "/reprocess", Lines: lines, Reason: reason,
			HeadZH: "重新处理这份申报", HeadEN: "Reprocess this submission", ConfirmZH: "确认重新处理", ConfirmEN: "Confirm and reprocess",
			Back: Prefix + "submissions/" + l.id, CSRF: v.CSRF}
		if len(overrides) > 0 {
			cv.HeadZH, cv.HeadEN = "接受所选页面并重新处理", "Accept the selected pages and reprocess"
			cv.ConfirmZH, cv.ConfirmEN = "确认接受并重新处理", "Confirm: accept and reprocess"
		}
		for _, val := range form["page"] {
			cv.Fields = append(cv.Fields, hidden{"page", val})
		}
		cv.Fields = append(cv.Fields, hidden{"reason", reason})
		c.show(w, r, v, http.StatusOK, "confirm", cv)
		return
	}
	task, err := workers.Reprocess(ctx, c.d.Queue, c.d.State, l.id, v.Actor(), overrides)
	if errors.Is(err, workers.ErrUnknownSubmission) {
		c.errorPage(w, r, v, http.StatusNotFound, "没有这份申报。", "No such submission.")
		return
	} else if err != nil {
		c.internalError(w, r, "reprocess", err)
		return
	}
	ev := state.Event{Actor: v.Actor(), Action: "reprocess_requested", Submission: l.id,
		Detail: fmt.Sprintf("through the console: task %s, %d override(s)", task, len(overrides)), From: c.d.ClientAddr(r)}
	if err := c.d.State.Audit(ctx, l.loc.Campaign, l.loc.ApplicantID, ev); err != nil {
		c.internalError(w, r, "audit", err)
		return
	}
	c.log.Info("console: reprocess queued", "by", v.Actor(), "submission", l.id, "task", task, "overrides", len(overrides))
	c.follow(w, r, l.id, task, workers.QueueCritical)
}

// rerun runs an archived (failed) task of a submission again, after a
// confirmation step, and audits it.
func (c *Console) rerun(w http.ResponseWriter, r *http.Request, v *visitor) {
	ctx := r.Context()
	l, ok := c.loadOrFail(w, r, v)
	if !ok {
		return
	}
	queue, task := r.PostForm.Get("queue"), r.PostForm.Get("task")
	if !slices.Contains(workers.AllQueues(), queue) || task == "" {
		c.errorPage(w, r, v, http.StatusBadRequest, "任务无效。", "No such task.")
		return
	}
	info, err := c.d.Inspector.GetTaskInfo(queue, task)
	switch {
	case errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) || err == nil && workers.Describe(info).SubmissionID != l.id:
		c.errorPage(w, r, v, http.StatusNotFound, "这份申报没有这个任务。", "This submission has no such task.")
		return
	case err != nil:
		c.internalError(w, r, "task info", err)
		return
	case info.State != asynq.TaskStateArchived:
		c.errorPage(w, r, v, http.StatusConflict, "这个任务没有失败，无需重新运行。", "This task has not failed; there is nothing to re-run.")
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		cv := &confirmView{ID: l.id, Action: Prefix + "submissions/" + l.id + "/rerun",
			HeadZH: "重新运行失败的任务", HeadEN: "Re-run the failed task",
			Lines: []label{
				{"任务 " + task + "（队列 " + queue + "）", "task " + task + " (queue " + queue + ")"},
				{"失败原因：" + clip(info.LastErr, 300), "last error: " + clip(info.LastErr, 300)},
			},
			Fields:    []hidden{{"queue", queue}, {"task", task}},
			ConfirmZH: "确认重新运行", ConfirmEN: "Confirm and re-run", Back: Prefix + "submissions/" + l.id, CSRF: v.CSRF}
		c.show(w, r, v, http.StatusOK, "confirm", cv)
		return
	}
	if err := c.d.Inspector.RunTask(queue, task); err != nil {
		c.internalError(w, r, "run task", err)
		return
	}
	ev := state.Event{Actor: v.Actor(), Action: "rerun_requested", Submission: l.id,
		Detail: fmt.Sprintf("through the console: failed task %s (queue %s) run again", task, queue), From: c.d.ClientAddr(r)}
	if err := c.d.State.Audit(ctx, l.loc.Campaign, l.loc.ApplicantID, ev); err != nil {
		c.internalError(w, r, "audit", err)
		return
	}
	c.log.Info("console: failed task run again", "by", v.Actor(), "submission", l.id, "task", task, "queue", queue)
	c.follow(w, r, l.id, task, queue)
}

// follow sends the browser back to the submission's page, which follows
// the task until its report arrives.
func (c *Console) follow(w http.ResponseWriter, r *http.Request, id, task, queue string) {
	u := Prefix + "submissions/" + id + "?" + url.Values{"task": {task}, "queue": {queue}}.Encode()
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// parsePage reads "material:page" (material 0-based, page 1-based).
func parsePage(s string) (int, int, bool) {
	a, b, ok := strings.Cut(s, ":")
	m, err1 := strconv.Atoi(a)
	p, err2 := strconv.Atoi(b)
	return m, p, ok && err1 == nil && err2 == nil && m >= 0 && p >= 1 && p < 100000
}
