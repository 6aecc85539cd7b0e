package pipeline_test

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
)

// TestTypedPageIdentityCheck runs a work summary exported by LibreOffice
// through the render path and the text-layer check end to end. The true
// places of the name and the employer come from poppler's pdftotext -bbox,
// not from blindpack's reader. Mask suggestions on the file equal them
// within 1 % of the page; the name left unmasked, or its mask drawn 5 % of
// the page to the right, returns the submission with identity_unmasked and
// the name's box; the masks where they belong are accepted.
func TestTypedPageIdentityCheck(t *testing.T) {
	p := newPipeline(t)
	dir, sub := sample(t, "eng-intermediate")
	id := sub.Identity
	in := typedSummary(t, dir, id, 12)
	padded := wordMasks(t, filepath.Join(dir, "summary.pdf"), id)
	// wordMasks pads each word by 3 points on every side; the true box is
	// without it. The page is A4 (595 × 842 points).
	truth := map[string][4]float64{}
	for _, mk := range padded {
		r := mk.Rect
		truth[mk.Kind] = [4]float64{r[0] + 3.0/595, r[1] + 3.0/842, r[2] - 3.0/595, r[3] - 3.0/842}
	}
	near := func(a, b [4]float64) bool {
		for i := range a {
			if math.Abs(a[i]-b[i]) > 0.01 {
				return false
			}
		}
		return true
	}

	t.Run("suggestions are the true boxes", func(t *testing.T) {
		sg, err := pipeline.SuggestMasks(context.Background(), in, id, pipeline.SuggestOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(sg.Read) != 1 || sg.Read[0] != pipeline.ReadText {
			t.Fatalf("page read as %v, want its text layer", sg.Read)
		}
		for kind, want := range truth {
			found := false
			for _, mk := range sg.Masks {
				found = found || (mk.Kind == kind && mk.Page == 1 && near(mk.Rect, want))
			}
			if !found {
				t.Errorf("no %s suggestion within 1%% of %v: %+v", kind, want, sg.Masks)
			}
		}
	})

	run := func(t *testing.T, masks []pipeline.Mask) *pipeline.Report {
		t.Helper()
		m := material(sub, "performance_summary")
		m.File, m.Masks = "summary.pdf", masks
		rep, _ := process(t, p, dir, sub)
		return rep
	}
	unmasked := func(t *testing.T, rep *pipeline.Report) {
		t.Helper()
		if rep.Status != pipeline.Rejected {
			t.Fatalf("status %s, want rejected: %+v", rep.Status, rep.Findings)
		}
		var hit *finding.Finding
		for i, f := range rep.Findings {
			if f.Code == finding.IdentityUnmasked {
				hit = &rep.Findings[i]
			}
		}
		if hit == nil || hit.Page != 1 || hit.Box == nil {
			t.Fatalf("no identity_unmasked on page 1 with a box: %+v", rep.Findings)
		}
		if !near(*hit.Box, truth["name"]) {
			t.Errorf("box %v, want the name's %v (±1%%)", *hit.Box, truth["name"])
		}
		if strings.Contains(hit.MessageZH+hit.MessageEN, id.Name) {
			t.Error("the finding's message holds the name")
		}
	}
	var employerOnly, shifted []pipeline.Mask
	for _, mk := range padded {
		if mk.Kind == "name" {
			s := mk
			s.Rect[0] += 0.05
			s.Rect[2] += 0.05
			shifted = append(shifted, s)
			continue
		}
		employerOnly = append(employerOnly, mk)
		shifted = append(shifted, mk)
	}
	t.Run("name left unmasked", func(t *testing.T) { unmasked(t, run(t, employerOnly)) })
	t.Run("name's mask 5 % off", func(t *testing.T) { unmasked(t, run(t, shifted)) })
	t.Run("masks in place", func(t *testing.T) {
		if rep := run(t, padded); rep.Status != pipeline.Accepted {
			t.Fatalf("status %s: %+v", rep.Status, rep.Findings)
		}
	})
}
