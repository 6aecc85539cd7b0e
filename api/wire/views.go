package wire

import (
	"encoding/json"
	"time"
)

// The answers of the API's routes, as the server writes them and the
// client reads them. Fields may be added; none is removed or renamed.

// Submitted is the answer to POST /v1/submissions: 202 with Status
// "queued", or 200 with "already queued" for the same document again.
type Submitted struct {
	Status       string `json:"status"`
	SubmissionID string `json:"submission_id"`
	Campaign     string `json:"campaign"`
	ApplicantID  string `json:"applicant_id"`
	// Href is where the state and report are read.
	Href string `json:"href"`
}

// Statuses of Submitted.
const (
	StatusQueued        = "queued"
	StatusAlreadyQueued = "already queued"
)

// Submission is the answer to GET /v1/submissions/{id}.
type Submission struct {
	SubmissionID string    `json:"submission_id"`
	Campaign     string    `json:"campaign"`
	ApplicantID  string    `json:"applicant_id"`
	SubmittedAt  time.Time `json:"submitted_at"`
	// State is where the submission is: queued, processing, retrying,
	// failed (archived task: an administrator must look), or the report's
	// status — accepted, rejected, refused.
	State       string      `json:"state"`
	Task        *Task       `json:"task,omitempty"`
	Application Application `json:"application"`
	// Report is the blindpack/report@1 document, once written (decode it
	// with pipeline.ParseReport, or a type of your own).
	Report json.RawMessage `json:"report,omitempty"`
}

// Task is the queue's view of a submission's task.
type Task struct {
	ID      string `json:"id"`
	Queue   string `json:"queue"`
	State   string `json:"state"`
	Retried int    `json:"retried"`
}

// Application is the state of a submission's application.
type Application struct {
	Status         string            `json:"status"`
	Returns        int               `json:"returns"`
	Deadline       *time.Time        `json:"deadline,omitempty"`
	LastSubmission string            `json:"last_submission,omitempty"`
	Submissions    map[string]string `json:"submissions"`
}

// ReprocessRequest is the body of POST /v1/submissions/{id}/reprocess.
type ReprocessRequest struct {
	// Overrides accept pages the clarity check flagged.
	Overrides []PageRef `json:"overrides,omitempty"`
	// Reason is required with overrides: one line, at most 500
	// characters; it goes into the report and the audit trail.
	Reason string `json:"reason,omitempty"`
}

// PageRef names a page: Material is the 0-based position in the
// submission's materials, Page 1-based in its file.
type PageRef struct {
	Material int `json:"material"`
	Page     int `json:"page"`
}

// Reprocessed is the answer to a reprocess.
type Reprocessed struct {
	Status       string `json:"status"`
	SubmissionID string `json:"submission_id"`
	TaskID       string `json:"task_id"`
	Overrides    int    `json:"overrides"`
}

// ResolveRequest is the body of POST /v1/submissions/{id}/release and
// /return.
type ResolveRequest struct {
	// Reason is required: one line, at most 500 characters; it goes into
	// the audit trail.
	Reason string `json:"reason"`
}

// Resolved answers a release or a return: queued on the critical queue.
type Resolved struct {
	Status       string `json:"status"`
	SubmissionID string `json:"submission_id"`
	Decision     string `json:"decision"`
	TaskID       string `json:"task_id"`
}

// AssignRequest is the body of POST /v1/assignments.
type AssignRequest struct {
	AnonCode string `json:"anon_code"`
	Reviewer string `json:"reviewer"`
}

// Assignment is the answer to an assignment or unassignment: Status is
// "assigned", "already assigned" or "unassigned".
type Assignment struct {
	Status   string `json:"status"`
	AnonCode string `json:"anon_code"`
	Reviewer string `json:"reviewer"`
}

// Assignments is the answer to GET /v1/assignments, in one of three
// shapes: a reviewer's codes (?reviewer=), a packet's reviewers
// (?anon_code=), or all (codes by reviewer).
type Assignments struct {
	Reviewer  string              `json:"reviewer,omitempty"`
	AnonCodes []string            `json:"anon_codes,omitempty"`
	AnonCode  string              `json:"anon_code,omitempty"`
	Reviewers []string            `json:"reviewers,omitempty"`
	All       map[string][]string `json:"assignments,omitempty"`
}

// Failures is the answer to GET /v1/failures.
type Failures struct {
	ArchivedTasks []ArchivedTask `json:"archived_tasks"`
	Applications  []Attention    `json:"applications"`
	// ApplicationsTotal is every application the filters select;
	// Applications is one page of them (?offset, ?limit).
	ApplicationsTotal int `json:"applications_total"`
	// Codes counts all the selected applications by finding code, with
	// ?code left out so that choosing a code does not hide the others.
	Codes map[string]int `json:"codes"`
}

// ArchivedTask is one failed task of any queue — webhook deliveries
// included — with the ids its payload names (never a document).
type ArchivedTask struct {
	ID           string    `json:"id"`
	Queue        string    `json:"queue"`
	Type         string    `json:"type"`
	Retried      int       `json:"retried"`
	LastFailedAt time.Time `json:"last_failed_at"`
	LastError    string    `json:"last_error"`
	Campaign     string    `json:"campaign,omitempty"`
	ApplicantID  string    `json:"applicant_id,omitempty"`
	SubmissionID string    `json:"submission_id,omitempty"`
	BatchKey     string    `json:"batch_key,omitempty"`
}

// Attention is one application needing an administrator.
type Attention struct {
	Campaign       string     `json:"campaign"`
	ApplicantID    string     `json:"applicant_id"`
	Status         string     `json:"status"`
	Returns        int        `json:"returns"`
	Deadline       *time.Time `json:"deadline,omitempty"`
	LastSubmission string     `json:"last_submission,omitempty"`
	LastOutcome    string     `json:"last_outcome,omitempty"`
	Series         string     `json:"series,omitempty"`
	Level          string     `json:"level,omitempty"`
	Codes          []string   `json:"codes"`
	Updated        time.Time  `json:"updated"`
}

// ResultQueued is the answer to POST /v1/results.
type ResultQueued struct {
	Status    string `json:"status"`
	Campaign  string `json:"campaign"`
	BatchKey  string `json:"batch_key"`
	OutputKey string `json:"output_key"`
}

// Trail is an application's audit trail, newest first.
type Trail struct {
	Campaign    string       `json:"campaign"`
	ApplicantID string       `json:"applicant_id"`
	Events      []AuditEvent `json:"events"`
}

// AuditEvent is one entry of a trail: who did what, when, from where.
type AuditEvent struct {
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	Submission string    `json:"submission,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	From       string    `json:"from,omitempty"`
}

// Packets is the answer to GET /v1/packets: the reviewer's packets.
type Packets struct {
	Reviewer string   `json:"reviewer"`
	Packets  []Packet `json:"packets"`
}

// Packet is one packet in a reviewer's list: what a reviewer may know of
// it, never the applicant.
type Packet struct {
	AnonCode string `json:"anon_code"`
	Campaign string `json:"campaign"`
	Series   string `json:"series,omitempty"`
	Level    string `json:"level,omitempty"`
	// Pages is the packet's page count, when it is available.
	Pages int `json:"pages,omitempty"`
	// Available says whether the packet can be downloaded now (the
	// application is accepted and its packet published).
	Available bool `json:"available"`
	// AssignedAt is when the packet was assigned; ReviewedAt when the
	// reviewer marked it reviewed (in the portal).
	AssignedAt *time.Time `json:"assigned_at,omitempty"`
	ReviewedAt *time.Time `json:"reviewed_at,omitempty"`
	// CopyMadeAt is when the reviewer's personal copy was made, if it was.
	CopyMadeAt *time.Time `json:"copy_made_at,omitempty"`
	// Href is where the personal copy is downloaded (GET streams the PDF).
	Href string `json:"href"`
}
