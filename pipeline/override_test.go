package pipeline_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/pipeline"
)

func TestCheckOverrides(t *testing.T) {
	sub := &pipeline.Submission{Materials: make([]pipeline.Material, 3)}
	ov := func(m, p int, reason string) []pipeline.Override {
		return []pipeline.Override{{Material: m, Page: p, Reason: reason}}
	}
	many := make([]pipeline.Override, pipeline.MaxOverrides+1)
	for i := range many {
		many[i] = pipeline.Override{Material: 0, Page: i + 1, Reason: "ok"}
	}
	for _, tc := range []struct {
		name      string
		overrides []pipeline.Override
		want      error
	}{
		{"none", nil, nil},
		{"good", ov(2, 7, " 字迹可辨，签名略虚 "), nil},
		{"500 characters", ov(0, 1, strings.Repeat("字", 500)), nil},
		{"material 999", ov(999, 1, "r"), pipeline.ErrBadOverride},
		{"material -1", ov(-1, 1, "r"), pipeline.ErrBadOverride},
		{"page 0", ov(0, 0, "r"), pipeline.ErrBadOverride},
		{"no reason", ov(0, 1, "  "), pipeline.ErrBadReason},
		{"NUL", ov(0, 1, "ok\x00"), pipeline.ErrBadReason},
		{"line feed", ov(0, 1, "ok\nforged audit line"), pipeline.ErrBadReason},
		{"carriage return", ov(0, 1, "ok\rx"), pipeline.ErrBadReason},
		{"501 characters", ov(0, 1, strings.Repeat("字", 501)), pipeline.ErrBadReason},
		{"20000 characters", ov(0, 1, strings.Repeat("a", 20000)), pipeline.ErrBadReason},
		{"invalid UTF-8", ov(0, 1, "ok\xff"), pipeline.ErrBadReason},
		{"too many", many, pipeline.ErrBadOverride},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := pipeline.CheckOverrides(sub, tc.overrides)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("CheckOverrides = %v, want %v", err, tc.want)
			}
		})
	}
	if err := pipeline.CheckReason("", false); err != nil {
		t.Errorf("an optional reason left empty: %v", err)
	}
}
