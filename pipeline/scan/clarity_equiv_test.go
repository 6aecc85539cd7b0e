package scan

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// TestMeasureMatchesReference: the measure code, rewritten for speed —
// in Go, and in C where cgo is built in — gives exactly the numbers of the
// code the thresholds were calibrated with (clarity_ref_test.go), on pages
// of the labelled set and on images made to reach the edge cases.
func TestMeasureMatchesReference(t *testing.T) {
	type tc struct {
		name string
		img  []uint8
		w, h int
	}
	var cases []tc
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func(w, h int) []uint8 {
		b := make([]uint8, w*h)
		for i := range b {
			b[i] = uint8(rng.IntN(256))
		}
		return b
	}
	for _, sz := range [][2]int{{1, 1}, {1, 9}, {2, 2}, {4, 7}, {5, 5}, {17, 33}, {64, 3}, {101, 99}} {
		cases = append(cases, tc{fmt.Sprintf("noise-%dx%d", sz[0], sz[1]), noise(sz[0], sz[1]), sz[0], sz[1]})
	}
	set := synth.ClaritySet()
	step := 13
	if testing.Short() {
		step = 53
	}
	for i := 0; i < len(set); i += step {
		c := set[i]
		data, err := c.Draw()
		if err != nil {
			t.Fatal(err)
		}
		f, err := Open(data, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := f.Page(1)
		img, err := p.Decode()
		if err != nil {
			t.Fatal(err)
		}
		lum := luminance(img)
		g := make([]uint8, lum.w*lum.h)
		for y := range lum.h {
			copy(g[y*lum.w:(y+1)*lum.w], lum.pix[y*lum.stride:])
		}
		cases = append(cases, tc{c.Name, g, lum.w, lum.h})
	}
	defer jpegcodec.SetPureGo(false)
	for _, pure := range []bool{false, true} {
		jpegcodec.SetPureGo(pure)
		for _, c := range cases {
			t.Run(fmt.Sprintf("pure-go=%v/%s", pure, c.name), func(t *testing.T) {
				var got, want Measures
				new(workBuf).measure(c.img, c.w, c.h, &got)
				new(workBuf).refMeasure(c.img, c.w, c.h, &want)
				if got != want {
					t.Errorf("got  %+v\nwant %+v", got, want)
				}
			})
		}
	}
}

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
		codes := func(m Measures) string {
			var s string
			for _, fe := range Check(m, th) {
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
