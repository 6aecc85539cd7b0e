package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/blindpack/blindpack/pipeline/finding"
)

// ReportSchema is the schema of the report document.
const ReportSchema = "blindpack/report@1"

// Report is the result of processing one submission (`blindpack/report@1`).
// It names the applicant only by ids and anonymous code.
type Report struct {
	Schema       string            `json:"schema"`
	Campaign     string            `json:"campaign"`
	ApplicantID  string            `json:"applicant_id"`
	SubmissionID string            `json:"submission_id"`
	AnonCode     string            `json:"anon_code,omitempty"`
	Status       Status            `json:"status"`
	Findings     []finding.Finding `json:"findings"`
	Packet       *PacketInfo       `json:"packet,omitempty"`
	// Overrides are administrators' decisions applied in this run.
	Overrides []Override `json:"overrides,omitempty"`
}

// PacketInfo describes a published packet.
type PacketInfo struct {
	// Location is where the packet is published: "bucket/key" in an object
	// store, or a file path for a local run. Set by whoever publishes it.
	Location string       `json:"location"`
	Pages    int          `json:"pages"`
	Bytes    int64        `json:"bytes"`
	SHA256   string       `json:"sha256"`
	Index    []IndexEntry `json:"index"`
}

// IndexEntry places one material in the packet.
type IndexEntry struct {
	// Material is the 0-based position in the submission's materials.
	Material int    `json:"material"`
	Type     string `json:"type"`
	// Pages pairs [source_page, packet_page], both 1-based.
	Pages [][2]int `json:"pages"`
}

// NewReport starts a report for the given ids.
func NewReport(campaign, applicantID, submissionID string) *Report {
	return &Report{Schema: ReportSchema, Campaign: campaign, ApplicantID: applicantID, SubmissionID: submissionID,
		Findings: []finding.Finding{}}
}

// Reject sets the report to rejected with the given findings.
func (r *Report) Reject(f ...finding.Finding) *Report {
	r.Status = Rejected
	r.Findings = append(r.Findings, f...)
	r.Packet = nil
	return r
}

// Marshal encodes the report as indented JSON with a final newline, the
// form in which it is stored. Encoding is deterministic.
func (r *Report) Marshal() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		panic("pipeline: report does not encode: " + err.Error()) // only plain types inside
	}
	return b.Bytes()
}

// ParseReport decodes a stored report.
func ParseReport(data []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("pipeline: parse report: %w", err)
	}
	if r.Schema != ReportSchema {
		return nil, fmt.Errorf("pipeline: report schema %q", r.Schema)
	}
	return &r, nil
}
