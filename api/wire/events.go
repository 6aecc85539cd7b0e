package wire

import (
	"encoding/json"
	"fmt"
	"time"
)

// EventType names a webhook event.
type EventType string

// Event types. Receivers should ignore types they do not know: new ones
// may be added.
const (
	// EventSubmissionAccepted: a submission's report is written and says
	// accepted; its packet is published.
	EventSubmissionAccepted EventType = "submission.accepted"
	// EventSubmissionReturned: the report says rejected — the application
	// is returned to the applicant, who may resubmit before resubmit_by.
	EventSubmissionReturned EventType = "submission.returned"
	// EventSubmissionRefused: the submission was not processed (outside
	// the campaign's period, too many returns, too late, already
	// accepted).
	EventSubmissionRefused EventType = "submission.refused"
	// EventSubmissionHeld: the packet is on hold until an administrator
	// has reviewed an OCR hit (status "held"). It is emitted where a
	// worker sets that status.
	EventSubmissionHeld EventType = "submission.held"
	// EventResultIssued: a signed result file was published in the
	// results bucket.
	EventResultIssued EventType = "result.issued"
)

// EventTypes lists every event type.
var EventTypes = []EventType{EventSubmissionAccepted, EventSubmissionReturned, EventSubmissionRefused, EventSubmissionHeld, EventResultIssued}

// Known reports whether t is a type this version emits.
func (t EventType) Known() bool {
	for _, k := range EventTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Event is the body of a webhook delivery, in the shape the Standard
// Webhooks specification recommends: {"type", "timestamp", "data"}. The
// event's id is the webhook-id header; it is the same on every attempt, so
// that a receiver keeps the ids it has seen and drops repeats.
type Event struct {
	Type EventType `json:"type"`
	// Timestamp is when the event happened (not when it was delivered:
	// that is the webhook-timestamp header).
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// Submission decodes the data of a submission.* event.
func (e Event) Submission() (SubmissionData, error) {
	var d SubmissionData
	if len(e.Type) < 11 || e.Type[:11] != "submission." {
		return d, fmt.Errorf("wire: %s is not a submission event", e.Type)
	}
	err := json.Unmarshal(e.Data, &d)
	return d, err
}

// Result decodes the data of a result.issued event.
func (e Event) Result() (ResultData, error) {
	var d ResultData
	if e.Type != EventResultIssued {
		return d, fmt.Errorf("wire: %s is not a result event", e.Type)
	}
	err := json.Unmarshal(e.Data, &d)
	return d, err
}

// SubmissionData is the data of submission.* events: ids, the status the
// report gives, finding codes and a link — never a name, an employer, a
// finding's sentence or a file.
type SubmissionData struct {
	Campaign     string `json:"campaign"`
	ApplicantID  string `json:"applicant_id"`
	SubmissionID string `json:"submission_id"`
	// Status is the report's: accepted, rejected, refused (or held).
	Status string `json:"status"`
	// Codes are the distinct finding codes of the report, in its order.
	Codes []string `json:"codes"`
	// Returns, MaxReturns and ResubmitBy are set on submission.returned.
	Returns    int        `json:"returns,omitempty"`
	MaxReturns int        `json:"max_returns,omitempty"`
	ResubmitBy *time.Time `json:"resubmit_by,omitempty"`
	Links      Links      `json:"links"`
}

// ResultData is the data of result.issued. Result files are public, but
// the event still names no person: a count, the document number and where
// the file is (its key, and its public address in Links["file"]).
type ResultData struct {
	Campaign  string `json:"campaign"`
	DocNumber string `json:"doc_number"`
	// OutputKey is the file's key in the results bucket.
	OutputKey string `json:"output_key"`
	SHA256    string `json:"sha256"`
	Persons   int    `json:"persons"`
	Pages     int    `json:"pages"`
	Links     Links  `json:"links"`
}

// Links point to where more is read: "submission" is GET
// /v1/submissions/{id} (state and report), read with the caller's token;
// "file" is the published result file, public (ResultFilePath). They are
// absolute when the sender is configured with its public address.
type Links map[string]string
