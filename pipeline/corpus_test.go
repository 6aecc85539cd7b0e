package pipeline_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/internal/pdfcheck"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/mask"
)

// TestAdversarialCorpus feeds application forms that carry the identity in
// every place a careless redaction tool keeps it. Each must give a packet
// that the independent tools find clean, or a rejection with the right
// code — never a leaking packet.
func TestAdversarialCorpus(t *testing.T) {
	p := newPipeline(t)
	_, base := sample(t, "eng-intermediate")
	cases, err := synth.Adversarial(synth.Identity{Name: base.Identity.Name, Employer: base.Identity.Employer})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			dir, sub := sample(t, "eng-intermediate")
			// The identity really is in the file we feed.
			if c.Reject == "" && !strings.Contains(c.Name, "Rotate") && !strings.Contains(c.Name, "revision") && !carries(c.File, sub.Identity) {
				// Split across operators, the name is in no byte run; a
				// reader's text extraction still finds it.
				text := pdfcheck.Text(t, pdfcheck.File(t, c.File), 0, 0)
				if !strings.Contains(text, sub.Identity.Name) {
					t.Fatal("the corpus file does not carry the identity: neither its bytes nor pdftotext show it")
				}
			}
			m := material(sub, "application_form")
			m.File = "form.bin"
			m.Masks = nil
			for _, mk := range c.Masks {
				m.Masks = append(m.Masks, pipeline.Mask{Page: mk.Page, Kind: mk.Kind, Rect: mask.Rect(mk.Rect)})
			}
			if err := os.WriteFile(filepath.Join(dir, m.File), c.File, 0o644); err != nil {
				t.Fatal(err)
			}
			rep, pdf := process(t, p, dir, sub)
			if c.Reject != "" {
				var codes []finding.Code
				for _, f := range rep.Findings {
					codes = append(codes, f.Code)
				}
				if rep.Status != pipeline.Rejected || !slices.Contains(codes, finding.Code(c.Reject)) {
					t.Fatalf("status %s, codes %v; want rejected with %s", rep.Status, codes, c.Reject)
				}
				return
			}
			checkClean(t, rep, pdf, sub)
		})
	}
}

// checkClean checks an accepted packet with independent tools, as anyone
// who downloads it could: pdfcheck's checks of the packet, neither the
// name nor the employer anywhere in its bytes, no metadata exiftool finds
// in any of its images. It returns the packet's path.
func checkClean(t *testing.T, rep *pipeline.Report, pdf []byte, sub *pipeline.Submission) string {
	t.Helper()
	if rep.Status != pipeline.Accepted {
		t.Fatalf("status %s: %+v", rep.Status, rep.Findings)
	}
	path := pdfcheck.File(t, pdf)
	pdfcheck.Packet(t, path, sub, rep)
	if carries(pdf, sub.Identity) {
		t.Error("the packet's bytes hold the identity")
	}
	for img, tags := range pdfcheck.ImageTags(t, path) {
		t.Errorf("exiftool finds metadata in %s: %v", img, tags)
	}
	return path
}

// carries reports whether data holds the name or employer as UTF-8 or
// UTF-16 (big- or little-endian) bytes, or as UTF-16 written in hex the way
// PDF strings and text layers write it.
func carries(data []byte, id pipeline.Identity) bool {
	for _, s := range []string{id.Name, id.Employer} {
		var be, le []byte
		var hexBE strings.Builder
		for _, r := range s {
			be = append(be, byte(r>>8), byte(r))
			le = append(le, byte(r), byte(r>>8))
			fmt.Fprintf(&hexBE, "%04X", r)
		}
		for _, n := range [][]byte{[]byte(s), be, le, []byte(hexBE.String())} {
			if bytes.Contains(data, n) {
				return true
			}
		}
	}
	return false
}
