package verify

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/pipeline/finding"
)

// TestRawChecksAcrossChunks: the byte-level checks read the file a chunk
// at a time and must find what straddles two chunks as they found it in
// the whole file, and tell white space after %%EOF — Unicode's too, cut
// between two reads — from data.
func TestRawChecksAcrossChunks(t *testing.T) {
	id := Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"}
	pad := func(n int) string { return strings.Repeat("0", n) }
	// at places s so that it starts k bytes before the first chunk ends.
	at := func(s string, k int) string { return pad(rawChunk-k) + s }
	const head, tail = "%PDF-1.7\n", "\nstartxref\n9\n%%EOF"
	for _, tc := range []struct {
		name string
		file string
		want []finding.Code
	}{
		{"clean", head + tail + "\n", nil},
		{"clean, long", head + at("x", 3) + pad(3*rawChunk) + tail, nil},
		{"name across the chunk edge", head + at(id.Name, 4) + tail, []finding.Code{finding.IdentityLeak}},
		{"employer across the chunk edge", head + at(id.Employer, 20) + tail, []finding.Code{finding.IdentityLeak}},
		{"second startxref across the edge", head + at("startxref", 5) + tail, []finding.Code{finding.IncrementalUpdate}},
		{"the end across the edge, then data", head + at("startxref\n9\n%%EOF", 2) + "trailer", []finding.Code{finding.TrailingData}},
		{"%%EOF across the edge", head + "startxref\n9\n" + at("%%EOF", 2) + "\n", nil},
		{"ideographic spaces over 64 KiB after %%EOF", head + tail + strings.Repeat("\u3000", 30000) + "\r\n", nil},
		{"spaces then a byte after %%EOF", head + tail + strings.Repeat(" ", 100000) + "x", []finding.Code{finding.TrailingData}},
		{"no %%EOF", head + "startxref\n9\n", []finding.Code{finding.UnverifiablePacket}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &verifier{r: bytes.NewReader([]byte(tc.file)), size: int64(len(tc.file)), needles: identityNeedles(id), seen: map[Problem]bool{}}
			if err := v.rawChecks(); err != nil {
				t.Fatal(err)
			}
			var got []finding.Code
			for _, p := range v.problems {
				got = append(got, p.Code)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", v.problems, tc.want)
			}
		})
	}
}
