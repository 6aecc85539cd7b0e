package synth

import (
	"fmt"
	"hash/fnv"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// The labels of the clarity set are the finding codes of pipeline/finding
// that a page must get; they are spelled out here so that the generator does
// not depend on the pipeline it tests.
const (
	LabelAcceptable       = ""
	LabelBlank            = "blank_page"
	LabelLowResolution    = "low_resolution"
	LabelHeavyCompression = "heavy_compression"
	LabelBlurry           = "blurry"
	LabelTooDark          = "too_dark"
	LabelOverexposed      = "overexposed"
	LabelLowContrast      = "low_contrast"
)

// ClarityCase is one page of the labelled clarity set, described but not
// yet drawn: drawing the whole set at once would hold a few hundred pages in
// memory, so callers draw cases one by one, in parallel if they like.
type ClarityCase struct {
	// Name says which page and what was done to it:
	// kind/seed/variant, e.g. "summary/s1/blur-0.35mm".
	Name string
	// Variant is the name without the page, e.g. "blur-0.35mm", for
	// grouping results.
	Variant string
	// Label is the finding code a clarity check must give the page, or
	// LabelAcceptable for a page a person reads easily, which must never
	// be rejected.
	Label string
	// Borderline marks acceptable pages made deliberately close to the
	// rejected ones: softly blurred, dim, faded, compressed or photographed.
	Borderline bool
	// Draw renders, degrades and encodes the page as it would be uploaded,
	// a JPEG or PNG file. It is safe to call from several goroutines.
	Draw func() ([]byte, error)
}

// claritySeeds are the careers (and so texts and paper noise) the set is
// drawn with: both profiles.
var claritySeeds = []uint64{0, 1}

// clarityKinds are the page kinds of the set: dense text, a ruled form, a
// notice with large headings, and two certificates with photos and seals,
// one of them landscape.
var clarityKinds = []struct {
	name string
	page pageFunc
}{
	{"form", formPage(1)},
	{"summary", summaryPage(1, 1)},
	{"publicity", PublicityNotice},
	{"title", TitleCertificate},
	{"degree", DegreeCertificate},
}

var clarityIDs = []Identity{
	{Name: "赵新民", Employer: "新疆天润建设工程有限公司"},
	{Name: "孙丽华", Employer: "乌鲁木齐汇通财务咨询有限公司"},
}

// variant is one way of turning a clean page into an upload.
type variant struct {
	name       string
	label      string
	borderline bool
	ppi        int // resolution the page is drawn at
	// make degrades the drawn page; it must not modify src.
	make func(src *image.Gray, r *rand.Rand, ppi int) *image.Gray
	// quality is the JPEG quality of the upload, 0 for PNG.
	quality int
	// seeds, when not nil, restricts the variant to the pages of these
	// seeds: the costly 200- and 300-ppi blurs are made of one career each.
	seeds []uint64
}

// scannerQuality is the JPEG quality of the set's ordinary uploads: the
// "high" setting of office scanners.
const scannerQuality = 90

// Blur strengths are the standard deviation of a Gaussian in millimetres
// on paper, so that they mean the same at every resolution. The pages'
// body text is 10.5–13 pt, with strokes about 0.3 mm apart in a dense
// character: at 0.15 mm the text is soft but a person reads it without
// effort; at 0.35 mm strokes merge, digits blur into each other and only
// guessing from context is left. Between the two (0.2–0.3 mm) people read
// with effort; the set leaves that band unlabelled rather than pretend to
// know where "easily" ends, and the threshold is put inside it.
func blurred(mm float64) func(*image.Gray, *rand.Rand, int) *image.Gray {
	return func(src *image.Gray, _ *rand.Rand, ppi int) *image.Gray {
		return GaussianBlur(src, mm*float64(ppi)/25.4)
	}
}

// levels maps every grey level through f.
func levels(f func(v float64) float64) func(*image.Gray, *rand.Rand, int) *image.Gray {
	return func(src *image.Gray, r *rand.Rand, _ int) *image.Gray {
		var lut [256]uint8
		for v := range lut {
			lut[v] = clampByte(f(float64(v)))
		}
		out := cloneGray(src)
		for i, v := range out.Pix {
			out.Pix[i] = lut[v]
		}
		// A camera or scanner pushed to its limits adds grain.
		addNoise(out, r, 2)
		return out
	}
}

func same(src *image.Gray, _ *rand.Rand, _ int) *image.Gray { return src }

var variants = []variant{
	// Clean scans at the resolutions people use, and one a little low.
	{name: "scan-300ppi", ppi: 300, make: same, quality: scannerQuality},
	{name: "scan-200ppi", ppi: 200, make: same, quality: scannerQuality},
	{name: "scan-150ppi", ppi: 150, make: same, quality: 85},
	{name: "scan-150ppi-png", ppi: 150, make: same},
	{name: "scan-120ppi", ppi: 120, make: same, quality: scannerQuality, borderline: true},
	// Too few pixels: 72 ppi is a screen shot of a page, 90 ppi a phone
	// photo shrunk by a chat app.
	{name: "lowres-72ppi", label: LabelLowResolution, ppi: 72, make: same, quality: scannerQuality},
	{name: "lowres-90ppi", label: LabelLowResolution, ppi: 90, make: same, quality: scannerQuality},
	// Blur at the usual resolution, and the same strengths at 200 and 300
	// ppi, which must be judged alike. A synthetic page is already softened
	// by about 0.7 pixel, as a scanner's optics do.
	{name: "blur-0.06mm", ppi: 150, make: blurred(0.06), quality: scannerQuality},
	{name: "blur-0.15mm", ppi: 150, make: blurred(0.15), quality: scannerQuality, borderline: true},
	{name: "blur-0.35mm", label: LabelBlurry, ppi: 150, make: blurred(0.35), quality: scannerQuality},
	{name: "blur-0.45mm", label: LabelBlurry, ppi: 150, make: blurred(0.45), quality: scannerQuality},
	{name: "blur-0.15mm-200ppi", ppi: 200, make: blurred(0.15), quality: scannerQuality, borderline: true, seeds: []uint64{1}},
	{name: "blur-0.35mm-200ppi", label: LabelBlurry, ppi: 200, make: blurred(0.35), quality: scannerQuality, seeds: []uint64{1}},
	{name: "blur-0.15mm-300ppi", ppi: 300, make: blurred(0.15), quality: scannerQuality, borderline: true, seeds: []uint64{0}},
	{name: "blur-0.35mm-300ppi", label: LabelBlurry, ppi: 300, make: blurred(0.35), quality: scannerQuality, seeds: []uint64{0}},
	// Exposure: paper at a quarter of its brightness is hard to read on a
	// screen and black when printed; at 60% it is merely dim.
	{name: "dark", label: LabelTooDark, ppi: 150, make: levels(func(v float64) float64 { return v * 0.25 }), quality: scannerQuality},
	{name: "dim", ppi: 150, make: levels(func(v float64) float64 { return v * 0.6 }), quality: scannerQuality, borderline: true},
	// Washed out: the ink pushed towards the paper's white.
	{name: "washed-out", label: LabelOverexposed, ppi: 150, make: levels(func(v float64) float64 { return 255 - (255-v)*0.2 }), quality: scannerQuality},
	{name: "light", ppi: 150, make: levels(func(v float64) float64 { return 255 - (255-v)*0.55 }), quality: scannerQuality, borderline: true},
	// Grey fog: ink and paper both pulled towards mid grey.
	{name: "fog", label: LabelLowContrast, ppi: 150, make: levels(func(v float64) float64 { return 128 + (v-128)*0.15 }), quality: scannerQuality},
	{name: "greyish", ppi: 150, make: levels(func(v float64) float64 { return 128 + (v-128)*0.5 }), quality: scannerQuality, borderline: true},
	// The back of a sheet: dust, and the front showing through faintly.
	{name: "blank", label: LabelBlank, ppi: 150, make: blankSide, quality: scannerQuality},
	{name: "blank-photo", label: LabelBlank, ppi: 150, make: func(src *image.Gray, r *rand.Rand, ppi int) *image.Gray {
		return phoneLook(blankSide(src, r, ppi), r, ppi)
	}, quality: 85},
	// JPEG compression: at quality 10 and below 8×8 blocks and ringing smear
	// the fine detail a reviewer checks — seals, signatures, small digits —
	// even where large text stays legible; at 50–60, what "medium" settings
	// give, there is mild ringing only.
	{name: "jpeg-q5", label: LabelHeavyCompression, ppi: 150, make: same, quality: 5},
	{name: "jpeg-q10", label: LabelHeavyCompression, ppi: 150, make: same, quality: 10},
	{name: "jpeg-q50", ppi: 150, make: same, quality: 50, borderline: true},
	{name: "jpeg-q60", ppi: 150, make: same, quality: 60, borderline: true},
	// A phone photo: perspective, desk around the sheet, uneven light,
	// vignetting, slight softness and sensor noise — readable; and the same
	// photo taken with a shaking hand.
	{name: "phone", ppi: 200, make: phoneLook, quality: 85, borderline: true},
	{name: "phone-150ppi", ppi: 150, make: phoneLook, quality: 85, borderline: true},
	{name: "phone-shaken", label: LabelBlurry, ppi: 200, make: func(src *image.Gray, r *rand.Rand, ppi int) *image.Gray {
		return phoneLook(GaussianBlur(src, 0.35*float64(ppi)/25.4), r, ppi)
	}, quality: 85},
}

// ClaritySet returns the labelled clarity set: every variant of every page
// kind for both seeds, a few hundred pages in all (280). Everything is
// deterministic: a case draws the same bytes on every call.
func ClaritySet() []ClarityCase {
	bases := &baseCache{m: map[baseKey]*baseEntry{}}
	var cases []ClarityCase
	for _, seed := range claritySeeds {
		for _, k := range clarityKinds {
			for _, v := range variants {
				if v.seeds != nil && !slices.Contains(v.seeds, seed) {
					continue
				}
				key := baseKey{k.name, seed, v.ppi}
				bases.use(key)
				name := fmt.Sprintf("%s/s%d/%s", k.name, seed, v.name)
				page := k.page
				cases = append(cases, ClarityCase{
					Name: name, Variant: v.name, Label: v.label, Borderline: v.borderline,
					Draw: func() ([]byte, error) {
						src, err := bases.get(key, func() (*image.Gray, error) {
							p, err := page(clarityIDs[seed%uint64(len(clarityIDs))], Options{PPI: key.ppi, Seed: seed})
							return p.Image, err
						})
						if err != nil {
							return nil, fmt.Errorf("synth: clarity case %s: %w", name, err)
						}
						img := v.make(src, caseRand(name), v.ppi)
						bases.done(key)
						if v.quality == 0 {
							return EncodePNG(img)
						}
						return EncodeJPEG(img, v.quality)
					},
				})
			}
		}
	}
	return cases
}

// caseRand is the random source of one case, by its name.
func caseRand(name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(0x5eed, h.Sum64()))
}

type baseKey struct {
	kind string
	seed uint64
	ppi  int
}

type baseEntry struct {
	once  sync.Once
	img   *image.Gray
	err   error
	users int
}

// baseCache draws each clean page once for all the variants made from it
// and lets it go when the last of them has been drawn, so that the set
// holds a handful of pages in memory rather than all of them.
type baseCache struct {
	mu sync.Mutex
	m  map[baseKey]*baseEntry
}

func (c *baseCache) use(k baseKey) {
	e := c.m[k]
	if e == nil {
		e = &baseEntry{}
		c.m[k] = e
	}
	e.users++
}

func (c *baseCache) get(k baseKey, draw func() (*image.Gray, error)) (*image.Gray, error) {
	c.mu.Lock()
	e := c.m[k]
	c.mu.Unlock()
	e.once.Do(func() { e.img, e.err = draw() })
	c.mu.Lock()
	img, err := e.img, e.err
	c.mu.Unlock()
	if img == nil && err == nil {
		return draw() // drawn again after its last user let it go
	}
	return img, err
}

func (c *baseCache) done(k baseKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[k]
	if e.users--; e.users <= 0 {
		e.img = nil
	}
}

func clampByte(v float64) uint8 { return uint8(math.Round(math.Min(255, math.Max(0, v)))) }

func cloneGray(src *image.Gray) *image.Gray {
	out := image.NewGray(src.Rect)
	copy(out.Pix, src.Pix)
	return out
}

// addNoise adds Gaussian grain of standard deviation sigma levels.
func addNoise(img *image.Gray, r *rand.Rand, sigma float64) {
	for i, v := range img.Pix {
		img.Pix[i] = clampByte(float64(v) + sigma*r.NormFloat64())
	}
}

// GaussianBlur returns src blurred by a Gaussian of standard deviation
// sigma pixels, computed separably in fixed point; edges repeat the border
// pixels. A sigma below 0.1 returns a copy. Both passes run along rows,
// the vertical one accumulating whole rows, which keeps a 300-ppi page
// under a second even for the strongest blur of the set.
func GaussianBlur(src *image.Gray, sigma float64) *image.Gray {
	out := cloneGray(src)
	if sigma < 0.1 {
		return out
	}
	rad := int(math.Ceil(3 * sigma))
	k := make([]int32, 2*rad+1)
	var sum float64
	for i := range k {
		sum += math.Exp(-float64((i-rad)*(i-rad)) / (2 * sigma * sigma))
	}
	var ksum int32
	for i := range k {
		k[i] = int32(math.Round(math.Exp(-float64((i-rad)*(i-rad))/(2*sigma*sigma)) / sum * (1 << 12)))
		ksum += k[i]
	}
	k[rad] += 1<<12 - ksum
	w, h := src.Rect.Dx(), src.Rect.Dy()
	// Horizontal pass into 8.12 fixed point, from a row padded with copies
	// of its end pixels.
	tmp := make([]int32, w*h)
	pad := make([]int32, w+2*rad)
	for y := range h {
		row := src.Pix[y*src.Stride : y*src.Stride+w]
		for i := range pad {
			pad[i] = int32(row[min(w-1, max(0, i-rad))])
		}
		t := tmp[y*w : (y+1)*w]
		for i, kv := range k {
			p := pad[i : i+w]
			t := t[:len(p)]
			for x, v := range p {
				t[x] += kv * v
			}
		}
	}
	for i, v := range tmp {
		tmp[i] = (v + 1<<3) >> 4 // 8.8, so that the vertical pass fits 32 bits
	}
	// Vertical pass: each output row is a weighted sum of whole rows.
	acc := make([]int32, w)
	for y := range h {
		clear(acc)
		for i, kv := range k {
			r := tmp[min(h-1, max(0, y+i-rad))*w:][:w]
			acc := acc[:len(r)]
			for x, v := range r {
				acc[x] += kv * v
			}
		}
		o := out.Pix[y*out.Stride : y*out.Stride+w]
		for x, v := range acc {
			o[x] = uint8(min(255, max(0, (v+1<<19)>>20)))
		}
	}
	return out
}

// blankSide draws the back of a sheet: paper, dust, and the front showing
// through mirrored at a twentieth of its contrast.
func blankSide(src *image.Gray, r *rand.Rand, ppi int) *image.Gray {
	b := src.Rect
	out := image.NewGray(b)
	w := b.Dx()
	for y := range b.Dy() {
		row := src.Pix[y*src.Stride : y*src.Stride+w]
		o := out.Pix[y*out.Stride : y*out.Stride+w]
		for x := range o {
			o[x] = clampByte(paperGray - float64(paperGray-int(row[w-1-x]))*0.05)
		}
	}
	// Dust as scanify scatters it: a few dozen specks per A4 page.
	scale := float64(ppi) / 25.4
	n := int(float64(b.Dx()*b.Dy()) / (scale * scale) / 1200)
	for range n {
		cx, cy := r.Float64()*float64(b.Dx()), r.Float64()*float64(b.Dy())
		rad := (0.08 + 0.15*r.Float64()) * scale
		g := uint8(110 + r.IntN(100))
		for y := max(0, int(cy-rad)); y <= min(b.Dy()-1, int(cy+rad)); y++ {
			for x := max(0, int(cx-rad)); x <= min(b.Dx()-1, int(cx+rad)); x++ {
				if dx, dy := float64(x)-cx, float64(y)-cy; dx*dx+dy*dy <= rad*rad+0.25 {
					out.Pix[y*out.Stride+x] = min(out.Pix[y*out.Stride+x], g)
				}
			}
		}
	}
	addNoise(out, r, 1)
	return out
}

// phoneLook makes a page look photographed with a phone held over a desk:
// the sheet a little smaller than the frame and not quite square to it, the
// desk around it, light falling off towards one side and the corners, a
// slightly soft lens and sensor noise.
func phoneLook(src *image.Gray, r *rand.Rand, ppi int) *image.Gray {
	w, h := float64(src.Rect.Dx()), float64(src.Rect.Dy())
	// Where the sheet's corners land in the photo: 3–6% in from the frame,
	// each corner jittered, so the sheet is a slightly skewed trapezium.
	j := func(base float64) float64 { return base + 0.03*r.Float64() }
	dst := [4][2]float64{
		{j(0.03) * w, j(0.03) * h}, {(1 - j(0.03)) * w, j(0.03) * h},
		{(1 - j(0.03)) * w, (1 - j(0.03)) * h}, {j(0.03) * w, (1 - j(0.03)) * h},
	}
	srcPts := [4][2]float64{{0, 0}, {w, 0}, {w, h}, {0, h}}
	hm := homography(dst, srcPts) // photo → sheet
	soft := GaussianBlur(src, 0.12*float64(ppi)/25.4)
	out := image.NewGray(src.Rect)
	desk := 60 + r.Float64()*30
	gx, gy := 0.15*(r.Float64()-0.5), 0.15*(r.Float64()-0.5)
	light := 0.9 + 0.08*r.Float64()
	W, H := src.Rect.Dx(), src.Rect.Dy()
	for y := range H {
		for x := range W {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			d := hm[6]*fx + hm[7]*fy + 1
			u := (hm[0]*fx + hm[1]*fy + hm[2]) / d
			v := (hm[3]*fx + hm[4]*fy + hm[5]) / d
			var val float64
			if u < 0 || v < 0 || u >= w || v >= h {
				val = desk
			} else {
				val = bilinear(soft, u-0.5, v-0.5)
			}
			nx, ny := fx/w-0.5, fy/h-0.5
			val *= light * (1 + gx*nx*2 + gy*ny*2) * (1 - 0.35*(nx*nx+ny*ny))
			out.Pix[y*out.Stride+x] = clampByte(val + 3*r.NormFloat64())
		}
	}
	return out
}

func bilinear(img *image.Gray, u, v float64) float64 {
	W, H := img.Rect.Dx(), img.Rect.Dy()
	x0, y0 := int(math.Floor(u)), int(math.Floor(v))
	fx, fy := u-float64(x0), v-float64(y0)
	at := func(x, y int) float64 {
		return float64(img.Pix[min(H-1, max(0, y))*img.Stride+min(W-1, max(0, x))])
	}
	return (at(x0, y0)*(1-fx)+at(x0+1, y0)*fx)*(1-fy) + (at(x0, y0+1)*(1-fx)+at(x0+1, y0+1)*fx)*fy
}

// homography returns the projective map taking the four points from onto
// the four points to, as [a b c d e f g h] with
// x' = (ax+by+c)/(gx+hy+1), y' = (dx+ey+f)/(gx+hy+1).
func homography(from, to [4][2]float64) [8]float64 {
	var m [8][9]float64
	for i := range 4 {
		x, y, X, Y := from[i][0], from[i][1], to[i][0], to[i][1]
		m[2*i] = [9]float64{x, y, 1, 0, 0, 0, -x * X, -y * X, X}
		m[2*i+1] = [9]float64{0, 0, 0, x, y, 1, -x * Y, -y * Y, Y}
	}
	// Gauss–Jordan elimination with partial pivoting.
	for c := range 8 {
		p := c
		for r := c + 1; r < 8; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		m[c], m[p] = m[p], m[c]
		for r := range 8 {
			if r == c || m[c][c] == 0 {
				continue
			}
			f := m[r][c] / m[c][c]
			for k := c; k < 9; k++ {
				m[r][k] -= f * m[c][k]
			}
		}
	}
	var out [8]float64
	for i := range 8 {
		out[i] = m[i][8] / m[i][i]
	}
	return out
}
