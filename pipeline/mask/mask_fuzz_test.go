package mask_test

import (
	"image"
	"math"
	"testing"

	"github.com/blindpack/blindpack/pipeline/mask"
	"github.com/blindpack/blindpack/pipeline/scan"
)

// FuzzStored: for any page geometry and any rectangle, Stored never
// panics and stays within the stored image; and a valid rectangle on a
// page that is all image, in any of the eight orientations, covers the
// stored pixel under its centre (the two crasher seeds in testdata/fuzz found the bounds
// of both promises: a page of negative width, a rectangle 10⁻¹⁷ high).
func FuzzStored(f *testing.F) {
	f.Fuzz(func(t *testing.T, w, h, o int, p0, p1, p2, p3, r0, r1, r2, r3 float64) {
		w, h = w%40000, h%40000 // Open refuses more than 30000 a side
		p := &scan.Page{Width: w, Height: h, Orientation: scan.Orientation(o), Placement: [4]float64{p0, p1, p2, p3}}
		r := mask.Rect{r0, r1, r2, r3}
		got := mask.Stored(p, r)
		if !got.Empty() && !got.In(image.Rect(0, 0, max(0, w), max(0, h))) {
			t.Fatalf("%v outside %dx%d", got, w, h)
		}
		if w < 1 || h < 1 || o < 1 || o > 8 || !r.Valid() {
			return
		}
		// A rectangle thinner than a millionth of a pixel may round to
		// nothing: edges within 1e-9 pixel of a pixel boundary are taken to
		// lie on it.
		if (r[2]-r[0])*float64(min(w, h)) < 1e-6 || (r[3]-r[1])*float64(min(w, h)) < 1e-6 {
			return
		}
		p.Placement = [4]float64{0, 0, 1, 1}
		got = mask.Stored(p, r)
		s, u := p.Orientation.ToStored((r[0]+r[2])/2, (r[1]+r[3])/2)
		x, y := int(math.Min(s*float64(w), float64(w-1))), int(math.Min(u*float64(h), float64(h-1)))
		if !image.Pt(x, y).In(got) {
			t.Fatalf("centre pixel (%d,%d) of %v not in %v (%dx%d, orientation %d)", x, y, r, got, w, h, o)
		}
	})
}
