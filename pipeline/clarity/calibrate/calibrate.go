package calibrate

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline/clarity"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/scan"
)

// Row is the outcome on one page of the set.
type Row struct {
	Name, Variant string
	// Label is the expected finding code, "" for an acceptable page.
	Label      string
	Borderline bool
	// Got is the code of the first finding, "" when the page passed; Codes
	// are all of them.
	Got      string
	Codes    []string
	Measures clarity.Measures
}

// Result is the outcome on the whole set.
type Result struct {
	Rows []Row
	// Reasons are the codes the tables list, in order.
	Reasons []string
}

// Run draws every page of the set, reads it as an upload would be read
// (scan.Open, Decode) and checks it against t, on workers goroutines (all
// CPUs when workers < 1).
func Run(ctx context.Context, t clarity.Thresholds, workers int) (*Result, error) {
	return run(ctx, synth.ClaritySet(), Reasons, t, workers)
}

// PhotoReasons are the codes of the photo set's tables: the clarity codes
// and those of a photo to take again.
var PhotoReasons = append(slices.Clone(Reasons), string(finding.PageSkewed), string(finding.PageCutOff))

// RunPhotos is Run on the labelled phone photos (synth.PhotoSet), which
// ImageMagick and heif-enc draw.
func RunPhotos(ctx context.Context, t clarity.Thresholds, workers int) (*Result, error) {
	return run(ctx, synth.PhotoSet(), PhotoReasons, t, workers)
}

func run(ctx context.Context, cases []synth.ClarityCase, reasons []string, t clarity.Thresholds, workers int) (*Result, error) {
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	rows := make([]Row, len(cases))
	errs := make([]error, len(cases))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				rows[i], errs[i] = one(cases[i], t)
			}
		})
	}
	for i := range cases {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return &Result{Rows: rows, Reasons: reasons}, nil
}

func one(c synth.ClarityCase, t clarity.Thresholds) (Row, error) {
	row := Row{Name: c.Name, Variant: c.Variant, Label: c.Label, Borderline: c.Borderline}
	data, err := c.Draw()
	if err != nil {
		return row, err
	}
	f, err := scan.Open(data, scan.Limits{})
	if err != nil {
		return row, fmt.Errorf("calibrate: %s: %w", c.Name, err)
	}
	page, err := f.Page(1)
	if err != nil {
		return row, fmt.Errorf("calibrate: %s: %w", c.Name, err)
	}
	img, err := page.Decode()
	if err != nil {
		return row, fmt.Errorf("calibrate: %s: %w", c.Name, err)
	}
	row.Measures = scan.Measure(img, page)
	for _, fe := range clarity.Check(row.Measures, t) {
		row.Codes = append(row.Codes, string(fe.Code))
	}
	if len(row.Codes) > 0 {
		row.Got = row.Codes[0]
	}
	return row, nil
}

// Reasons are the clarity codes in the order the tables list them.
var Reasons = []string{
	string(finding.BlankPage), string(finding.LowResolution), string(finding.HeavyCompression),
	string(finding.Blurry), string(finding.TooDark), string(finding.Overexposed), string(finding.LowContrast),
}

// Stats are the counts and rates of one class.
type Stats struct {
	Class              string
	Support            int // pages labelled with the class
	TP, FP, FN         int
	Precision, Recall  float64
	PrecisionUndefined bool // nothing was predicted as the class
	RecallUndefined    bool // nothing is labelled with the class
}

func stats(class string, rows []Row, labelled, predicted func(Row) bool) Stats {
	s := Stats{Class: class}
	for _, r := range rows {
		l, p := labelled(r), predicted(r)
		switch {
		case l && p:
			s.TP++
		case p:
			s.FP++
		case l:
			s.FN++
		}
		if l {
			s.Support++
		}
	}
	s.Precision, s.PrecisionUndefined = ratio(s.TP, s.TP+s.FP)
	s.Recall, s.RecallUndefined = ratio(s.TP, s.TP+s.FN)
	return s
}

func ratio(a, b int) (float64, bool) {
	if b == 0 {
		return 1, true
	}
	return float64(a) / float64(b), false
}

// Unreadable is reject versus accept, whatever the reason: a page labelled
// with any code and rejected for any code is a true positive.
func (r *Result) Unreadable() Stats {
	return stats("unreadable (any reason)", r.Rows,
		func(r Row) bool { return r.Label != "" }, func(r Row) bool { return r.Got != "" })
}

// PerReason returns the stats of every reason, by first finding.
func (r *Result) PerReason() []Stats {
	var out []Stats
	for _, c := range r.Reasons {
		out = append(out, stats(c, r.Rows,
			func(r Row) bool { return r.Label == c }, func(r Row) bool { return r.Got == c }))
	}
	return out
}

// WronglyRejected lists the pages labelled acceptable that were rejected:
// the one mistake the check must never make.
func (r *Result) WronglyRejected() []Row {
	var out []Row
	for _, row := range r.Rows {
		if row.Label == "" && row.Got != "" {
			out = append(out, row)
		}
	}
	return out
}

func show(code string) string {
	if code == "" {
		return "accept"
	}
	return code
}

// WriteTables writes the confusion matrix, precision and recall, and the
// measures per variant as aligned plain-text tables.
func (r *Result) WriteTables(w io.Writer) error {
	classes := append([]string{""}, r.Reasons...)
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Confusion matrix: %d pages, rows labelled, columns by first finding.\n", len(r.Rows))
	fmt.Fprint(tw, "labelled \\ got")
	for _, c := range classes {
		fmt.Fprintf(tw, "\t%s", show(c))
	}
	fmt.Fprintln(tw)
	for _, l := range classes {
		fmt.Fprintf(tw, "%s", show(l))
		for _, g := range classes {
			n := 0
			for _, row := range r.Rows {
				if row.Label == l && row.Got == g {
					n++
				}
			}
			fmt.Fprintf(tw, "\t%d", n)
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "class\tpages\tTP\tFP\tFN\tprecision\trecall")
	for _, s := range append([]Stats{r.Unreadable()}, r.PerReason()...) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", s.Class, s.Support, s.TP, s.FP, s.FN,
			percent(s.Precision, s.PrecisionUndefined), percent(s.Recall, s.RecallUndefined))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "acceptable pages rejected: %d\n", len(r.WronglyRejected()))
	for _, row := range r.WronglyRejected() {
		fmt.Fprintf(w, "  %s: %s\n", row.Name, strings.Join(row.Codes, ", "))
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 2, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Measures per variant, min–max over its pages.")
	photos := slices.ContainsFunc(r.Rows, func(row Row) bool { return row.Measures.Photo })
	head := "variant\tlabel\tn\tppi\tsharpness\tpaper\tink level\tcontrast\tink %\tjpeg q"
	if photos {
		head += "\tsheet %\tskew °\tcut %"
	}
	fmt.Fprintln(tw, head+"\trejected")
	byVariant := map[string][]Row{}
	var order []string
	for _, row := range r.Rows {
		if _, ok := byVariant[row.Variant]; !ok {
			order = append(order, row.Variant)
		}
		byVariant[row.Variant] = append(byVariant[row.Variant], row)
	}
	slices.SortStableFunc(order, func(a, b string) int {
		return cmp.Compare(slices.Index(classes, byVariant[a][0].Label), slices.Index(classes, byVariant[b][0].Label))
	})
	for _, v := range order {
		rows := byVariant[v]
		label := show(rows[0].Label)
		if rows[0].Borderline {
			label += " (borderline)"
		}
		rejected := 0
		for _, row := range rows {
			if row.Got != "" {
				rejected++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s", v, label, len(rows),
			span(rows, func(m clarity.Measures) float64 { return m.PPI }, 0),
			span(rows, func(m clarity.Measures) float64 { return m.Sharpness }, 1),
			span(rows, func(m clarity.Measures) float64 { return m.Paper }, 0),
			span(rows, func(m clarity.Measures) float64 { return m.InkLevel }, 0),
			span(rows, func(m clarity.Measures) float64 { return m.Contrast }, 0),
			span(rows, func(m clarity.Measures) float64 { return m.InkPercent }, 3),
			span(rows, func(m clarity.Measures) float64 { return float64(m.JPEGQuality) }, 0))
		if photos {
			fmt.Fprintf(tw, "\t%s\t%s\t%s",
				span(rows, func(m clarity.Measures) float64 { return m.SheetPercent }, 0),
				span(rows, func(m clarity.Measures) float64 { return m.Skew }, 1),
				span(rows, func(m clarity.Measures) float64 { return m.CutOff }, 1))
		}
		fmt.Fprintf(tw, "\t%d\n", rejected)
	}
	return tw.Flush()
}

func percent(v float64, undefined bool) string {
	if undefined {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

// span formats the range of one measure over rows.
func span(rows []Row, f func(clarity.Measures) float64, digits int) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rows {
		v := f(r.Measures)
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	a, b := fmt.Sprintf("%.*f", digits, lo), fmt.Sprintf("%.*f", digits, hi)
	if a == b {
		return a
	}
	return a + "–" + b
}

// Summary is a one-line account, for logs.
func (r *Result) Summary() string {
	u := r.Unreadable()
	var b strings.Builder
	fmt.Fprintf(&b, "%d pages; unreadable: precision %.1f%%, recall %.1f%%; acceptable pages rejected: %d",
		len(r.Rows), 100*u.Precision, 100*u.Recall, len(r.WronglyRejected()))
	return b.String()
}
