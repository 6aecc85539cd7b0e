package pipeline

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/blindpack/blindpack/internal/strictjson"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/mask"
	"github.com/blindpack/blindpack/pipeline/policy"
)

// SubmissionSchema is the schema a submission document declares.
const SubmissionSchema = "blindpack/submission@1"

// Submission is one (re)submission of an application, as the upload service
// writes it (`blindpack/submission@1`).
type Submission struct {
	Schema       string     `json:"schema"`
	Campaign     string     `json:"campaign"`
	ApplicantID  string     `json:"applicant_id"`
	SubmissionID string     `json:"submission_id"`
	Series       string     `json:"series"`
	Level        string     `json:"level"`
	Identity     Identity   `json:"identity"`
	Materials    []Material `json:"materials"`
}

// Identity is the applicant's name and employer. The pipeline receives it
// only to check that nothing it publishes carries it; it is never written to
// a packet, report, log line or task payload. String and LogValue hide it
// so that a stray %v or slog attribute cannot leak it either.
type Identity struct {
	Name     string `json:"name"`
	Employer string `json:"employer"`
}

// String hides the identity from formatted output.
func (Identity) String() string { return "[identity withheld]" }

// GoString hides the identity from %#v.
func (Identity) GoString() string { return "[identity withheld]" }

// Material is one uploaded file of a submission.
type Material struct {
	Type  string `json:"type"`
	File  string `json:"file"`
	Masks []Mask `json:"masks"`
	// Publicity is the period of the employer's internal publicity, given
	// on the employer_publicity material only. An extension of
	// submission@1.
	Publicity *Publicity `json:"publicity,omitempty"`
}

// Publicity is an inclusive period of days, YYYY-MM-DD in Beijing time.
type Publicity struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// publicityMaterial is the material type that may carry the period.
const publicityMaterial = "employer_publicity"

// Mask is a rectangle the applicant marked on a page.
type Mask struct {
	Page int       `json:"page"`
	Kind string    `json:"kind"`
	Rect mask.Rect `json:"rect"`
}

// ParseSubmission decodes a submission document strictly (package
// strictjson: unknown, repeated or case-mismatched members, trailing data
// and invalid UTF-8 are errors) and checks its schema. Problems are
// returned as a *finding.Error so that the caller can report them; they
// never quote the document.
func ParseSubmission(data []byte) (*Submission, error) {
	var s Submission
	if err := strictjson.Decode(data, 0, &s); err != nil {
		return nil, finding.Errorf(finding.MalformedSubmission, 0, err.Error(), err)
	}
	if s.Schema != SubmissionSchema {
		return nil, finding.Errorf(finding.UnsupportedSchema, 0, fmt.Sprintf("%q", s.Schema), nil)
	}
	return &s, nil
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidID reports whether s can be a campaign, applicant or submission id:
// ids become parts of object keys and task ids, so they are kept to a safe
// alphabet.
func ValidID(s string) bool { return idPattern.MatchString(s) && !strings.Contains(s, "..") }

// check validates the submission against the policy and returns every
// problem found, so that the applicant can fix them all in one round.
func (s *Submission) check(pol *policy.Policy) []finding.Finding {
	var out []finding.Finding
	field := func(name string) {
		out = append(out, finding.New(finding.InvalidField, finding.Args{Value: name}))
	}
	for _, id := range []struct{ name, v string }{{"campaign", s.Campaign}, {"applicant_id", s.ApplicantID}, {"submission_id", s.SubmissionID}} {
		if !ValidID(id.v) {
			field(id.name)
		}
	}
	if _, ok := pol.Series(s.Series); !ok {
		field("series")
	}
	if _, ok := pol.Level(s.Level); !ok {
		field("level")
	}
	if _, ok1 := pol.Series(s.Series); ok1 {
		if _, ok2 := pol.Level(s.Level); ok2 && !pol.InScope(s.Series, s.Level) {
			field("series/level (" + s.Series + "/" + s.Level + " is not open in this notice)")
		}
	}
	if strings.TrimSpace(s.Identity.Name) == "" || strings.TrimSpace(s.Identity.Employer) == "" {
		field("identity")
	}
	if len(s.Materials) == 0 {
		field("materials")
	}

	count := map[string]int{}
	for i, m := range s.Materials {
		spec, known := pol.Material(m.Type)
		at := func(f finding.Finding) finding.Finding {
			f.Material, f.Type = &i, m.Type
			return f
		}
		if !known {
			out = append(out, at(finding.New(finding.UnknownMaterialType, finding.Args{Value: m.Type})))
			continue
		}
		args := finding.Args{MaterialZH: spec.ShortZH, MaterialEN: spec.EN}
		count[m.Type]++
		if count[m.Type] == 2 && !spec.Repeatable {
			out = append(out, at(finding.New(finding.DuplicateMaterial, args)))
		}
		if strings.TrimSpace(m.File) == "" {
			a := args
			a.Value = fmt.Sprintf("materials[%d].file", i)
			out = append(out, at(finding.New(finding.InvalidField, a)))
		}
		kinds := map[string]bool{}
		for _, mk := range m.Masks {
			a := args
			a.Page = mk.Page
			switch {
			case !slices.Contains(policy.MaskKinds, mk.Kind):
				a.Value = fmt.Sprintf("kind %q", mk.Kind)
			case mk.Page < 1:
				a.Value = "page must be 1 or more"
			case !mk.Rect.Valid():
				a.Value = "rectangle outside the page or empty"
			default:
				kinds[mk.Kind] = true
				continue
			}
			out = append(out, at(finding.New(finding.MaskInvalid, a)))
		}
		for _, k := range spec.Masks {
			if !kinds[k] {
				a := args
				a.Value, a.ValueEN = maskKindZH[k], k
				out = append(out, at(finding.New(finding.MaskMissing, a)))
			}
		}
	}
	out = append(out, s.checkPublicity(pol)...)
	for _, group := range pol.Required(s.Series, s.Level) {
		present := false
		for _, t := range group {
			present = present || count[t] > 0
		}
		if present {
			continue
		}
		var zh, en []string
		for _, t := range group {
			spec, _ := pol.Material(t)
			zh, en = append(zh, spec.ShortZH), append(en, spec.EN)
		}
		f := finding.New(finding.MissingMaterial, finding.Args{MaterialZH: strings.Join(zh, "或"), MaterialEN: strings.Join(en, " or ")})
		f.Type = group[0]
		out = append(out, f)
	}
	return out
}

var maskKindZH = map[string]string{"name": "姓名", "employer": "工作单位"}

// checkPublicity applies the notice's rule on the employer's publicity
// (通知 三(三)): at least the policy's number of working days, counted by
// the official calendar, adjusted working days (调休) included.
func (s *Submission) checkPublicity(pol *policy.Policy) []finding.Finding {
	var out []finding.Finding
	rule := pol.Publicity
	seen := -1 // the first employer_publicity material
	given := false
	for i, m := range s.Materials {
		if m.Type == publicityMaterial && seen < 0 {
			seen = i
		}
		if m.Publicity == nil {
			continue
		}
		at := func(f finding.Finding) finding.Finding {
			f.Material, f.Type = &i, m.Type
			return f
		}
		field := fmt.Sprintf("materials[%d].publicity", i)
		if m.Type != publicityMaterial {
			out = append(out, at(finding.New(finding.InvalidField, finding.Args{Value: field + " (only on " + publicityMaterial + ")"})))
			continue
		}
		given = true
		start, err1 := policy.ParseDay(m.Publicity.Start)
		end, err2 := policy.ParseDay(m.Publicity.End)
		switch {
		case err1 != nil || err2 != nil:
			out = append(out, at(finding.New(finding.InvalidField, finding.Args{Value: field + " (dates as YYYY-MM-DD)"})))
			continue
		case end.Before(start) || end.Sub(start) > 366*24*time.Hour:
			out = append(out, at(finding.New(finding.InvalidField, finding.Args{Value: field + " (end before start, or longer than a year)"})))
			continue
		}
		n, known := pol.WorkingDays(start, end)
		if n >= rule.MinWorkingDays {
			continue
		}
		spec, _ := pol.Material(m.Type)
		f := at(finding.New(finding.PublicityTooShort, finding.Args{MaterialZH: spec.ShortZH, MaterialEN: spec.EN,
			Value: m.Publicity.Start + " 至 " + m.Publicity.End, ValueEN: m.Publicity.Start + " to " + m.Publicity.End,
			Measured: finding.Num(float64(n)), Threshold: finding.Num(float64(rule.MinWorkingDays))}))
		if !known {
			f.Detail = "the policy has no holiday calendar for part of the period: Monday to Friday counted as working days"
		}
		out = append(out, f)
	}
	if rule.RequirePeriod && seen >= 0 && !given {
		spec, _ := pol.Material(publicityMaterial)
		f := finding.New(finding.PublicityPeriodMissing, finding.Args{MaterialZH: spec.ShortZH, MaterialEN: spec.EN,
			Threshold: finding.Num(float64(rule.MinWorkingDays))})
		f.Material, f.Type = &seen, publicityMaterial
		out = append(out, f)
	}
	return out
}

// Marshal encodes a submission as indented JSON.
func (s *Submission) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
