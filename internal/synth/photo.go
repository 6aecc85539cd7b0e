package synth

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The labels of the photo set beyond those of the clarity set: the finding
// codes of a photo that must be taken again.
const (
	LabelSkewed = "page_skewed"
	LabelCutOff = "page_cut_off"
)

// photoFrame is the photo's size: 3 Mpx in a phone's 3:4, enough for a
// page photographed from arm's length to keep its text, small enough for the
// set to be drawn in a test.
var photoFrame = image.Point{1500, 2000}

// photoShot is how a phone photo of a page is taken: where the sheet lands
// in the frame, the light, the hand's steadiness.
type photoShot struct {
	name       string
	label      string
	borderline bool
	// width is the sheet's width in the frame before perspective, as a
	// share of the frame's; dx, dy move its centre, as shares of the frame.
	width, dx, dy float64
	// rotate turns the sheet in the frame, degrees clockwise; narrow is how
	// much shorter its top edge is than its bottom (the phone tilted
	// towards the top of the page).
	rotate, narrow float64
	// light multiplies the exposure; blur is the hand's shake in mm on paper.
	light, blur float64
	// heic encodes the photo as an iPhone would, with libheif's heif-enc.
	heic bool
}

var photoShots = []photoShot{
	// Readable: a page on a desk from above, a little turned and tilted, in
	// good light, dim light, and from further away; the dim one also as
	// HEIC; a photo whose frame cuts only the blank top margin.
	{name: "desk", width: 0.66, rotate: 3, narrow: 0.05, light: 0.95},
	{name: "desk-dim", borderline: true, width: 0.66, rotate: -2, narrow: 0.06, light: 0.5},
	{name: "desk-far", borderline: true, width: 0.56, rotate: 4, narrow: 0.04, light: 0.9},
	{name: "desk-dim-heic", borderline: true, width: 0.66, rotate: -2, narrow: 0.06, light: 0.5, heic: true},
	{name: "desk-steady-tilt", borderline: true, width: 0.66, rotate: 7, narrow: 0.12, light: 0.85},
	{name: "desk-margin-cut", borderline: true, width: 0.9, dy: -0.075, rotate: 1, narrow: 0.03, light: 0.9},
	// Unreadable: too little light; a shaking hand; a steep angle; a phone
	// turned well off the page; the top of the page, with its title, cut.
	{name: "desk-dark", label: LabelTooDark, width: 0.66, rotate: 2, narrow: 0.05, light: 0.2},
	{name: "desk-shaken", label: LabelBlurry, width: 0.66, rotate: 3, narrow: 0.05, light: 0.9, blur: 0.45},
	{name: "desk-steep", label: LabelSkewed, width: 0.7, rotate: 6, narrow: 0.55, light: 0.9},
	{name: "desk-turned", label: LabelSkewed, width: 0.55, rotate: 24, narrow: 0.05, light: 0.9},
	{name: "desk-cut", label: LabelCutOff, width: 0.8, dy: -0.26, rotate: 2, narrow: 0.04, light: 0.9},
}

// photoKinds are the page kinds photographed: a ruled form and dense text.
// (Each photo costs ImageMagick about two seconds of CPU, a HEIC five more
// for heif-enc: the set is kept to what a test can afford.)
var photoKinds = []struct {
	name string
	page pageFunc
}{
	{"form", formPage(1)},
	{"summary", summaryPage(1, 1)},
}

// PhotoSet returns the labelled set of phone photos: every shot of every
// page kind for both careers, the HEIC shot for one (42 photos). A photo is made the way a phone
// makes one: the page, drawn at 150 ppi, is laid by ImageMagick onto a desk
// (a plasma texture) with -distort Perspective, under a vignette, at the
// shot's exposure with sensor noise, and saved as JPEG at phone quality, or
// as HEIC by heif-enc. Draw needs ImageMagick's convert (and heif-enc for
// the HEIC shots); the same ImageMagick gives the same bytes.
func PhotoSet() []ClarityCase {
	var cases []ClarityCase
	for _, seed := range claritySeeds {
		for ki, k := range photoKinds {
			for si, s := range photoShots {
				if s.heic && seed != 0 {
					continue
				}
				name := fmt.Sprintf("%s/s%d/%s", k.name, seed, s.name)
				page := k.page
				plasma := 1 + int(seed)*100 + ki*10 + si
				cases = append(cases, ClarityCase{
					Name: name, Variant: s.name, Label: s.label, Borderline: s.borderline,
					Draw: func() ([]byte, error) {
						p, err := page(clarityIDs[seed%uint64(len(clarityIDs))], Options{PPI: 150, Seed: seed})
						if err != nil {
							return nil, fmt.Errorf("synth: photo %s: %w", name, err)
						}
						data, err := s.take(p.Image, plasma)
						if err != nil {
							return nil, fmt.Errorf("synth: photo %s: %w", name, err)
						}
						return data, nil
					},
				})
			}
		}
	}
	return cases
}

// corners are where the sheet's corners land in the frame: top left, top
// right, bottom right, bottom left.
func (s photoShot) corners(page image.Point) [4][2]float64 {
	fw, fh := float64(photoFrame.X), float64(photoFrame.Y)
	w := s.width * fw
	h := w * float64(page.Y) / float64(page.X)
	cx, cy := fw*(0.5+s.dx), fh*(0.5+s.dy)
	top := w * (1 - s.narrow) / 2
	pts := [4][2]float64{{-top, -h / 2}, {top, -h / 2}, {w / 2, h / 2}, {-w / 2, h / 2}}
	sin, cos := math.Sincos(s.rotate * math.Pi / 180)
	for i, p := range pts {
		pts[i] = [2]float64{cx + p[0]*cos - p[1]*sin, cy + p[0]*sin + p[1]*cos}
	}
	return pts
}

// take photographs page with ImageMagick (and heif-enc).
func (s photoShot) take(page *image.Gray, plasma int) ([]byte, error) {
	dir, err := os.MkdirTemp("", "blindpack-photo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	src, err := EncodePNG(page)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "page.png"), src, 0o644); err != nil {
		return nil, err
	}
	pw, ph := page.Rect.Dx(), page.Rect.Dy()
	c := s.corners(page.Rect.Size())
	persp := fmt.Sprintf("0,0 %.1f,%.1f  %d,0 %.1f,%.1f  %d,%d %.1f,%.1f  0,%d %.1f,%.1f",
		c[0][0], c[0][1], pw, c[1][0], c[1][1], pw, ph, c[2][0], c[2][1], ph, c[3][0], c[3][1])
	frame := fmt.Sprintf("%dx%d", photoFrame.X, photoFrame.Y)
	args := []string{
		"-size", frame, "-seed", fmt.Sprint(plasma), "plasma:#8a6a4a-#4e3a2a", "-blur", "0x1.2",
		"(", "page.png", "-colorspace", "sRGB"}
	if s.blur > 0 {
		args = append(args, "-blur", fmt.Sprintf("0x%.2f", s.blur*150/25.4))
	}
	args = append(args, "-alpha", "set", "-virtual-pixel", "transparent",
		"-define", "distort:viewport="+frame+"+0+0", "-distort", "Perspective", persp, ")",
		"-compose", "over", "-composite",
		"(", "-size", frame, "radial-gradient:white-gray62", ")", "-compose", "multiply", "-composite",
		"-evaluate", "multiply", fmt.Sprintf("%.2f", s.light),
		"-attenuate", "0.4", "+noise", "Gaussian",
		"-sampling-factor", "2x2", "-quality", "85", "photo.jpg")
	if err := runTool(dir, "convert", args...); err != nil {
		return nil, err
	}
	out := "photo.jpg"
	if s.heic {
		if err := runTool(dir, "heif-enc", "-q", "55", "photo.jpg", "-o", "photo.heic"); err != nil {
			return nil, err
		}
		out = "photo.heic"
	}
	return os.ReadFile(filepath.Join(dir, out))
}

func runTool(dir, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
