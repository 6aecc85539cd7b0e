package pdfkit

import (
	"bytes"
	"strings"
	"testing"
)

func TestOutline(t *testing.T) {
	f := testFont(t)
	tests := []struct {
		r        rune
		contours int // at least
	}{
		{'口', 2}, // a square with a hole
		{'一', 1},
		{'8', 3},
	}
	for _, tt := range tests {
		t.Run(string(tt.r), func(t *testing.T) {
			o, err := f.Outline(tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Contours) < tt.contours || o.Advance <= 0 || o.Advance > 1.2 {
				t.Errorf("%d contours, advance %g", len(o.Contours), o.Advance)
			}
			for _, c := range o.Contours {
				for _, p := range c {
					if p.X < -0.5 || p.X > 1.5 || p.Y < -0.5 || p.Y > 1.5 {
						t.Fatalf("point %+v outside the em box", p)
					}
				}
			}
		})
	}
	if _, err := f.Outline('\U00030000'); err == nil {
		t.Error("outline of a character the font lacks")
	}
}

// TestPathAndTextOptions checks that the drawing additions write balanced,
// well-formed operators.
func TestPathAndTextOptions(t *testing.T) {
	f := testFont(t)
	var out bytes.Buffer
	d := New(&out)
	c := d.NewCanvas()
	var p Path
	p.Circle(100, 100, 50, false)
	p.Circle(100, 100, 40, true)
	p.MoveTo(0, 0)
	p.QuadTo(10, 20, 20, 0)
	p.Close()
	c.FillPath(&p, Color{R: 1}, false)
	c.StrokePath(&p, 1, Color{})
	c.FillPath(&Path{}, Color{}, false) // empty: nothing written
	st := TextStyle{Font: f, Size: 12}
	o := TextOptions{CharSpacing: -0.5, HScale: 50, Bold: 0.4}
	c.TextWith(10, 10, "人社局", st, o)
	if got, want := TextWidth("人社局", st, o), (f.Width("人社局", 12)-1.5)*0.5; got != want {
		t.Errorf("TextWidth = %g, want %g", got, want)
	}
	content := c.buf.String()
	for _, op := range []string{" c ", " f Q", " S Q", "2 Tr", "-0.5 Tc", "50 Tz"} {
		if !strings.Contains(content, op) {
			t.Errorf("content lacks %q:\n%s", op, content)
		}
	}
	if strings.Count(content, "q ") != strings.Count(content, " Q") {
		t.Errorf("unbalanced graphics state:\n%s", content)
	}
	d.AddPage(200, 200, c)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}
