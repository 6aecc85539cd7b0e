package pdfcheck

import (
	"fmt"
	"image"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/pipeline"
)

// Packet checks a finished review packet against its submission and report
// with the independent tools: sound structure, no identity in any text a
// reader extracts, one image per material page, a bookmark per material
// pointing where the index says, a cover that lists every material, and every
// mask black both in the rendered page and in the stored image.
func Packet(t testing.TB, path string, sub *pipeline.Submission, rep *pipeline.Report) {
	t.Helper()
	QPDFCheck(t, path)
	text := Text(t, path, 0, 0)
	for _, s := range []string{sub.Identity.Name, sub.Identity.Employer} {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("pdftotext finds identity text in the packet")
		}
	}
	if rep.Packet == nil {
		t.Fatal("report has no packet")
	}
	cover := Text(t, path, 1, 1)
	if !strings.Contains(cover, rep.AnonCode) {
		t.Errorf("cover does not show the anonymous code %s", rep.AnonCode)
	}

	imgs := Images(t, path)
	perPage := map[int]int{}
	for _, im := range imgs {
		perPage[im.Page]++
	}
	pages := 0
	for _, e := range rep.Packet.Index {
		pages += len(e.Pages)
		for _, pp := range e.Pages {
			if perPage[pp[1]] != 1 {
				t.Errorf("packet page %d has %d images, want 1", pp[1], perPage[pp[1]])
			}
		}
		first, last := e.Pages[0][1], e.Pages[len(e.Pages)-1][1]
		rng := fmt.Sprintf("第%d页", first)
		if first != last {
			rng = fmt.Sprintf("第%d–%d页", first, last)
		}
		if !strings.Contains(cover, rng) {
			t.Errorf("cover index lacks %s for material %d (%s)", rng, e.Material, e.Type)
		}
	}
	if len(imgs) != pages || perPage[1] != 0 {
		t.Errorf("pdfimages lists %d images (%d on the cover) for %d material pages", len(imgs), perPage[1], pages)
	}
	if rep.Packet.Pages != pages+1 {
		t.Errorf("report says %d pages, index has %d + cover", rep.Packet.Pages, pages)
	}

	outlines := Outlines(t, path)
	if len(outlines) != len(rep.Packet.Index)+1 || outlines[0].Page != 1 {
		t.Errorf("bookmarks %+v for %d materials", outlines, len(rep.Packet.Index))
	} else {
		for i, e := range rep.Packet.Index {
			if outlines[i+1].Page != e.Pages[0][1] {
				t.Errorf("bookmark %q points at page %d, index says %d", outlines[i+1].Title, outlines[i+1].Page, e.Pages[0][1])
			}
		}
	}

	for _, e := range rep.Packet.Index {
		m := sub.Materials[e.Material]
		for _, pp := range e.Pages {
			var rects [][4]float64
			for _, mk := range m.Masks {
				if mk.Page == pp[0] {
					rects = append(rects, mk.Rect)
				}
			}
			if len(rects) == 0 {
				continue
			}
			page := Render(t, path, pp[1], 50)
			for _, r := range rects {
				if mean, light := Dark(page, r, 0.2); mean > 60 || light > 0.02 {
					t.Errorf("material %d page %d (packet page %d): mask %v renders with mean luminance %.0f, %.1f%% light", e.Material, pp[0], pp[1], r, mean, 100*light)
				}
			}
			stored := ExtractImages(t, path, pp[1])
			if len(stored) != 1 || !burned(stored[0], rects) {
				t.Errorf("material %d page %d (packet page %d): the stored image is not black under its masks", e.Material, pp[0], pp[1])
			}
		}
	}
}

// burned reports whether the stored image is black under every mask in one
// of the four quarter-turns: pdfimages gives the image as stored, which for
// a page scanned sideways is not as displayed.
func burned(img image.Image, rects [][4]float64) bool {
	turns := []func(r [4]float64) [4]float64{
		func(r [4]float64) [4]float64 { return r },
		func(r [4]float64) [4]float64 { return [4]float64{r[1], 1 - r[2], r[3], 1 - r[0]} },
		func(r [4]float64) [4]float64 { return [4]float64{1 - r[2], 1 - r[3], 1 - r[0], 1 - r[1]} },
		func(r [4]float64) [4]float64 { return [4]float64{1 - r[3], r[0], 1 - r[1], r[2]} },
	}
	for _, turn := range turns {
		ok := true
		for _, r := range rects {
			if mean, light := Dark(img, turn(r), 0.1); mean > 24 || light > 0 {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
