package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sync"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/mask"
	"github.com/blindpack/blindpack/pipeline/policy"
)

// Workload describes the generated pages. The zero value is the default
// workload of the September-rush issue: 4 applicants × 30 A4 pages at
// 300 ppi, JPEG quality 85, 2 of each applicant's pages masked.
type Workload struct {
	Applicants int `json:"applicants"`
	// Pages per applicant, every one of them a one-page JPEG file that goes
	// into the packet.
	Pages int `json:"pages"`
	// Masked is how many of an applicant's pages carry the name or the
	// employer and so have masks (at least 1: the application form's first
	// page always names both).
	Masked  int `json:"masked"`
	PPI     int `json:"ppi"`
	Quality int `json:"quality"`
	// Typed makes every page a one-page typed PDF (text in an embedded
	// font, as a word processor exports it) instead of a JPEG scan: the
	// render path's workload. PPI and Quality then do not apply.
	Typed bool `json:"typed,omitempty"`
}

// ErrWorkload is wrapped by the errors of an impossible workload.
var ErrWorkload = errors.New("bench: invalid workload")

// WithDefaults fills in the zero fields.
func (w Workload) WithDefaults() Workload {
	if w.Applicants == 0 {
		w.Applicants = 4
	}
	if w.Pages == 0 {
		w.Pages = 30
	}
	if w.Masked == 0 {
		w.Masked = 2
	}
	if w.PPI == 0 {
		w.PPI = 300
	}
	if w.Quality == 0 {
		w.Quality = 85
	}
	return w
}

// Validate checks a workload (after WithDefaults).
func (w Workload) Validate() error {
	switch {
	case w.Applicants < 1 || w.Applicants > 1000:
		return fmt.Errorf("%w: %d applicants", ErrWorkload, w.Applicants)
	case w.Pages < 2 || w.Pages > 300:
		return fmt.Errorf("%w: %d pages (2–300: an application form and a summary at least)", ErrWorkload, w.Pages)
	case w.Masked < 1 || w.Masked > w.Pages:
		return fmt.Errorf("%w: %d masked pages of %d", ErrWorkload, w.Masked, w.Pages)
	case w.PPI < 100 || w.PPI > 600:
		return fmt.Errorf("%w: %d ppi", ErrWorkload, w.PPI)
	case w.Quality < 20 || w.Quality > 100:
		return fmt.Errorf("%w: JPEG quality %d", ErrWorkload, w.Quality)
	}
	return nil
}

// String names the workload, also as its cache directory.
func (w Workload) String() string {
	if w.Typed {
		return fmt.Sprintf("a%d-p%d-m%d-typed", w.Applicants, w.Pages, w.Masked)
	}
	return fmt.Sprintf("a%d-p%d-m%d-%dppi-q%d", w.Applicants, w.Pages, w.Masked, w.PPI, w.Quality)
}

// Set is a generated workload on disk.
type Set struct {
	Version    int         `json:"version"`
	Workload   Workload    `json:"workload"`
	Dir        string      `json:"-"`
	Applicants []Applicant `json:"applicants"`
}

// Applicant is one applicant's submission: Dir holds submission.json and
// the page files.
type Applicant struct {
	ID    string `json:"id"`
	Dir   string `json:"dir"`
	Pages []Page `json:"pages"`
}

// Page is one page file.
type Page struct {
	File          string `json:"file"`
	Bytes         int64  `json:"bytes"`
	Width, Height int
	// Masks cover every name and employer on the page.
	Masks []pipeline.Mask `json:"masks,omitempty"`
}

// Pixels returns a mask in pixels, rounded outward as blindpack does.
func (p Page) Pixels(r mask.Rect) image.Rectangle {
	w, h := float64(p.Width), float64(p.Height)
	return image.Rect(int(r[0]*w), int(r[1]*h), int(r[2]*w+0.999999), int(r[3]*h+0.999999)).Intersect(image.Rect(0, 0, p.Width, p.Height))
}

// Pages is the number of pages in the set.
func (s *Set) Pages() int { return s.Workload.Applicants * s.Workload.Pages }

// InputBytes is the size of every page file together.
func (s *Set) InputBytes() int64 {
	var n int64
	for _, a := range s.Applicants {
		for _, p := range a.Pages {
			n += p.Bytes
		}
	}
	return n
}

// Path is the path of one of an applicant's files.
func (s *Set) Path(a Applicant, file string) string { return filepath.Join(s.Dir, a.Dir, file) }

// Submission returns an applicant's submission document.
func (s *Set) Submission(a Applicant) (*pipeline.Submission, error) {
	data, err := os.ReadFile(s.Path(a, "submission.json"))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return pipeline.ParseSubmission(data)
}

// SetVersion changes when generated pages would differ, so that an old
// cache is not used.
const SetVersion = 1

// summaryPages is the length of the work summary the identity-free pages
// are drawn from: its pages 2 to summaryPages-1 name no one.
const summaryPages = 8

// identities are the applicants' names and employers, in turn.
var identities = []synth.Identity{
	{Name: "张三丰", Employer: "新疆天山重工机械有限公司"},
	{Name: "李静怡", Employer: "乌鲁木齐经开区恒信会计师事务所有限公司"},
	{Name: "欧阳明远", Employer: "新疆准东能源化工集团有限公司"},
	{Name: "马丽娜", Employer: "乌鲁木齐市建筑设计研究院"},
}

// identityPages draw pages that show the applicant's name or employer: a
// masked page is one of these, in turn.
var identityPages = []func(synth.Identity, synth.Options) (synth.Page, error){
	func(id synth.Identity, o synth.Options) (synth.Page, error) { return synth.ApplicationForm(id, 1, o) },
	func(id synth.Identity, o synth.Options) (synth.Page, error) {
		return synth.PerformanceSummary(id, 1, summaryPages, o)
	},
	func(id synth.Identity, o synth.Options) (synth.Page, error) { return synth.ApplicationForm(id, 2, o) },
	synth.TitleCertificate,
	synth.QualificationCertificate,
	synth.AchievementProof,
	synth.PatentCertificate,
	synth.DegreeCertificate,
}

// drawPage draws page i of applicant a: the first w.Masked pages from
// identityPages, the rest identity-free pages of work summaries, so that
// the masks cover everything that identifies the applicant.
func drawPage(w Workload, a, i int) (synth.Page, error) {
	id := identities[a%len(identities)]
	if i < w.Masked {
		o := synth.Options{PPI: w.PPI, Seed: uint64(a*7919 + i/len(identityPages))}
		return identityPages[i%len(identityPages)](id, o)
	}
	j := i - w.Masked
	mid := summaryPages - 2
	o := synth.Options{PPI: w.PPI, Seed: uint64(a*7919 + 1000 + j/mid)}
	return synth.PerformanceSummary(id, 2+j%mid, summaryPages, o)
}

// materialType places page i: the application form first, the summary
// second, achievements after (the one repeatable type of the policy).
func materialType(i int) string {
	switch i {
	case 0:
		return "application_form"
	case 1:
		return "performance_summary"
	}
	return "achievements"
}

// Policy is the policy the workload is processed under: the default one,
// with engineering at junior level requiring only the application form
// and the summary, so that every page of the workload is a packet page.
// Requirements change which materials must be present, not what a page
// costs.
func Policy() *policy.Policy {
	p := policy.Default()
	p.Requirements = []policy.Requirement{{
		Series: []string{"engineering"}, Levels: []string{"junior"},
		Required: [][]string{{"application_form"}, {"performance_summary"}},
	}}
	if err := p.Validate(); err != nil {
		panic("bench: policy: " + err.Error())
	}
	return p
}

// Generate writes the workload under dir (in a subdirectory named after
// it) and returns it, or returns the one a previous call left there: the
// pages depend only on w, so they are drawn once. workers pages are drawn
// at a time.
func Generate(ctx context.Context, w Workload, dir string, workers int) (*Set, error) {
	w = w.WithDefaults()
	if err := w.Validate(); err != nil {
		return nil, err
	}
	root := filepath.Join(dir, w.String())
	if s, err := Load(root); err == nil && s.Version == SetVersion && s.Workload == w {
		return s, nil
	}
	if err := os.RemoveAll(root); err != nil {
		return nil, fmt.Errorf("bench: generate: %w", err)
	}
	s := &Set{Version: SetVersion, Workload: w, Dir: root, Applicants: make([]Applicant, w.Applicants)}
	for a := range s.Applicants {
		ap := &s.Applicants[a]
		ap.ID = fmt.Sprintf("B2024-%06d", a+1)
		ap.Dir = ap.ID
		ap.Pages = make([]Page, w.Pages)
		if err := os.MkdirAll(filepath.Join(root, ap.Dir), 0o755); err != nil {
			return nil, fmt.Errorf("bench: generate: %w", err)
		}
	}
	type job struct{ a, i int }
	jobs := make(chan job)
	errs := make(chan error, w.Applicants*w.Pages)
	var wg sync.WaitGroup
	for range max(1, workers) {
		wg.Go(func() {
			for j := range jobs {
				errs <- s.writePage(j.a, j.i)
			}
		})
	}
feed:
	for a := range w.Applicants {
		for i := range w.Pages {
			select {
			case jobs <- job{a, i}:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for a := range s.Applicants {
		if err := s.writeSubmission(a); err != nil {
			return nil, err
		}
	}
	// The manifest last: a directory without one is an unfinished run.
	js, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return nil, fmt.Errorf("bench: generate: %w", err)
	}
	if err := os.WriteFile(filepath.Join(root, "manifest.json"), js, 0o644); err != nil {
		return nil, fmt.Errorf("bench: generate: %w", err)
	}
	return s, nil
}

// Load reads a generated workload.
func Load(root string) (*Set, error) {
	data, err := os.ReadFile(filepath.Join(root, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("bench: load: %w", err)
	}
	var s Set
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("bench: load %s: %w", root, err)
	}
	s.Dir = root
	return &s, nil
}

func (s *Set) writePage(a, i int) error {
	if s.Workload.Typed {
		return s.writeTypedPage(a, i)
	}
	pg, err := drawPage(s.Workload, a, i)
	if err != nil {
		return fmt.Errorf("bench: page %d of applicant %d: %w", i+1, a+1, err)
	}
	data, err := synth.EncodeJPEG(pg.Image, s.Workload.Quality)
	if err != nil {
		return err
	}
	p := &s.Applicants[a].Pages[i]
	p.File = fmt.Sprintf("page-%03d.jpg", i+1)
	p.Bytes = int64(len(data))
	p.Width, p.Height = pg.Image.Rect.Dx(), pg.Image.Rect.Dy()
	if i < s.Workload.Masked {
		for _, r := range pg.Name {
			p.Masks = append(p.Masks, pipeline.Mask{Page: 1, Kind: "name", Rect: mask.Rect(r)})
		}
		for _, r := range pg.Employer {
			p.Masks = append(p.Masks, pipeline.Mask{Page: 1, Kind: "employer", Rect: mask.Rect(r)})
		}
	}
	return os.WriteFile(s.Path(s.Applicants[a], p.File), data, 0o644)
}

func (s *Set) writeSubmission(a int) error {
	ap := s.Applicants[a]
	id := identities[a%len(identities)]
	sub := pipeline.Submission{
		Schema: pipeline.SubmissionSchema, Campaign: "2024",
		ApplicantID: ap.ID, SubmissionID: ap.ID + "-r1",
		Series: "engineering", Level: "junior",
		Identity: pipeline.Identity{Name: id.Name, Employer: id.Employer},
	}
	for i, p := range ap.Pages {
		sub.Materials = append(sub.Materials, pipeline.Material{Type: materialType(i), File: p.File, Masks: append([]pipeline.Mask{}, p.Masks...)})
	}
	js, err := json.MarshalIndent(sub, "", "  ")
	if err != nil {
		return fmt.Errorf("bench: submission: %w", err)
	}
	return os.WriteFile(s.Path(ap, "submission.json"), js, 0o644)
}
