package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/workers"
)

// pageList is a repeatable --accept-page material:page flag.
type pageList []pipeline.Override

func (l *pageList) String() string { return fmt.Sprint(*l) }

func (l *pageList) Set(v string) error {
	m, p, ok := strings.Cut(v, ":")
	mi, err1 := strconv.Atoi(m)
	pi, err2 := strconv.Atoi(p)
	if !ok || err1 != nil || err2 != nil || mi < 0 || pi < 1 {
		return fmt.Errorf("want material:page, the material's 0-based position and a 1-based page, e.g. 1:3")
	}
	*l = append(*l, pipeline.Override{Material: mi, Page: pi})
	return nil
}

func runReprocess(ctx context.Context, args []string) error {
	fs := newFlagSet("reprocess")
	var s services
	s.register(fs)
	var pages pageList
	fs.Var(&pages, "accept-page", "accept a page the clarity check flagged, as `material:page` (repeatable)")
	reason := fs.String("reason", "", "why (required with --accept-page; goes into the audit trail and the report)")
	by := fs.String("by", "", "the administrator asking (required)")
	if err := parse(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	if fs.NArg() != 1 || *by == "" || (len(pages) > 0 && strings.TrimSpace(*reason) == "") {
		return exitError{code: 2, err: errors.New("usage: blindpack reprocess SUBMISSION_ID --by ADMIN [--accept-page M:P ... --reason TEXT]")}
	}
	for i := range pages {
		pages[i].Reason = *reason
	}
	client := asynq.NewClient(s.redis())
	defer client.Close()
	st, closeState := s.state(time.Now)
	defer closeState()
	id, err := workers.Reprocess(ctx, client, st, fs.Arg(0), "admin:"+*by, pages)
	if err != nil {
		return err
	}
	fmt.Printf("queued %s (task %s)", fs.Arg(0), id)
	if len(pages) > 0 {
		fmt.Printf(" with %d page override(s)", len(pages))
	}
	fmt.Println()
	return nil
}

func runStatus(ctx context.Context, args []string) error {
	fs := newFlagSet("status")
	var s services
	s.register(fs)
	campaign := fs.String("campaign", "", "campaign of an applicant id (not needed for a submission id)")
	policyFile := fs.String("policy", "", "policy `file` (for the number of returns allowed)")
	if err := parse(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	if fs.NArg() != 1 {
		return exitError{code: 2, err: errors.New("usage: blindpack status APPLICANT_ID --campaign C | SUBMISSION_ID")}
	}
	pol, err := loadPolicy(*policyFile)
	if err != nil {
		return err
	}
	st, closeState := s.state(time.Now)
	defer closeState()
	camp, applicant := *campaign, fs.Arg(0)
	if loc, err := st.Locate(ctx, fs.Arg(0)); err == nil {
		camp, applicant = loc.Campaign, loc.ApplicantID
	} else if camp == "" {
		return fmt.Errorf("%s is not a known submission id; for an applicant id give --campaign", fs.Arg(0))
	}
	app, err := st.Get(ctx, camp, applicant)
	if err != nil {
		return err
	}
	trail, err := st.Trail(ctx, camp, applicant, 20)
	if err != nil {
		return err
	}
	var reports storage.Store
	if b, err := s.openBuckets(ctx); err == nil {
		reports = b.Reports
	} else {
		fmt.Fprintf(os.Stderr, "(reports unavailable: %v)\n", err)
	}
	return printStatus(ctx, os.Stdout, app, trail, reports, pol.Returns.MaxReturns)
}

func printStatus(ctx context.Context, w io.Writer, app state.Application, trail []state.Event, reports storage.Store, maxReturns int) error {
	fmt.Fprintf(w, "application %s/%s: %s, returns %d of %d", app.Campaign, app.ApplicantID, app.Status, app.Returns, maxReturns)
	if app.Status == pipeline.AppReturned {
		fmt.Fprintf(w, ", resubmit by %s", app.Deadline.In(policy.Beijing).Format("2006-01-02 15:04 MST"))
	}
	fmt.Fprintln(w)
	if app.Last != "" && reports != nil {
		rc, _, err := reports.Get(ctx, storage.ReportKey(app.Campaign, app.ApplicantID, app.Last))
		if err == nil {
			data, _ := io.ReadAll(rc)
			rc.Close()
			if rep, err := pipeline.ParseReport(data); err == nil {
				fmt.Fprintf(w, "last report %s: %s\n", app.Last, rep.Status)
				for _, f := range rep.Findings {
					fmt.Fprintf(w, "  - %s %s p%d: %s\n", f.Code, f.Type, f.Page, f.MessageEN)
				}
				if rep.Status == pipeline.Rejected {
					fmt.Fprintf(w, "  contact sheet: %s\n", workers.ContactSheetKey(app.Campaign, app.ApplicantID, app.Last))
				}
			}
		}
	}
	if len(app.Submissions) > 0 {
		fmt.Fprintln(w, "submissions:")
		for id, outcome := range app.Submissions {
			fmt.Fprintf(w, "  %s %s\n", id, outcome)
		}
	}
	fmt.Fprintln(w, "audit trail, newest first:")
	for _, ev := range trail {
		fmt.Fprintf(w, "  %s  %-10s %-28s %s %s\n", ev.At.UTC().Format(time.RFC3339), ev.Action, ev.Actor, ev.Submission, ev.Detail)
	}
	return nil
}

func runTasks(ctx context.Context, args []string) error {
	fs := newFlagSet("tasks")
	var s services
	s.register(fs)
	queue := fs.String("queue", "", "queue (failed: default every queue; rerun: default "+workers.QueueDefault+")")
	if err := parse(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	insp := asynq.NewInspector(s.redis())
	defer insp.Close()
	switch {
	case fs.NArg() == 1 && fs.Arg(0) == "failed":
		queues := workers.AllQueues()
		if *queue != "" {
			queues = []string{*queue}
		}
		for _, q := range queues {
			tasks, err := workers.ListArchived(insp, 100, q)
			if err != nil {
				return err
			}
			for _, t := range tasks {
				fmt.Printf("%s  %s  retried %d  failed %s  %s\n", t.ID, t.Type, t.Retried, t.LastFailedAt.UTC().Format(time.RFC3339), t.LastErr)
			}
			fmt.Printf("%d failed task(s) in %s\n", len(tasks), q)
		}
		return nil
	case fs.NArg() == 2 && fs.Arg(0) == "rerun":
		if *queue == "" {
			*queue = workers.QueueDefault
		}
		if err := insp.RunTask(*queue, fs.Arg(1)); err != nil {
			return err
		}
		fmt.Printf("%s queued to run again\n", fs.Arg(1))
		return nil
	}
	return exitError{code: 2, err: errors.New("usage: blindpack tasks failed | rerun TASK_ID [--queue Q]")}
}
