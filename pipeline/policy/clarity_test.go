package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/pipeline/clarity"
)

func TestDefaultClarity(t *testing.T) {
	c := Default().Clarity
	want := clarity.Thresholds{MinPPI: 100, MinSharpness: 31, MinPaper: 100, MaxInkLevel: 200, MinContrast: 45, MinInkPercent: 0.05, MinJPEGQuality: 20,
		MaxSkewDegrees: 14, MaxCutOffPercent: 3}
	if c != want {
		t.Errorf("default clarity %+v, want %+v", c, want)
	}
}

// withoutClarity is the default policy with its clarity section cut off.
func withoutClarity(t *testing.T) string {
	t.Helper()
	doc, _, ok := strings.Cut(string(defaultYAML), "\nclarity:")
	if !ok {
		t.Fatal("default.yaml has no clarity section")
	}
	return doc
}

func TestClarityDefaultsFillGaps(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want func(*clarity.Thresholds)
	}{
		{"no clarity section", "", func(*clarity.Thresholds) {}},
		{"one threshold changed", "\nclarity:\n  min_ppi: 150\n", func(c *clarity.Thresholds) { c.MinPPI = 150 }},
		{"a check turned off", "\nclarity:\n  min_jpeg_quality: 0\n", func(c *clarity.Thresholds) { c.MinJPEGQuality = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(withoutClarity(t) + tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			want := Default().Clarity
			tc.want(&want)
			if p.Clarity != want {
				t.Errorf("clarity %+v, want %+v", p.Clarity, want)
			}
		})
	}
}

func TestClarityRejects(t *testing.T) {
	for name, section := range map[string]string{
		"negative":         "  min_ppi: -1\n",
		"level over 255":   "  max_ink_level: 300\n",
		"percent over 100": "  min_ink_percent: 150\n",
		"quality over 100": "  min_jpeg_quality: 101\n",
		"unknown field":    "  min_sharpnes: 30\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse([]byte(withoutClarity(t) + "\nclarity:\n" + section)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}
