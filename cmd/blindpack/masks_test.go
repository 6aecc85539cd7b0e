package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/identity"
)

// TestMasksSuggest asks for masks on the sample performance summary, a
// scan, and checks them against the masks the sample's submission draws.
func TestMasksSuggest(t *testing.T) {
	testenv.Tool(t, "tesseract")
	dir := filepath.Join("..", "..", "testdata", "samples", "eng-intermediate")
	doc, err := os.ReadFile(filepath.Join(dir, "submission.json"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := pipeline.ParseSubmission(doc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var out bytes.Buffer
	err = suggestCommand(ctx, []string{"suggest", filepath.Join(dir, "summary.jpg"), "--name", sub.Identity.Name, "--employer", sub.Identity.Employer}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var s pipeline.Suggestion
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("%v: %s", err, out.Bytes())
	}
	var rects [][4]float64
	for _, m := range s.Masks {
		rects = append(rects, m.Rect)
	}
	var want []pipeline.Mask
	for _, m := range sub.Materials {
		if m.File == "summary.jpg" {
			want = m.Masks
		}
	}
	if len(want) == 0 || len(s.Masks) != len(want) {
		t.Fatalf("suggested %+v, the sample masks %+v", s.Masks, want)
	}
	for _, m := range want {
		// The sample's masks have a margin around the ink; the ink is
		// what must be covered.
		ink := identity.Box{m.Rect[0] + 0.005, m.Rect[1] + 0.005, m.Rect[2] - 0.005, m.Rect[3] - 0.005}
		if c := identity.Covered(ink, rects); c < 0.9 {
			t.Errorf("the %s at %v is %.0f%% covered by %v", m.Kind, m.Rect, 100*c, rects)
		}
	}
	for _, tc := range [][]string{
		{},
		{"list"},
		{"suggest", filepath.Join(dir, "summary.jpg")},
		{"suggest", "--name", "张三丰", "--employer", "某公司"},
	} {
		if err := suggestCommand(ctx, tc, &out); exitCode(err) != 2 {
			t.Errorf("%q: %v, want exit status 2", tc, err)
		}
	}
	bad := filepath.Join(t.TempDir(), "x.jpg")
	os.WriteFile(bad, []byte("not an image"), 0o600)
	if err := suggestCommand(ctx, []string{"suggest", bad, "--name", "张三丰", "--employer", "某公司", "--no-ocr"}, &out); exitCode(err) != 1 {
		t.Errorf("a bad file: %v, want exit status 1", err)
	}
}
