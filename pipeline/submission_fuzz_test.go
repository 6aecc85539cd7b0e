package pipeline

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/policy"
)

// FuzzParseSubmission: any document either parses into a submission of
// the right schema that survives a round trip through JSON and a check
// against the policy, or fails with a finding.
func FuzzParseSubmission(f *testing.F) {
	pol := policy.Default()
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSubmission(data)
		if err != nil {
			var fe *finding.Error
			if !errors.As(err, &fe) {
				t.Fatalf("not a finding: %v", err)
			}
			return
		}
		if s.Schema != SubmissionSchema {
			t.Fatalf("schema %q accepted", s.Schema)
		}
		js, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := ParseSubmission(js)
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if len(again.Materials) != len(s.Materials) || again.Identity != s.Identity {
			t.Fatalf("round trip changed the submission")
		}
		s.check(pol)
	})
}
