package packet

import (
	"math"
	"testing"

	"github.com/blindpack/blindpack/pipeline/scan"
)

// TestPlacementMatrixShowsTheDisplayedPage checks, for every orientation,
// that the image matrix puts each stored corner where the person saw it.
func TestPlacementMatrixShowsTheDisplayedPage(t *testing.T) {
	for o := scan.Orientation(1); o <= 8; o++ {
		p := &scan.Page{Orientation: o, Placement: [4]float64{0.1, 0.2, 0.9, 1}, WidthPt: 500, HeightPt: 800}
		m := placementMatrix(p)
		for _, st := range [][2]float64{{0, 0}, {1, 0}, {0, 1}, {1, 1}, {0.25, 0.75}} {
			// Image space (x, y) is stored (x, 1−y).
			x, y := st[0], 1-st[1]
			gotX, gotY := m[0]*x+m[2]*y+m[4], m[1]*x+m[3]*y+m[5]
			u, v := o.ToDisplayed(st[0], st[1])
			wantX := (0.1 + u*0.8) * 500
			wantY := (1 - (0.2 + v*0.8)) * 800
			if math.Abs(gotX-wantX) > 1e-9 || math.Abs(gotY-wantY) > 1e-9 {
				t.Errorf("orientation %d, stored %v: at (%.2f, %.2f), want (%.2f, %.2f)", o, st, gotX, gotY, wantX, wantY)
			}
		}
	}
}
