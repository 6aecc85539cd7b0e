package ocr_test

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline/ocr"
)

// TestMeasureScreen is how ocr.ScreenThreshold was set: the screen alone
// (no Tesseract) on the OCR measurement's pages, 150-ppi plain scans of
// the 8 kinds for 2 identities, built into packets and rendered as a
// worker does. For every identity box on the page with nothing masked it
// takes the best score of a pair the screen saw over the box; for every
// line of the page with every box masked, the best score of a pair on
// it. Printed: boxes found and clean lines picked, by threshold.
// BLINDPACK_SCREEN_MEASURE=1 runs it; =other leaves out the Hei
// templates, the typeface the pages are drawn in, to see the screen on a
// typeface it has no templates for.
func TestMeasureScreen(t *testing.T) {
	mode := os.Getenv("BLINDPACK_SCREEN_MEASURE")
	if mode == "" {
		t.Skip("BLINDPACK_SCREEN_MEASURE not set")
	}
	testenv.Tool(t, "pdftoppm")
	if mode == "other" {
		ocr.ScreenFonts = ocr.ScreenFonts[1:]
	}
	measureFontOnce.Do(func() { measureFont, measureFontErr = loadFont() })
	if measureFontErr != nil {
		t.Fatal(measureFontErr)
	}
	var boxBest, lineBest []float32
	total, readBoxes := 0, 0
	for _, k := range measureKinds {
		for idi := range measureIDs[:2] {
			p, err := k.Draw(measureIDs[idi], synth.Options{PPI: 150})
			if err != nil {
				t.Fatal(err)
			}
			var boxes []ocr.Rect
			for _, r := range append(slices.Clone(p.Name), p.Employer...) {
				boxes = append(boxes, ocr.Rect(r))
			}
			id := ocr.Identity{Name: measureIDs[idi].Name, Employer: measureIDs[idi].Employer}
			for pass, masks := range [][]ocr.Rect{nil, boxes} {
				g := renderPrepared(t, p, masks, 85)
				b := g.Bounds()
				strips, scores, lines := ocr.ScreenScores(id, g, 0.4)
				if pass == 0 {
					// What is read at the set threshold: strips, the
					// regions left unscreened, or the whole page.
					read, whole := ocr.ScreenRead(id, g)
					for _, bx := range boxes {
						total++
						if whole || isRead(toPixels(bx, b), read) {
							readBoxes++
						} else {
							t.Logf("%s/%d box %v not read", k.Name, idi, bx)
						}
					}
					for _, bx := range boxes {
						px := image.Rect(int(bx[0]*float64(b.Dx())), int(bx[1]*float64(b.Dy())), int(bx[2]*float64(b.Dx())), int(bx[3]*float64(b.Dy())))
						cy := (px.Min.Y + px.Max.Y) / 2
						var best float32
						for i, r := range strips {
							if cy >= r.Min.Y && cy < r.Max.Y && 10*(min(r.Max.X, px.Max.X)-max(r.Min.X, px.Min.X)) >= 9*px.Dx() {
								best = max(best, scores[i])
							}
						}
						boxBest = append(boxBest, best)
						t.Logf("%s/%d box %v: %.2f", k.Name, idi, bx, best)
					}
					continue
				}
				for _, l := range lines {
					var best float32
					cy := (l.Min.Y + l.Max.Y) / 2
					for i, r := range strips {
						if cy >= r.Min.Y && cy < r.Max.Y && r.Overlaps(l) {
							best = max(best, scores[i])
						}
					}
					lineBest = append(lineBest, best)
				}
			}
		}
	}
	var out strings.Builder
	for _, thr := range []float32{0.5, 0.55, 0.6, 0.65, 0.7, 0.75} {
		nb, nl := 0, 0
		for _, v := range boxBest {
			if v >= thr {
				nb++
			}
		}
		for _, v := range lineBest {
			if v >= thr {
				nl++
			}
		}
		fmt.Fprintf(&out, "threshold %.2f: identity boxes found %d/%d, lines of masked pages picked %d/%d\n", thr, nb, len(boxBest), nl, len(lineBest))
	}
	fmt.Fprintf(&out, "at the set threshold %.2f, identity boxes wholly inside what is read: %d/%d\n", ocr.ScreenThreshold, readBoxes, total)
	t.Log("\n" + out.String())
}

// TestMeasureScreenScans is the screen's recall under each scan setting
// of the detection measurement (150 and 300 ppi, blur, grey JPEG): the
// identity boxes of the 8 kinds × 2 applicants, nothing masked, that lie
// inside what the engine is given (a strip, a region left unscreened, or
// the whole page). BLINDPACK_SCREEN_MEASURE=scans runs it.
func TestMeasureScreenScans(t *testing.T) {
	if os.Getenv("BLINDPACK_SCREEN_MEASURE") != "scans" {
		t.Skip("BLINDPACK_SCREEN_MEASURE=scans not set")
	}
	testenv.Tool(t, "pdftoppm")
	measureFontOnce.Do(func() { measureFont, measureFontErr = loadFont() })
	if measureFontErr != nil {
		t.Fatal(measureFontErr)
	}
	scans, _, _, _ := measureSet(true)
	var out strings.Builder
	for _, sc := range scans {
		cond := conditions[sc.cond]
		total, read := 0, 0
		for _, k := range measureKinds {
			for idi := range measureIDs[:2] {
				p, err := k.Draw(measureIDs[idi], synth.Options{PPI: sc.ppi})
				if err != nil {
					t.Fatal(err)
				}
				if cond.degrade != nil {
					p.Image = cond.degrade(p.Image, sc.ppi)
				}
				g := renderPrepared(t, p, nil, cond.quality)
				b := g.Bounds()
				strips, whole := ocr.ScreenRead(ocr.Identity{Name: measureIDs[idi].Name, Employer: measureIDs[idi].Employer}, g)
				for _, r := range append(slices.Clone(p.Name), p.Employer...) {
					total++
					if whole || isRead(toPixels(ocr.Rect(r), b), strips) {
						read++
					} else {
						t.Logf("%d ppi %s %s/%d box %v not read", sc.ppi, cond.name, k.Name, idi, r)
					}
				}
			}
		}
		fmt.Fprintf(&out, "%d ppi %s: identity boxes inside what is read %d/%d\n", sc.ppi, cond.name, read, total)
	}
	t.Log("\n" + out.String())
}

// renderPrepared builds page p into a one-page packet with masks burned
// in, renders it as a worker does and prepares it for reading.
func renderPrepared(t *testing.T, p synth.Page, masks []ocr.Rect, quality int) *image.Gray {
	t.Helper()
	return ocr.Prepare(renderPage(t, p, masks, quality), masks)
}

// renderPage builds page p into a one-page packet with masks burned in
// and renders it as a worker does.
func renderPage(t *testing.T, p synth.Page, masks []ocr.Rect, quality int) image.Image {
	t.Helper()
	pdf, err := onePagePacket(p, masks, quality)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "p.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	img, err := (&ocr.Poppler{}).Render(context.Background(), path, 2, ocr.DefaultDPI)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func toPixels(r ocr.Rect, b image.Rectangle) image.Rectangle {
	return image.Rect(int(r[0]*float64(b.Dx())), int(r[1]*float64(b.Dy())), int(r[2]*float64(b.Dx())), int(r[3]*float64(b.Dy())))
}

// isRead reports whether a strip holds the middle half of box px's height
// over 95% of its width (the box has a margin round the ink).
func isRead(px image.Rectangle, strips []image.Rectangle) bool {
	for _, s := range strips {
		if s.Min.Y <= px.Min.Y+px.Dy()/4 && s.Max.Y >= px.Max.Y-px.Dy()/4 &&
			20*(min(s.Max.X, px.Max.X)-max(s.Min.X, px.Min.X)) >= 19*px.Dx() {
			return true
		}
	}
	return false
}

// TestScreenTrustsCrispPagesOnly renders pages of the measurement as a
// worker does and checks which the screen is trusted with: a plain scan
// is read through the screen (the engine is given a stack of strips,
// smaller than the page); the same page blurred 0.25 mm or grey and
// coarsely compressed — where the screen lost names end to end — is
// read whole.
func TestScreenTrustsCrispPagesOnly(t *testing.T) {
	testenv.Tool(t, "pdftoppm")
	measureFontOnce.Do(func() { measureFont, measureFontErr = loadFont() })
	if measureFontErr != nil {
		t.Fatal(measureFontErr)
	}
	id := measureIDs[0]
	for _, kind := range []pageKind{measureKinds[0], measureKinds[5]} { // form-1, qualification
		for _, ci := range []int{0, 2, 3} {
			cond := conditions[ci]
			p, err := kind.Draw(id, synth.Options{PPI: 150})
			if err != nil {
				t.Fatal(err)
			}
			if cond.degrade != nil {
				p.Image = cond.degrade(p.Image, 150)
			}
			var masks []ocr.Rect
			for _, r := range append(slices.Clone(p.Name), p.Employer...) {
				masks = append(masks, ocr.Rect(r))
			}
			img := renderPage(t, p, masks, cond.quality)
			wantCrisp := ci == 0
			if got := ocr.Crisp(img); got != wantCrisp {
				t.Errorf("%s %s: Crisp = %v, want %v", kind.Name, cond.name, got, wantCrisp)
			}
			e := &fakeEngine{}
			if _, err := ocr.Check(context.Background(), ocr.Screened(e), []ocr.PageImage{{Page: 1, Image: img}},
				ocr.Identity{Name: id.Name, Employer: id.Employer}, map[int][]ocr.Rect{1: masks}); err != nil {
				t.Fatal(err)
			}
			whole := len(e.seen) == 1 && e.seen[0].Bounds().Size() == img.Bounds().Size()
			if whole == wantCrisp {
				t.Errorf("%s %s: read whole = %v, want %v", kind.Name, cond.name, whole, !wantCrisp)
			}
		}
	}
}

// TestMeasureRivals is how the common characters' margin was set
// (rival.go): on the measurement's 8 kinds × 2 applicants at 150 and 300
// ppi, each identity box of the page with nothing masked is kept when a
// pair over it survives the comparison with the common characters at the
// margin, and each pair on the page with every box masked (none of them
// the identity's) is counted when it survives. Printed by margin.
// BLINDPACK_SCREEN_MEASURE=rivals runs it; =rivals-other leaves out the
// Hei templates (the pages' typeface) for the identity and the common
// characters alike.
func TestMeasureRivals(t *testing.T) {
	mode := os.Getenv("BLINDPACK_SCREEN_MEASURE")
	if mode != "rivals" && mode != "rivals-other" {
		t.Skip("BLINDPACK_SCREEN_MEASURE=rivals not set")
	}
	testenv.Tool(t, "pdftoppm")
	if mode == "rivals-other" {
		ocr.ScreenFonts = ocr.ScreenFonts[1:]
	}
	measureFontOnce.Do(func() { measureFont, measureFontErr = loadFont() })
	if measureFontErr != nil {
		t.Fatal(measureFontErr)
	}
	margins := []float32{0.1, 0.12, 0.14, 0.16, 0.18, 0.2, 0.22, 0.25, 1}
	// survives: a pair's two windows, each score and best rival.
	survives := func(e [2][2]float32, m float32) bool {
		return e[0][1] < e[0][0]+m && e[1][1] < e[1][0]+m
	}
	lost := make([]int, len(margins))
	kept := make([]int, len(margins))
	boxes, pairs := 0, 0
	for _, k := range measureKinds {
		for idi := range measureIDs[:2] {
			for _, ppi := range []int{150, 300} {
				p, err := k.Draw(measureIDs[idi], synth.Options{PPI: ppi})
				if err != nil {
					t.Fatal(err)
				}
				id := ocr.Identity{Name: measureIDs[idi].Name, Employer: measureIDs[idi].Employer}
				var all []ocr.Rect
				for _, r := range append(slices.Clone(p.Name), p.Employer...) {
					all = append(all, ocr.Rect(r))
				}
				g := renderPrepared(t, p, nil, 85)
				strips, ends := ocr.ScreenMargins(id, g)
				for _, r := range all {
					px := toPixels(r, g.Bounds())
					var over [][2][2]float32 // the pairs over the box
					for i, s := range strips {
						if isRead(px, []image.Rectangle{s}) {
							over = append(over, ends[i])
						}
					}
					if len(over) == 0 {
						continue // not picked by a pair at all (a seal's line: read as a region)
					}
					boxes++
					for mi, m := range margins {
						if !slices.ContainsFunc(over, func(e [2][2]float32) bool { return survives(e, m) }) {
							lost[mi]++
							t.Logf("%s/%d %d ppi: box %v lost at margin %.2f", k.Name, idi, ppi, r, m)
						}
					}
				}
				_, ends = ocr.ScreenMargins(id, renderPrepared(t, p, all, 85))
				pairs += len(ends)
				for mi, m := range margins {
					for _, e := range ends {
						if survives(e, m) {
							kept[mi]++
						}
					}
				}
			}
		}
	}
	var out strings.Builder
	for mi, m := range margins {
		fmt.Fprintf(&out, "margin %.2f: identity boxes lost %d/%d, pairs of masked pages kept %d/%d\n", m, lost[mi], boxes, kept[mi], pairs)
	}
	t.Log("\n" + out.String())
}
