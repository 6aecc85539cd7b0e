package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/identity"
	"github.com/blindpack/blindpack/pipeline/ocr"
)

// TestSuggestMasksOnScans asks for mask suggestions on 200-ppi JPEG scans
// of synthetic pages and counts the identity occurrences they cover: an
// occurrence is covered when 90% of its ink box (synth's box less its
// half-percent margin) is under the suggested masks. CI reads two page
// kinds of one applicant; BLINDPACK_SUGGEST_MEASURE=full reads every page
// kind of the four applicants in two careers (the OCR measurement set)
// and prints the table README quotes.
func TestSuggestMasksOnScans(t *testing.T) {
	testenv.Tool(t, "tesseract")
	engine := &ocr.Tesseract{}
	if err := engine.Check(context.Background()); err != nil {
		t.Fatalf("tesseract is installed but not usable: %v", err)
	}
	full := os.Getenv("BLINDPACK_SUGGEST_MEASURE") == "full"
	ids, kinds, seeds := []int{0}, []int{0, 4}, []uint64{0}
	if full {
		ids, kinds, seeds = []int{0, 1, 2, 3}, []int{0, 1, 2, 3, 4, 5, 6, 7}, []uint64{0, 1}
	}
	occurrences, covered, extra := 0, 0, 0
	for _, k := range kinds {
		for _, idi := range ids {
			for _, seed := range seeds {
				id := synth.MeasureApplicants[idi]
				p, err := synth.MeasureKinds[k].Draw(id, synth.Options{PPI: 200, Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				jpg, err := synth.EncodeJPEG(p.Image, 85)
				if err != nil {
					t.Fatal(err)
				}
				// Through the first pass, as `masks suggest` and the API read.
				s, err := pipeline.SuggestMasks(context.Background(), jpg, pipeline.Identity(id), pipeline.SuggestOptions{Engine: ocr.Screened(engine)})
				if err != nil {
					t.Fatal(err)
				}
				if s.Pages != 1 || len(s.Read) != 1 || s.Read[0] != pipeline.ReadOCR {
					t.Fatalf("suggestion %+v: want one page read by OCR", s)
				}
				var rects [][4]float64
				for _, m := range s.Masks {
					if m.Page != 1 || !m.Rect.Valid() || (m.Kind != "name" && m.Kind != "employer") {
						t.Errorf("mask %+v", m)
					}
					rects = append(rects, m.Rect)
				}
				hit := make([]bool, len(rects))
				for _, r := range append(append([]synth.Rect{}, p.Name...), p.Employer...) {
					occurrences++
					ink := identity.Box{r[0] + 0.005, r[1] + 0.005, r[2] - 0.005, r[3] - 0.005}
					if identity.Covered(ink, rects) >= 0.9 {
						covered++
					} else {
						t.Logf("%s/%d/%d: occurrence at %v not covered", synth.MeasureKinds[k].Name, idi, seed, r)
					}
					for i, m := range rects {
						if identity.Covered(identity.Box(m), [][4]float64{r}) > 0 {
							hit[i] = true
						}
					}
				}
				for i, h := range hit {
					if !h {
						extra++
						t.Logf("%s/%d/%d: suggestion %v is on no occurrence", synth.MeasureKinds[k].Name, idi, seed, rects[i])
					}
				}
			}
		}
	}
	rate := float64(covered) / float64(occurrences)
	t.Logf("suggestions cover %d/%d identity occurrences (%.1f%%); %d suggestions on no occurrence",
		covered, occurrences, 100*rate, extra)
	if rate < 0.95 {
		t.Errorf("coverage %s, want ≥ 95%%", fmt.Sprintf("%.3f", rate))
	}
}
