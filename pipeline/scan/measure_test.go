package scan

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"reflect"
	"testing"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline/clarity"
	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// TestMeasurePageAgreesWithMeasure: on every page of the labelled set the
// thresholds were chosen on, measuring from libjpeg-turbo's reduced
// decode (MeasurePage) gives the verdict that measuring the full decode
// gives (Measure, what `blindpack calibrate` and its test use), with
// measures that differ by little: the thresholds mean the same on both
// paths.
func TestMeasurePageAgreesWithMeasure(t *testing.T) {
	if !jpegcodec.Native() {
		t.Skip("built without libjpeg-turbo: MeasurePage is Measure")
	}
	if testing.Short() {
		t.Skip("draws and measures a few hundred pages")
	}
	th := policy.Default().Clarity
	worst := map[string]float64{}
	for _, c := range synth.ClaritySet() {
		data, err := c.Draw()
		if err != nil {
			t.Fatal(err)
		}
		f, err := Open(data, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := f.Page(1)
		fast, err := MeasurePage(p)
		if err != nil {
			t.Fatal(err)
		}
		// The page going into a packet unmasked: its luminance computed
		// from the coefficients it is rewritten from, the same samples.
		rw, err := MeasureRewritePage(p, 90)
		if err != nil {
			t.Fatal(err)
		}
		img, err := p.Decode()
		if err != nil {
			t.Fatal(err)
		}
		full := Measure(img, p)
		codes := func(m clarity.Measures) string {
			var s string
			for _, fe := range clarity.Check(m, th) {
				s += string(fe.Code) + " "
			}
			return s
		}
		if a, b := codes(fast), codes(full); a != b {
			t.Errorf("%s: reduced decode says %q, full decode %q\nreduced %+v\nfull    %+v", c.Name, a, b, fast, full)
		}
		if rw != fast {
			t.Errorf("%s: luminance from the coefficients gives\n%+v, the reduced decode\n%+v", c.Name, rw, fast)
		}
		rel := func(name string, a, b float64) {
			d := math.Abs(a-b) / math.Max(1, math.Abs(b))
			worst[name] = math.Max(worst[name], d)
		}
		rel("sharpness", fast.Sharpness, full.Sharpness)
		rel("paper", fast.Paper, full.Paper)
		rel("ink_level", fast.InkLevel, full.InkLevel)
		rel("contrast", fast.Contrast, full.Contrast)
		rel("ink_percent", fast.InkPercent, full.InkPercent)
		rel("ppi", fast.PPI, full.PPI)
	}
	t.Logf("largest relative difference, reduced vs full decode: %v", worst)
	// On the set as drawn today: sharpness 3.5%, ink level and contrast
	// 5.5% (a few levels of a dark ink), ink coverage 2.3%, paper 0.4%.
	// The thresholds sit 13% (sharpness) to 50% from the nearest pages of
	// the other label.
	for name, limit := range map[string]float64{"sharpness": 0.06, "paper": 0.02, "ink_level": 0.08, "contrast": 0.08, "ink_percent": 0.05, "ppi": 0} {
		if worst[name] > limit {
			t.Errorf("%s differs by up to %.1f%% between the paths; at most %.1f%% keeps the thresholds' meaning", name, 100*worst[name], 100*limit)
		}
	}
}

// TestMeasureRewritePageKeepsTheRewrite: a page measured for a packet
// hands CanonicalJPEG the stream made from the same reading, the one a
// rewrite of its own would make, and measures as MeasurePage does.
func TestMeasureRewritePageKeepsTheRewrite(t *testing.T) {
	c := synth.ClaritySet()[0]
	data, err := c.Draw()
	if err != nil {
		t.Fatal(err)
	}
	open := func() *Page {
		f, err := Open(data, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.Page(1)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := open()
	if p.Encoding != EncJPEG {
		t.Fatalf("%s is not a JPEG page", c.Name)
	}
	rw, err := MeasureRewritePage(p, 90)
	if err != nil {
		t.Fatal(err)
	}
	if jpegcodec.Native() && p.canonical == nil {
		t.Error("no rewrite kept")
	}
	kept, info, err := CanonicalJPEG(p, 90)
	if err != nil {
		t.Fatal(err)
	}
	fresh := open()
	m, err := MeasurePage(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if m != rw {
		t.Errorf("MeasureRewritePage %+v, MeasurePage %+v", rw, m)
	}
	want, info2, err := CanonicalJPEG(fresh, 90)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kept, want) || !reflect.DeepEqual(info, info2) {
		t.Errorf("kept rewrite (%d bytes) differs from a fresh one (%d bytes)", len(kept), len(want))
	}
}

// a4Page is the page of an A4 image file of w × h pixels.
func a4Page(w, h int) *Page {
	p := &Page{Number: 1, Width: w, Height: h, Orientation: 1, Placement: [4]float64{0, 0, 1, 1}}
	p.WidthPt, p.HeightPt = fitA4(w, h)
	return p
}

func TestEffectiveResolution(t *testing.T) {
	for _, tc := range []struct {
		name string
		page *Page
		w, h int
		want float64
	}{
		{"A4 image at 150 ppi", a4Page(1240, 1754), 1240, 1754, 150},
		{"A4 image at 300 ppi", a4Page(2480, 3508), 2480, 3508, 300},
		{"landscape image", a4Page(1754, 1240), 1754, 1240, 150},
		// Stored sideways, shown upright: the stored width spans the page's height.
		{"turned by EXIF", &Page{Width: 1754, Height: 1240, Orientation: 6, Placement: [4]float64{0, 0, 1, 1}, WidthPt: a4Short, HeightPt: a4Long}, 1754, 1240, 150},
		// A PDF page whose image covers its left half only: twice the pixels per inch across, the same down.
		{"half-width placement", &Page{Width: 1240, Height: 1754, Orientation: 1, Placement: [4]float64{0, 0, 0.5, 1}, WidthPt: a4Short, HeightPt: a4Long}, 1240, 1754, 150},
		{"thinner along one axis", &Page{Width: 1240, Height: 1000, Orientation: 1, Placement: [4]float64{0, 0, 1, 1}, WidthPt: a4Short, HeightPt: a4Long}, 1240, 1000, 1000 / (a4Long / 72)},
		{"no page size: A4 assumed", &Page{Width: 620, Height: 877, Orientation: 1}, 620, 877, 75},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := image.NewGray(image.Rect(0, 0, tc.w, tc.h))
			m := Measure(img, tc.page)
			if math.Abs(m.PPI-tc.want) > 0.5 {
				t.Errorf("PPI = %.2f, want %.2f", m.PPI, tc.want)
			}
		})
	}
}

// TestMeasureReadsJPEGQuality: a JPEG page is measured with the quality
// its luminance table tells; a page without one has none.
func TestMeasureReadsJPEGQuality(t *testing.T) {
	img := gradient(64, 64)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 35}); err != nil {
		t.Fatal(err)
	}
	_, info, err := StripJPEG(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	p := a4Page(64, 64)
	if m := Measure(img, p); m.JPEGQuality != 0 {
		t.Errorf("JPEG quality %d of a page that is not a JPEG", m.JPEGQuality)
	}
	p.JPEGInfo = info
	if m := Measure(img, p); m.JPEGQuality != 35 {
		t.Errorf("JPEG quality %d, want 35", m.JPEGQuality)
	}
}
