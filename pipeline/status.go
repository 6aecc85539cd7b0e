package pipeline

import (
	"slices"
)

// Three vocabularies say where things stand, and this file is the only
// place they are spelled:
//
//   - Status: the outcome of one submission, its report's "status";
//   - ApplicationStatus: where an application (one applicant in one
//     campaign) stands after the outcomes of its submissions;
//   - SubmissionState: where one submission is for the people following
//     it — its task's progress until the report is written, then the
//     report's Status.
//
// package state stores them, workers records them, the API and the console
// show them, always as these typed values. Adding a value is one line in
// its table below (its constant beside it): what it does to an application,
// whether it needs a person's look, and its Chinese name come with it.

// Status is the outcome of one submission: the "status" of its report
// (blindpack/report@1).
type Status string

// Outcomes of a submission.
const (
	// Accepted: the packet was built and published.
	Accepted Status = "accepted"
	// Rejected: returned to the applicant with findings to fix.
	Rejected Status = "rejected"
	// Refused: not processed at all (e.g. too many returns, outside the
	// campaign window).
	Refused Status = "refused"
	// Held: the packet was built but OCR read the identity outside the
	// masks; it stays staged, unpublished, until an administrator releases
	// it (an OCR misreading) or returns it to the applicant.
	Held Status = "held"
)

// Outcome is what a submission's Status does to its application.
type Outcome struct {
	// Application is the application's status after it; empty leaves the
	// status as it was (a refused submission was never processed, so it
	// decides nothing).
	Application ApplicationStatus
	// Return counts the submission as a return: the applicant gets a
	// window to resubmit, and returns are limited.
	Return bool
	// Attention lists the application for administrators.
	Attention bool
	// ZH names the status in Chinese, for people's pages.
	ZH string
}

// outcomes is the vocabulary of Status.
var outcomes = map[Status]Outcome{
	Accepted: {Application: AppAccepted, ZH: "已通过"},
	Rejected: {Application: AppReturned, Return: true, Attention: true, ZH: "已退回"},
	Refused:  {Attention: true, ZH: "已拒收"},
	Held:     {Attention: true, ZH: "待人工核查"},
}

// Outcome returns what s does to its application; ok is false when s is
// not a status of this vocabulary.
func (s Status) Outcome() (o Outcome, ok bool) {
	o, ok = outcomes[s]
	return o, ok
}

// Valid reports whether s is a status of this vocabulary.
func (s Status) Valid() bool { _, ok := outcomes[s]; return ok }

// Decides reports whether a submission with this status was processed and
// so decides its application's status (a refusal does not).
func (s Status) Decides() bool { return outcomes[s].Application != "" }

// ZH names the status in Chinese ("" for a status not in the vocabulary).
func (s Status) ZH() string { return outcomes[s].ZH }

// State is the SubmissionState of a submission whose report has status s.
func (s Status) State() SubmissionState { return SubmissionState(s) }

// Statuses lists every submission status, sorted.
func Statuses() []Status { return sortedKeys(outcomes) }

// ReturnStatuses lists the submission statuses that count as a return.
func ReturnStatuses() []Status {
	var out []Status
	for _, s := range Statuses() {
		if outcomes[s].Return {
			out = append(out, s)
		}
	}
	return out
}

// ApplicationStatus is where an application stands after the outcomes of
// its submissions.
type ApplicationStatus string

// Application statuses.
const (
	// AppPending: nothing decided yet.
	AppPending ApplicationStatus = "pending"
	// AppAccepted: a submission was accepted; its packet is
	// published.
	AppAccepted ApplicationStatus = "accepted"
	// AppReturned: the latest decided submission was rejected; the
	// applicant may resubmit until the deadline.
	AppReturned ApplicationStatus = "returned"
	// AppAbandoned: returned, and the deadline passed without a
	// resubmission.
	AppAbandoned ApplicationStatus = "abandoned"
)

// applicationStatus describes an ApplicationStatus.
type applicationStatus struct {
	// attention: an application in this status is listed for
	// administrators.
	attention bool
	zh        string
}

// applicationStatuses is the vocabulary of ApplicationStatus.
var applicationStatuses = map[ApplicationStatus]applicationStatus{
	AppPending:   {zh: "待处理"},
	AppAccepted:  {zh: "已通过"},
	AppReturned:  {attention: true, zh: "已退回"},
	AppAbandoned: {attention: true, zh: "已放弃"},
}

// Valid reports whether s is an application status of this vocabulary.
func (s ApplicationStatus) Valid() bool { _, ok := applicationStatuses[s]; return ok }

// ZH names the application status in Chinese.
func (s ApplicationStatus) ZH() string { return applicationStatuses[s].zh }

// ApplicationStatuses lists every application status, sorted.
func ApplicationStatuses() []ApplicationStatus { return sortedKeys(applicationStatuses) }

// Listed is how an application appears in administrators' list of what
// needs attention, and whether it is there at all: by its latest
// submission when that needs a look but decided nothing (a refusal), else
// by its status. The listing is the spelling of a Status or of an
// ApplicationStatus.
func Listed(app ApplicationStatus, last Status) (string, bool) {
	if o := outcomes[last]; o.Attention && o.Application == "" {
		return string(last), true
	}
	return string(app), applicationStatuses[app].attention
}

// Listings are the values Listed gives to applications needing attention:
// what an administrator filters the list by.
func Listings() []string {
	var out []string
	for _, s := range ApplicationStatuses() {
		if applicationStatuses[s].attention {
			out = append(out, string(s))
		}
	}
	for _, s := range Statuses() {
		if o := outcomes[s]; o.Attention && o.Application == "" {
			out = append(out, string(s))
		}
	}
	return out
}

// SubmissionState is where one submission is, for the upload service and
// administrators following it: where its task is until its report is
// written (Queued, Processing, Retrying, Failed), then its report's Status
// (see Status.State).
type SubmissionState string

// States of a submission before its report.
const (
	// Queued: waiting for a worker.
	Queued SubmissionState = "queued"
	// Processing: a worker has it.
	Processing SubmissionState = "processing"
	// Retrying: a run failed on something passing (Redis, the object
	// store); it will run again.
	Retrying SubmissionState = "retrying"
	// Failed: out of retries and archived; an administrator must look.
	Failed SubmissionState = "failed"
)

// submissionStates is the vocabulary of SubmissionState before a report;
// the states after it are the Statuses.
var submissionStates = map[SubmissionState]string{
	Queued:     "排队中",
	Processing: "处理中",
	Retrying:   "重试中",
	Failed:     "处理失败",
}

// ZH names the state in Chinese.
func (s SubmissionState) ZH() string {
	if zh, ok := submissionStates[s]; ok {
		return zh
	}
	return Status(s).ZH()
}

// Valid reports whether s is a state of this vocabulary.
func (s SubmissionState) Valid() bool {
	_, ok := submissionStates[s]
	return ok || Status(s).Valid()
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
