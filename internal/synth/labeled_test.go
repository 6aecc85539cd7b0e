package synth

import (
	"bytes"
	"image"
	"math"
	"testing"
)

func TestClaritySetShape(t *testing.T) {
	cases := ClaritySet()
	names := map[string]bool{}
	labels := map[string]int{}
	for _, c := range cases {
		if names[c.Name] {
			t.Errorf("%s appears twice", c.Name)
		}
		names[c.Name] = true
		labels[c.Label]++
		if c.Borderline && c.Label != LabelAcceptable {
			t.Errorf("%s: only acceptable pages are borderline", c.Name)
		}
	}
	for _, l := range []string{LabelAcceptable, LabelBlank, LabelLowResolution, LabelHeavyCompression, LabelBlurry, LabelTooDark, LabelOverexposed, LabelLowContrast} {
		if labels[l] < 10 {
			t.Errorf("label %q has %d pages, want at least 10", l, labels[l])
		}
	}
	if len(cases) < 200 {
		t.Errorf("%d cases, want a few hundred", len(cases))
	}
}

// TestClaritySetIsDeterministic: a case draws the same bytes every time,
// also after the clean page it is made from was let go.
func TestClaritySetIsDeterministic(t *testing.T) {
	want := map[string]bool{"form/s0/phone-shaken": true, "degree/s1/blank-photo": true, "summary/s0/jpeg-q10": true}
	for _, c := range ClaritySet() {
		if !want[c.Name] {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			a, err := c.Draw()
			if err != nil {
				t.Fatal(err)
			}
			b, err := c.Draw()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Error("two draws differ")
			}
			other := ClaritySet()
			for _, o := range other {
				if o.Name == c.Name {
					if d, _ := o.Draw(); !bytes.Equal(a, d) {
						t.Error("a fresh set draws it differently")
					}
				}
			}
		})
	}
}

func TestGaussianBlur(t *testing.T) {
	for _, sigma := range []float64{0.8, 2, 4} {
		// A single dark line on white: the blurred profile's spread is the
		// Gaussian's.
		img := image.NewGray(image.Rect(0, 0, 101, 5))
		for i := range img.Pix {
			img.Pix[i] = 255
		}
		for y := range 5 {
			img.Pix[y*img.Stride+50] = 0
		}
		out := GaussianBlur(img, sigma)
		var mass, m2 float64
		for x := range 101 {
			d := 255 - float64(out.Pix[2*out.Stride+x])
			mass += d
			m2 += d * float64((x-50)*(x-50))
		}
		if math.Abs(mass-255) > 255*0.03 {
			t.Errorf("σ=%v: ink %v, want 255 kept", sigma, mass)
		}
		if got := math.Sqrt(m2 / mass); math.Abs(got-sigma) > 0.1*sigma+0.1 {
			t.Errorf("σ=%v: measured spread %.2f", sigma, got)
		}
	}
}
