package synth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"regexp"
)

// SampleDirs are the sample submissions WriteSamples creates, each a
// directory holding submission.json and the files it names.
var SampleDirs = []string{"eng-intermediate", "acct-senior"}

// sampleQuality is the JPEG quality of the samples: in the range office
// scanners use, and low enough that both samples together stay under about
// 2.5 MB to commit (85 would add 10%).
const sampleQuality = 80

type pageFunc func(Identity, Options) (Page, error)

func formPage(n int) pageFunc {
	return func(id Identity, o Options) (Page, error) { return ApplicationForm(id, n, o) }
}

func summaryPage(n, of int) pageFunc {
	return func(id Identity, o Options) (Page, error) { return PerformanceSummary(id, n, of, o) }
}

type format int

const (
	fmtJPEG format = iota
	fmtPNG
	fmtPDF
)

type sampleMaterial struct {
	typ    string
	file   string
	format format
	pages  []pageFunc
	rotate []int // PDF only: /Rotate per page, the image stored turned back
}

type sample struct {
	dir               string
	applicant, series string
	level             string
	id                Identity
	seed              uint64
	materials         []sampleMaterial
}

var samples = []sample{
	{
		dir: "eng-intermediate", applicant: "A2024-000123", series: "engineering", level: "intermediate",
		id: Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"}, seed: 0,
		materials: []sampleMaterial{
			{"application_form", "form.pdf", fmtPDF, []pageFunc{formPage(1), formPage(2)}, nil},
			{"performance_summary", "summary.jpg", fmtJPEG, []pageFunc{summaryPage(1, 1)}, nil},
			{"degree_certificate", "degree.png", fmtPNG, []pageFunc{DegreeCertificate}, nil},
			{"current_title_certificate", "title-certificate.jpg", fmtJPEG, []pageFunc{TitleCertificate}, nil},
			{"continuing_education", "continuing-education.jpg", fmtJPEG, []pageFunc{ContinuingEducation}, nil},
			{"employer_publicity", "publicity.jpg", fmtJPEG, []pageFunc{PublicityNotice}, nil},
			{"publicity_result", "publicity-result.jpg", fmtJPEG, []pageFunc{PublicityResult}, nil},
			{"recommendation_opinion", "recommendation.jpg", fmtJPEG, []pageFunc{RecommendationOpinion}, nil},
		},
	},
	{
		dir: "acct-senior", applicant: "A2024-000456", series: "accounting", level: "associate_senior",
		id: Identity{Name: "李静怡", Employer: "乌鲁木齐经开区恒信会计师事务所有限公司"}, seed: 1,
		materials: []sampleMaterial{
			// Page 2 was "fed sideways": stored turned a quarter left, with
			// /Rotate 90 to show it upright, so that consumers must honour
			// /Rotate to put its masks in the right place.
			{"application_form", "form.pdf", fmtPDF, []pageFunc{formPage(1), formPage(2)}, []int{0, 90}},
			{"performance_summary", "summary.pdf", fmtPDF, []pageFunc{summaryPage(1, 2), summaryPage(2, 2)}, nil},
			{"achievements", "patent.png", fmtPNG, []pageFunc{PatentCertificate}, nil},
			{"achievements", "achievement-proof.jpg", fmtJPEG, []pageFunc{AchievementProof}, nil},
			{"degree_certificate", "degree.jpg", fmtJPEG, []pageFunc{DegreeCertificate}, nil},
			{"qualification_certificate", "qualification.jpg", fmtJPEG, []pageFunc{QualificationCertificate}, nil},
			{"ce_exemption", "ce-exemption.jpg", fmtJPEG, []pageFunc{CEExemption}, nil},
			{"employer_publicity", "publicity.jpg", fmtJPEG, []pageFunc{PublicityNotice}, nil},
			{"publicity_result", "publicity-result.jpg", fmtJPEG, []pageFunc{PublicityResult}, nil},
			{"recommendation_opinion", "recommendation.jpg", fmtJPEG, []pageFunc{RecommendationOpinion}, nil},
		},
	},
}

// forReviewers are the material types that go into a review packet and so
// need masks; the others are seen by administrators only.
var forReviewers = map[string]bool{
	"application_form": true, "performance_summary": true, "achievements": true, "papers": true,
	"degree_certificate": true, "current_title_certificate": true, "qualification_certificate": true,
}

// The submission@1 shapes, fields in the contract's order.
type submissionJSON struct {
	Schema       string         `json:"schema"`
	Campaign     string         `json:"campaign"`
	ApplicantID  string         `json:"applicant_id"`
	SubmissionID string         `json:"submission_id"`
	Series       string         `json:"series"`
	Level        string         `json:"level"`
	Identity     identityJSON   `json:"identity"`
	Materials    []materialJSON `json:"materials"`
}

type identityJSON struct {
	Name     string `json:"name"`
	Employer string `json:"employer"`
}

type materialJSON struct {
	Type  string     `json:"type"`
	File  string     `json:"file"`
	Masks []maskJSON `json:"masks"`
}

type maskJSON struct {
	Page int    `json:"page"`
	Kind string `json:"kind"`
	Rect Rect   `json:"rect"`
}

// WriteSamples writes the sample submissions into dir/eng-intermediate and
// dir/acct-senior, replacing those two directories. The output is the same
// byte for byte on every run, so regenerating committed samples changes
// nothing unless the generator changed.
func WriteSamples(dir string) error {
	for _, s := range samples {
		if err := s.write(filepath.Join(dir, s.dir)); err != nil {
			return fmt.Errorf("synth: sample %s: %w", s.dir, err)
		}
	}
	return nil
}

func (s sample) write(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sub := submissionJSON{
		Schema: "blindpack/submission@1", Campaign: "2024",
		ApplicantID: s.applicant, SubmissionID: s.applicant + "-r1",
		Series: s.series, Level: s.level,
		Identity:  identityJSON{s.id.Name, s.id.Employer},
		Materials: []materialJSON{},
	}
	o := Options{PPI: 150, Seed: s.seed}
	for _, m := range s.materials {
		data, masks, err := m.render(s.id, o)
		if err != nil {
			return fmt.Errorf("%s: %w", m.file, err)
		}
		if !forReviewers[m.typ] {
			masks = []maskJSON{}
		}
		if err := os.WriteFile(filepath.Join(dir, m.file), data, 0o644); err != nil {
			return err
		}
		sub.Materials = append(sub.Materials, materialJSON{Type: m.typ, File: m.file, Masks: masks})
	}
	js, err := marshalSubmission(sub)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "submission.json"), js, 0o644)
}

// render draws a material's pages, encodes them into its file format and
// returns the masks that cover every name and employer on them.
func (m sampleMaterial) render(id Identity, o Options) ([]byte, []maskJSON, error) {
	masks := []maskJSON{}
	var jpegs [][]byte
	var out []byte
	for i, f := range m.pages {
		p, err := f(id, o)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range p.Name {
			masks = append(masks, maskJSON{i + 1, "name", r})
		}
		for _, r := range p.Employer {
			masks = append(masks, maskJSON{i + 1, "employer", r})
		}
		switch m.format {
		case fmtPNG:
			out, err = EncodePNG(p.Image)
		case fmtJPEG:
			out, err = EncodeJPEG(p.Image, sampleQuality)
		case fmtPDF:
			img := p.Image
			if i < len(m.rotate) {
				img = unrotate(img, m.rotate[i])
			}
			var j []byte
			j, err = EncodeJPEG(img, sampleQuality)
			jpegs = append(jpegs, j)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if m.format == fmtPDF {
		var err error
		out, err = ScanPDF(jpegs, ScanPDFOptions{DPI: float64(o.PPI), Rotate: m.rotate})
		if err != nil {
			return nil, nil, err
		}
	} else if len(m.pages) != 1 {
		return nil, nil, fmt.Errorf("an image file holds one page, not %d", len(m.pages))
	}
	return out, masks, nil
}

// unrotate returns the image a scanner stores for a page it shows upright
// with /Rotate deg: the page turned deg degrees anticlockwise.
func unrotate(src *image.Gray, deg int) *image.Gray {
	for ; deg > 0; deg -= 90 {
		src = turnLeft(src)
	}
	return src
}

// turnLeft rotates an image a quarter turn anticlockwise.
func turnLeft(src *image.Gray) *image.Gray {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewGray(image.Rect(0, 0, h, w))
	for y := range h {
		for x := range w {
			dst.Pix[(w-1-x)*dst.Stride+y] = src.Pix[(y)*src.Stride+x]
		}
	}
	return dst
}

var rectLines = regexp.MustCompile(`\[\s+([^\[\]]*?)\s+\]`)

// marshalSubmission indents with two spaces like people write it, but keeps
// each rect on one line so that the file stays readable.
func marshalSubmission(s submissionJSON) ([]byte, error) {
	js, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	js = rectLines.ReplaceAllFunc(js, func(m []byte) []byte {
		if bytes.ContainsAny(m, "{\"") {
			return m
		}
		inner := rectLines.FindSubmatch(m)[1]
		parts := bytes.Fields(inner)
		return append(append([]byte("["), bytes.Join(parts, []byte(" "))...), ']')
	})
	return append(js, '\n'), nil
}
