package ocr

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/blindpack/blindpack/pipeline/finding"
)

// DocumentSchema is the schema of the OCR document.
const DocumentSchema = "blindpack/ocr@1"

// Document is the result of reading one submission's packet
// (`blindpack/ocr@1`), stored beside its report. The report itself is not
// rewritten: the packet was published before OCR ran, and a hit is for an
// administrator to judge, not a rejection.
type Document struct {
	Schema       string `json:"schema"`
	Campaign     string `json:"campaign"`
	ApplicantID  string `json:"applicant_id"`
	SubmissionID string `json:"submission_id"`
	AnonCode     string `json:"anon_code"`
	// PacketSHA256 is the packet that was read, as the report gives it.
	PacketSHA256 string     `json:"packet_sha256"`
	Engine       EngineInfo `json:"engine"`
	// DPI is the resolution pages were rendered at.
	DPI int `json:"dpi"`
	// Pages is how many packet pages were read: all but the cover.
	Pages      int   `json:"pages"`
	DurationMS int64 `json:"duration_ms"`
	// Hits are the places the identity seems visible, each a finding
	// (code identity_visible, material, type, page in the material's file,
	// messages, "box […]" in Detail) with the packet page, the kind and the
	// box as numbers. Never the text read.
	Hits []DocumentHit `json:"hits"`
}

// DocumentHit is one hit as stored: the finding, and the hit's packet
// page, kind, form and distance (see Hit) and box as numbers.
type DocumentHit struct {
	finding.Finding
	PacketPage int    `json:"packet_page"`
	Kind       Kind   `json:"kind"`
	Form       string `json:"form"`
	Distance   int    `json:"distance"`
	Box        Rect   `json:"box"`
}

// Marshal encodes the document as indented JSON with a final newline.
func (d *Document) Marshal() []byte {
	if d.Hits == nil {
		d.Hits = []DocumentHit{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		panic("ocr: document does not encode: " + err.Error()) // only plain types inside
	}
	return b.Bytes()
}

// ParseDocument decodes a stored document.
func ParseDocument(data []byte) (*Document, error) {
	var d Document
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("ocr: parse document: %w", err)
	}
	if d.Schema != DocumentSchema {
		return nil, fmt.Errorf("ocr: document schema %q", d.Schema)
	}
	return &d, nil
}
