package console

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/workers"
)

// pageSize is how many applications one page of the list shows. The
// whole filtered list is read for its counts and total (the state store
// reads it in a few round trips, 10,000 applications in well under a
// second), and shown a page at a time.
const pageSize = 100

// archivedShown is how many failed tasks of each queue the console shows.
const archivedShown = 100

var codePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// statuses an administrator filters by: the listings of applications
// needing attention, and failed (archived) tasks.
var statuses = append(pipeline.Listings(), string(pipeline.Failed))

type option struct {
	Value, ZH, EN string
	Selected      bool
}

type codeCount struct {
	Code, ZH string
	N        int
	Href     string
	Active   bool
}

type appRow struct {
	Campaign, ApplicantID, Submission string
	Status                            string
	Returns, MaxReturns               int
	Deadline                          string
	Overdue                           bool
	Series, Level                     label
	Codes                             []string
	Updated                           string
}

type taskRow struct {
	ID, Queue, Type, Error, FailedAt string
	Retried                          int
	Submission                       string // linked when the console can open it
}

type listView struct {
	Campaign, Since, Until   string
	Series, Levels, Statuses []option
	Code                     string
	Counts                   []codeCount
	Apps                     []appRow
	Tasks                    []taskRow
	Total, Shown             int
	Ignored                  []string
	Filtered                 bool
	ClearHref                string
	// Page and Pages number the pages of the list (from 1); PrevHref and
	// NextHref are empty at its ends.
	Page, Pages        int
	PrevHref, NextHref string
	// Find is an applicant id looked up (?find=); FindMissing says it
	// named no application.
	Find        string
	FindMissing bool
}

// list is the console's front page: applications needing attention and
// failed tasks, filtered, with counts per finding code at the top.
func (c *Console) list(w http.ResponseWriter, r *http.Request, v *visitor) {
	q := r.URL.Query()
	lv := &listView{ClearHref: Prefix}
	var f state.Filter
	keep := func(name, val string, ok bool) string {
		if val != "" && !ok {
			lv.Ignored = append(lv.Ignored, name)
			return ""
		}
		return val
	}
	f.Campaign = keep("campaign", q.Get("campaign"), pipeline.ValidID(q.Get("campaign")))
	_, okS := c.pol.Series(q.Get("series"))
	f.Series = keep("series", q.Get("series"), okS)
	_, okL := c.pol.Level(q.Get("level"))
	f.Level = keep("level", q.Get("level"), okL)
	status := keep("status", q.Get("status"), slices.Contains(statuses, q.Get("status")))
	if status != string(pipeline.Failed) {
		f.Status = status
	}
	code := keep("code", q.Get("code"), codePattern.MatchString(q.Get("code")))
	since, okSince := parseDay(q.Get("since"))
	until, okUntil := parseDay(q.Get("until"))
	if keep("since", q.Get("since"), okSince) != "" {
		f.Since, lv.Since = since, q.Get("since")
	}
	if keep("until", q.Get("until"), okUntil) != "" {
		f.Until, lv.Until = until.Add(24*time.Hour-time.Second), q.Get("until")
	}
	lv.Campaign, lv.Code = f.Campaign, code
	lv.Filtered = f.Campaign != "" || f.Series != "" || f.Level != "" || status != "" || code != "" || lv.Since != "" || lv.Until != ""

	ctx := r.Context()
	if find := strings.TrimSpace(q.Get("find")); find != "" {
		c.find(w, r, v, lv, f.Campaign, find)
		return
	}
	page, err := strconv.Atoi(q.Get("page"))
	if q.Get("page") != "" && (err != nil || page < 1) {
		lv.Ignored = append(lv.Ignored, "page")
	}
	page = max(page, 1)
	// Failed tasks have a campaign and a time, nothing else to filter by.
	fq := workers.FailureQuery{Filter: f, SkipApplications: status == string(pipeline.Failed)}
	fq.Filter.Code = code
	if (status == "" || status == string(pipeline.Failed)) && f.Series == "" && f.Level == "" && code == "" {
		fq.TasksPerQueue = archivedShown
	}
	fl, err := workers.ListFailures(ctx, c.d.State, c.d.Inspector, fq)
	if err != nil {
		c.internalError(w, r, "failures", err)
		return
	}
	for cd, n := range fl.Codes {
		href := filterHref(q, "code", cd)
		if cd == code {
			href = filterHref(q, "code", "")
		}
		lv.Counts = append(lv.Counts, codeCount{Code: cd, ZH: codeZH(cd), N: n, Href: href, Active: cd == code})
	}
	slices.SortFunc(lv.Counts, func(a, b codeCount) int { return cmp.Or(b.N-a.N, cmp.Compare(a.Code, b.Code)) })
	lv.Total = len(fl.Applications)
	lv.Pages = max(1, (lv.Total+pageSize-1)/pageSize)
	lv.Page = min(page, lv.Pages)
	for _, a := range fl.Page((lv.Page-1)*pageSize, pageSize) {
		lv.Apps = append(lv.Apps, c.appRow(a))
	}
	lv.Shown = len(lv.Apps)
	if lv.Page > 1 {
		lv.PrevHref = filterHref(q, "page", pageParam(lv.Page-1))
	}
	if lv.Page < lv.Pages {
		lv.NextHref = filterHref(q, "page", pageParam(lv.Page+1))
	}
	for _, t := range fl.Tasks {
		row := taskRow{ID: t.ID, Queue: t.Queue, Type: t.Type, Error: clip(t.LastErr, 300),
			FailedAt: beijing(t.LastFailedAt), Retried: t.Retried}
		if t.SubmissionID != "" && pipeline.ValidID(t.SubmissionID) {
			if _, err := c.d.State.Locate(ctx, t.SubmissionID); err == nil {
				row.Submission = t.SubmissionID
			}
		}
		lv.Tasks = append(lv.Tasks, row)
	}

	c.listOptions(lv, f, status)
	c.show(w, r, v, http.StatusOK, "list", lv)
}

// pageParam is ?page=n, left out for the first page.
func pageParam(n int) string {
	if n <= 1 {
		return ""
	}
	return strconv.Itoa(n)
}

// appRow is one application as the list shows it.
func (c *Console) appRow(a state.Application) appRow {
	listed, ok := a.Listed()
	if !ok {
		listed = string(a.Status)
	}
	row := appRow{Campaign: a.Campaign, ApplicantID: a.ApplicantID, Submission: a.LastSubmission, Status: listed,
		Returns: a.Returns, MaxReturns: c.pol.Returns.MaxReturns, Series: c.series(a.Meta.Series), Level: c.level(a.Meta.Level),
		Codes: a.Meta.Codes, Updated: beijing(a.Updated)}
	if a.Status == pipeline.AppReturned && !a.Deadline.IsZero() {
		row.Deadline, row.Overdue = beijing(a.Deadline), c.now().After(a.Deadline)
	}
	return row
}

// find answers ?find=: a submission id opens that submission; an
// applicant id shows that application — whatever its status, listed or
// not — in the campaign filtered by, or in every campaign of the policy.
func (c *Console) find(w http.ResponseWriter, r *http.Request, v *visitor, lv *listView, campaign, id string) {
	ctx := r.Context()
	lv.Find, lv.Filtered = id, true
	lv.Page, lv.Pages = 1, 1
	if !pipeline.ValidID(id) {
		lv.Ignored = append(lv.Ignored, "find")
	} else if _, err := c.d.State.Locate(ctx, id); err == nil {
		http.Redirect(w, r, Prefix+"submissions/"+id, http.StatusSeeOther)
		return
	} else if !errors.Is(err, state.ErrUnknownSubmission) {
		c.internalError(w, r, "locate", err)
		return
	} else {
		campaigns := []string{campaign}
		if campaign == "" {
			campaigns = sortedKeys(c.pol.Campaigns)
		}
		for _, cp := range campaigns {
			a, err := c.d.State.Get(ctx, cp, id)
			if err != nil {
				c.internalError(w, r, "application", err)
				return
			}
			if a.LastSubmission != "" {
				lv.Apps = append(lv.Apps, c.appRow(a))
			}
		}
	}
	lv.Total, lv.Shown = len(lv.Apps), len(lv.Apps)
	lv.FindMissing = len(lv.Apps) == 0
	c.listOptions(lv, state.Filter{Campaign: campaign}, "")
	c.show(w, r, v, http.StatusOK, "list", lv)
}

// listOptions fills the filter form's choices.
func (c *Console) listOptions(lv *listView, f state.Filter, status string) {
	for _, s := range sortedKeys(c.pol.SeriesNames) {
		l := c.pol.SeriesNames[s]
		lv.Series = append(lv.Series, option{Value: s, ZH: l.ZH, EN: l.EN, Selected: s == f.Series})
	}
	for _, s := range sortedKeys(c.pol.LevelNames) {
		l := c.pol.LevelNames[s]
		lv.Levels = append(lv.Levels, option{Value: s, ZH: l.ZH, EN: l.EN, Selected: s == f.Level})
	}
	for _, s := range statuses {
		lv.Statuses = append(lv.Statuses, option{Value: s, ZH: statusZH(s), EN: s, Selected: s == status})
	}
}

// parseDay reads a date (YYYY-MM-DD) as the start of that day in Beijing.
func parseDay(s string) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01-02", s, policy.Beijing)
	return t, err == nil
}

// filterHref is the list's URL with one filter changed.
func filterHref(q url.Values, key, val string) string {
	n := url.Values{}
	for k, vs := range q {
		n[k] = slices.Clone(vs)
	}
	if val == "" {
		n.Del(key)
	} else {
		n.Set(key, val)
	}
	if len(n) == 0 {
		return Prefix
	}
	return Prefix + "?" + n.Encode()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
