package pipeline

import (
	"fmt"
	"time"

	"github.com/blindpack/blindpack/pipeline/finding"
)

// Codes of a refused submission: it is not processed at all.
const (
	TooManyReturns          finding.Code = "too_many_returns"
	ResubmissionOverdue     finding.Code = "resubmission_overdue"
	ApplicationAbandoned    finding.Code = "application_abandoned"
	AlreadyAccepted         finding.Code = "already_accepted"
	OutsideSubmissionWindow finding.Code = "outside_submission_window"
	UnknownCampaign         finding.Code = "unknown_campaign"
)

func init() {
	finding.Register(TooManyReturns, "本申请已被退回{v}次，按规定不能再次提交。", "This application has been returned {v} times and, under the rules, cannot be submitted again.")
	finding.Register(ResubmissionOverdue, "退回后须在48小时内修改完善后重新上报，本次提交已逾期（截止{v}），视为放弃申报。", "A returned application must be resubmitted within 48 hours; this submission came after the deadline ({v}) and the application counts as given up.")
	finding.Register(ApplicationAbandoned, "本申请已因逾期未补正视为放弃申报，不能再次提交。", "This application was given up (not resubmitted in time) and cannot be submitted again.")
	finding.Register(AlreadyAccepted, "本申请的材料已审核通过，无需再次提交。", "This application's materials were already accepted; there is nothing to resubmit.")
	finding.Register(OutsideSubmissionWindow, "不在网上申报时间内（{v}），不能提交。", "The submission is outside the online submission period ({v}).")
	finding.Register(UnknownCampaign, "评审年度“{v}”未开放申报。", "Campaign {v} is not open for submissions.")
}

// Application is what the pipeline needs to know of an application's
// history to admit a new submission; package state stores it.
type Application struct {
	Status ApplicationStatus
	// Returns counts distinct rejected submissions.
	Returns int
	// Deadline closes the latest return's window.
	Deadline time.Time
	// Outcomes of the submissions recorded so far, by id.
	Outcomes map[string]Status
}

// ReturnRules are the notice's rules on returned applications: a window to
// resubmit (48 hours) and the number of returns after which the next
// submission is refused (3).
type ReturnRules struct {
	Window     time.Duration
	MaxReturns int
}

// Calendar is a campaign's online submission period: SubmitFrom is the
// first instant, SubmitUntil the first instant after it.
type Calendar struct {
	SubmitFrom, SubmitUntil time.Time
}

// Admit decides whether a submission may be processed. It returns nil to
// admit, or the finding of a refusal. A submission that was already decided
// is always admitted again, so that re-running a task gives the same result
// whatever happened since.
func Admit(app Application, submissionID string, submittedAt time.Time, rules ReturnRules, cal *Calendar) *finding.Finding {
	refuse := func(code finding.Code, v string) *finding.Finding {
		f := finding.New(code, finding.Args{Value: v})
		return &f
	}
	if app.Outcomes[submissionID].Decides() {
		return nil
	}
	switch app.Status {
	case AppAccepted:
		return refuse(AlreadyAccepted, "")
	case AppAbandoned:
		return refuse(ApplicationAbandoned, "")
	}
	if rules.MaxReturns > 0 && app.Returns >= rules.MaxReturns {
		return refuse(TooManyReturns, fmt.Sprint(app.Returns))
	}
	if app.Status == AppReturned {
		// A resubmission after a return is judged by its deadline, which
		// may fall after the submission period: returns happen during
		// review.
		if submittedAt.After(app.Deadline) {
			return refuse(ResubmissionOverdue, app.Deadline.In(chinaTime).Format("2006-01-02 15:04"))
		}
		return nil
	}
	if cal == nil {
		return refuse(UnknownCampaign, "")
	}
	if submittedAt.Before(cal.SubmitFrom) || !submittedAt.Before(cal.SubmitUntil) {
		return refuse(OutsideSubmissionWindow, cal.SubmitFrom.In(chinaTime).Format("2006-01-02")+" – "+cal.SubmitUntil.Add(-time.Second).In(chinaTime).Format("2006-01-02"))
	}
	return nil
}

// chinaTime is the time the notice's dates are in (Xinjiang's offices keep
// Beijing time, UTC+8, for official deadlines).
var chinaTime = time.FixedZone("CST", 8*3600)

// Refuse makes the report of a refused submission.
func Refuse(campaign, applicantID, submissionID string, f finding.Finding) *Report {
	r := NewReport(campaign, applicantID, submissionID)
	r.Status = Refused
	r.Findings = append(r.Findings, f)
	return r
}
