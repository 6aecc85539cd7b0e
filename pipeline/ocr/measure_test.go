package ocr_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline/mask"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/pipeline/packet"
	"github.com/blindpack/blindpack/pipeline/scan"
)

// The measurement draws synthetic pages (internal/synth) of the materials
// reviewers read, builds a one-material packet of each the way the
// pipeline does — JPEG scan, masks burned in, watermark on top — renders
// it with pdftoppm and reads it with Tesseract, exactly as a worker does.
// A page is read once with every identity box masked (a clean page: any
// hit is a false positive) and once per box with only that box left
// unmasked (a leak: it is found when a hit of the right kind overlaps the
// box; any other hit is a false positive on that page).
//
// BLINDPACK_OCR_MEASURE=full runs every identity, page kind and seed at
// 150 and 300 ppi, and at 150 ppi also degraded the ways the clarity
// check still lets through (about 1000 readings, 15 minutes on 2 cores);
// the default is the small CI set, and BLINDPACK_OCR_MEASURE=scan150 the
// full set's 150-ppi plain scans of seed 0 only, =scans its plain scans
// (both resolutions and seeds), =soft its three degraded rows of seed 0. BLINDPACK_OCR_DPI sets the rendering
// resolution (default ocr.DefaultDPI), BLINDPACK_OCR_PSM Tesseract's page
// segmentation mode (default ocr.DefaultPSM); BLINDPACK_OCR_READ=full
// reads every line (an engine not marked ocr.Screened) instead of the
// lines the screen picks.

// measureIDs are the fictional applicants of the measurement.
var measureIDs = synth.MeasureApplicants

// condition is how a page was scanned: the JPEG quality and what was done
// to the pixels first.
type condition struct {
	name    string
	quality int
	degrade func(img *image.Gray, ppi int) *image.Gray
}

// conditions are a plain office scan and three that the clarity check
// still accepts (see internal/synth/labeled.go): soft focus, the edge of
// "readable with effort", and a grey, medium-quality JPEG.
var conditions = []condition{
	{"scan", 85, nil},
	{"blur-0.15mm", 85, func(img *image.Gray, ppi int) *image.Gray { return synth.GaussianBlur(img, 0.15*float64(ppi)/25.4) }},
	{"blur-0.25mm", 85, func(img *image.Gray, ppi int) *image.Gray { return synth.GaussianBlur(img, 0.25*float64(ppi)/25.4) }},
	{"greyish-q50", 50, func(img *image.Gray, _ int) *image.Gray {
		out := image.NewGray(img.Rect)
		for i, v := range img.Pix {
			out.Pix[i] = uint8(128 + (int(v)-128)/2)
		}
		return out
	}},
}

type pageKind = synth.PageKind

var measureKinds = synth.MeasureKinds

// measureCase is one reading: a page with some of its identity boxes
// masked.
type measureCase struct {
	cond     int // index in conditions
	ppi      int
	kind     string
	id       int
	seed     uint64
	leakKind ocr.Kind // "" for a clean page
	leak     ocr.Rect
}

type measureResult struct {
	c       measureCase
	found   bool // the leak was found
	strays  int  // hits not on the leak
	render  time.Duration
	read    time.Duration
	runErr  error
	variant string
}

// measureScan is one scan setting of the set: a condition at a resolution.
type measureScan struct{ cond, ppi int }

func measureSet(full bool) (scans []measureScan, ids []int, kinds []pageKind, seeds []uint64) {
	if full {
		return []measureScan{{0, 150}, {0, 300}, {1, 150}, {2, 150}, {3, 150}}, []int{0, 1, 2, 3}, measureKinds, []uint64{0, 1}
	}
	switch os.Getenv("BLINDPACK_OCR_MEASURE") {
	case "scan150":
		// The first row of the full set, one seed: 32 pages, 100 readings.
		return []measureScan{{0, 150}}, []int{0, 1, 2, 3}, measureKinds, []uint64{0}
	case "scans":
		// The full set's plain scans, both resolutions and seeds: 64 pages
		// a resolution, 400 readings.
		return []measureScan{{0, 150}, {0, 300}}, []int{0, 1, 2, 3}, measureKinds, []uint64{0, 1}
	case "soft":
		// The full set's degraded rows, one seed: 96 pages, 300 readings.
		return []measureScan{{1, 150}, {2, 150}, {3, 150}}, []int{0, 1, 2, 3}, measureKinds, []uint64{0}
	}
	// CI: plain scans of two page kinds that hold both name and employer,
	// two identities, both resolutions: 8 pages, 24 readings.
	return []measureScan{{0, 150}, {0, 300}}, []int{0, 2}, []pageKind{measureKinds[0], measureKinds[4]}, []uint64{0}
}

var (
	measureFontOnce sync.Once
	measureFont     *pdfkit.Font
	measureFontErr  error
)

func requireTesseract(t testing.TB) *ocr.Tesseract {
	t.Helper()
	testenv.Tool(t, "tesseract")
	testenv.Tool(t, "pdftoppm")
	e := &ocr.Tesseract{}
	if err := e.Check(context.Background()); err != nil {
		t.Fatalf("tesseract is installed but not usable: %v", err)
	}
	return e
}

func TestMeasureDetection(t *testing.T) {
	engine := requireTesseract(t)
	full := os.Getenv("BLINDPACK_OCR_MEASURE") == "full"
	if !full && testing.Short() {
		t.Skip("OCR measurement is slow; not in -short")
	}
	dpi := envInt(t, "BLINDPACK_OCR_DPI", ocr.DefaultDPI)
	engine.PSM = envInt(t, "BLINDPACK_OCR_PSM", ocr.DefaultPSM)
	measureFontOnce.Do(func() { measureFont, measureFontErr = loadFont() })
	if measureFontErr != nil {
		t.Fatal(measureFontErr)
	}
	scans, ids, kinds, seeds := measureSet(full)
	reader := ocr.Screened(engine)
	if os.Getenv("BLINDPACK_OCR_READ") == "full" {
		reader = engine
	}

	var cases []measureCase
	for _, sc := range scans {
		for _, k := range kinds {
			for _, idi := range ids {
				for _, seed := range seeds {
					p, err := k.Draw(measureIDs[idi], synth.Options{PPI: sc.ppi, Seed: seed})
					if err != nil {
						t.Fatal(err)
					}
					base := measureCase{cond: sc.cond, ppi: sc.ppi, kind: k.Name, id: idi, seed: seed}
					cases = append(cases, base)
					for _, r := range p.Name {
						c := base
						c.leakKind, c.leak = ocr.KindName, ocr.Rect(r)
						cases = append(cases, c)
					}
					for _, r := range p.Employer {
						c := base
						c.leakKind, c.leak = ocr.KindEmployer, ocr.Rect(r)
						cases = append(cases, c)
					}
				}
			}
		}
	}
	kindByName := map[string]pageKind{}
	for _, k := range kinds {
		kindByName[k.Name] = k
	}

	results := make([]measureResult, len(cases))
	cpuStart := childCPU(t)
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				results[i] = measureOne(t, reader, kindByName[cases[i].kind], cases[i], dpi)
			}
		})
	}
	for i := range cases {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, r := range results {
		if r.runErr != nil {
			t.Fatalf("%s: %v", r.variant, r.runErr)
		}
	}
	table := measureTable(results, dpi, engine.PSM)
	if reader == ocr.Engine(engine) {
		table = "every line read (BLINDPACK_OCR_READ=full)\n" + table
	}
	t.Log("\n" + table)
	// The programs' CPU time (getrusage of the children), not wall time:
	// the machine may be shared.
	t.Logf("CPU of pdftoppm and tesseract: %.2f s per page read (%d pages)",
		(childCPU(t)-cpuStart).Seconds()/float64(len(cases)), len(cases))

	// Floors the data supports, with a margin (README has the figures).
	// The CI set: every leak was found and no clean page flagged; one miss
	// of 16 is allowed before the test fails. The full set: floors about
	// ten points under what was measured (100%, 99%, 87%, 98%). Clean
	// pages flagged: only the known case, the patent certificate whose
	// co-inventor 王建国 contains the two-character name 王建.
	leaks, found := make([]int, len(conditions)), make([]int, len(conditions))
	for _, r := range results {
		switch {
		case r.c.leakKind == "" && r.strays > 0:
			// (The CI set has no patent page of 王建; scan150 has.)
			if !(r.c.kind == "patent" && r.c.id == 3) {
				t.Errorf("clean page flagged: %s", r.variant)
			}
		case r.c.leakKind != "":
			leaks[r.c.cond]++
			if r.found {
				found[r.c.cond]++
			} else {
				t.Logf("leak not found: %s", r.variant)
			}
		}
	}
	floors := []float64{0.9, 0.9, 0.9, 0.9}
	if full {
		floors = measuredFloors
	}
	for i, c := range conditions {
		if leaks[i] == 0 {
			continue
		}
		if rate := float64(found[i]) / float64(leaks[i]); rate < floors[i] {
			t.Errorf("%s: detection %d/%d = %.2f, want ≥ %.2f", c.name, found[i], leaks[i], rate, floors[i])
		}
	}
}

// measuredFloors are the full set's detection floors per condition.
var measuredFloors = []float64{0.97, 0.9, 0.77, 0.88}

func loadFont() (*pdfkit.Font, error) { return pdfkit.LoadFont(synth.FontPath, 0) }

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func pageKey(c measureCase) string {
	return fmt.Sprintf("%s/%d/%d/%d/%s", c.kind, c.id, c.seed, c.ppi, conditions[c.cond].name)
}

// measureOne draws the page, builds its packet, renders and reads it.
func measureOne(t testing.TB, engine ocr.Engine, k pageKind, c measureCase, dpi int) (res measureResult) {
	res.c = c
	res.variant = pageKey(c) + "/clean"
	if c.leakKind != "" {
		res.variant = fmt.Sprintf("%s/%s-leak@%.3f,%.3f", pageKey(c), c.leakKind, c.leak[0], c.leak[1])
	}
	p, err := k.Draw(measureIDs[c.id], synth.Options{PPI: c.ppi, Seed: c.seed})
	if err != nil {
		res.runErr = err
		return
	}
	cond := conditions[c.cond]
	if cond.degrade != nil {
		p.Image = cond.degrade(p.Image, c.ppi)
	}
	var masks []ocr.Rect
	for _, r := range append(slices.Clone(p.Name), p.Employer...) {
		if ocr.Rect(r) != c.leak {
			masks = append(masks, ocr.Rect(r))
		}
	}
	pdf, err := onePagePacket(p, masks, cond.quality)
	if err != nil {
		res.runErr = err
		return
	}
	path := filepath.Join(t.TempDir(), "packet.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		res.runErr = err
		return
	}
	id := ocr.Identity{Name: measureIDs[c.id].Name, Employer: measureIDs[c.id].Employer}
	hits, stats, err := ocr.CheckPacket(context.Background(), path,
		[]ocr.PacketPage{{PacketPage: 2, Type: "application_form", Page: 1, Masks: masks}}, id,
		ocr.PacketOptions{Engine: engine, DPI: dpi})
	if err != nil {
		res.runErr = err
		return
	}
	res.render, res.read = stats[0].Render, stats[0].Recognize
	for _, h := range hits {
		if c.leakKind != "" && h.Kind == c.leakKind && overlaps(h.Box, c.leak) {
			res.found = true
			continue
		}
		res.strays++
	}
	return res
}

// overlaps reports whether a hit box and an identity box share at least a
// third of the hit's area: the hit's box is an estimate from OCR word
// boxes, the identity box has a margin.
func overlaps(hit, box ocr.Rect) bool {
	iw := min(hit[2], box[2]) - max(hit[0], box[0])
	ih := min(hit[3], box[3]) - max(hit[1], box[1])
	if iw <= 0 || ih <= 0 {
		return false
	}
	return iw*ih >= (hit[2]-hit[0])*(hit[3]-hit[1])/3
}

// onePagePacket builds a packet of one material of one page, as the
// pipeline would: a JPEG scan, masks burned in.
func onePagePacket(p synth.Page, masks []ocr.Rect, quality int) ([]byte, error) {
	return packetOf([]synth.Page{p}, [][]ocr.Rect{masks}, quality)
}

// packetOf builds a packet of one material whose pages are pages, each
// with its masks burned in.
func packetOf(pages []synth.Page, masks [][]ocr.Rect, quality int) ([]byte, error) {
	var buf bytes.Buffer
	b, err := packet.New(&buf, packet.Header{AnonCode: "2024-TEST-0CR0", Campaign: "2024", SeriesZH: "工程系列", SeriesEN: "Engineering", LevelZH: "中级", LevelEN: "Intermediate"},
		packet.Options{Font: measureFont})
	if err != nil {
		return nil, err
	}
	b.BeginMaterial(0, "application_form", "申报表", "application form", len(pages))
	for i, p := range pages {
		jpg, err := synth.EncodeJPEG(p.Image, quality)
		if err != nil {
			return nil, err
		}
		f, err := scan.Open(jpg, scan.Limits{})
		if err != nil {
			return nil, err
		}
		sp, err := f.Page(1)
		if err != nil {
			return nil, err
		}
		img, err := sp.Decode()
		if err != nil {
			return nil, err
		}
		var mr []mask.Rect
		for _, m := range masks[i] {
			mr = append(mr, mask.Rect(m))
		}
		if err := b.AddPage(sp, img, mr); err != nil {
			return nil, err
		}
	}
	if _, err := b.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// measureTable tabulates detection and false positives by resolution and
// page kind, and the time per page.
func measureTable(results []measureResult, dpi, psm int) string {
	type agg struct {
		leaks, found, clean, cleanFlagged, leakStrays int
		render, read                                  time.Duration
		n                                             int
	}
	rows := map[string]*agg{}
	var order []string
	add := func(key string, r measureResult) {
		a, ok := rows[key]
		if !ok {
			a = &agg{}
			rows[key] = a
			order = append(order, key)
		}
		a.n++
		a.render += r.render
		a.read += r.read
		if r.c.leakKind == "" {
			a.clean++
			if r.strays > 0 {
				a.cleanFlagged++
			}
			return
		}
		a.leaks++
		if r.found {
			a.found++
		}
		if r.strays > 0 {
			a.leakStrays++
		}
	}
	for _, r := range results {
		if r.c.cond == 0 {
			add(fmt.Sprintf("%d ppi %s  %s", r.c.ppi, conditions[r.c.cond].name, r.c.kind), r)
		}
	}
	for _, r := range results {
		add(fmt.Sprintf("%d ppi %s  all kinds", r.c.ppi, conditions[r.c.cond].name), r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rendered at %d dpi; tesseract %s, psm %d\n", dpi, tesseractVersion(), psm)
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "scan  page\tleaks found\tdetection\tclean pages flagged\tleak pages with another hit\trender ms/page\tOCR ms/page\t")
	for _, k := range order {
		a := rows[k]
		fmt.Fprintf(w, "%s\t%d/%d\t%.0f%%\t%d/%d\t%d/%d\t%d\t%d\t\n", k, a.found, a.leaks, pct(a.found, a.leaks),
			a.cleanFlagged, a.clean, a.leakStrays, a.leaks,
			(a.render / time.Duration(a.n)).Milliseconds(), (a.read / time.Duration(a.n)).Milliseconds())
	}
	w.Flush()
	return b.String()
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func tesseractVersion() string {
	out, err := exec.Command("tesseract", "--version").Output()
	if err != nil {
		return "?"
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimPrefix(first, "tesseract ")
}
