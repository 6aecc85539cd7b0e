package synth

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

// committedSamples is where `go run ./testdata/gen` writes the samples.
const committedSamples = "../../testdata/samples"

func TestSamples(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := WriteSamples(a); err != nil {
		t.Fatal(err)
	}
	if err := WriteSamples(b); err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		t.Run(s.dir, func(t *testing.T) {
			dir := filepath.Join(a, s.dir)
			files := listFiles(t, dir)
			if want := len(s.materials) + 1; len(files) != want {
				t.Errorf("%d files %v, want %d", len(files), files, want)
			}
			for _, f := range files {
				x := readFile(t, filepath.Join(dir, f))
				if y := readFile(t, filepath.Join(b, s.dir, f)); !bytes.Equal(x, y) {
					t.Errorf("%s differs between two runs", f)
				}
				// The committed copy must be what the generator makes now.
				if y, err := os.ReadFile(filepath.Join(committedSamples, s.dir, f)); err != nil || !bytes.Equal(x, y) {
					t.Errorf("testdata/samples/%s/%s is stale or missing (%v): run go run ./testdata/gen -out testdata/samples", s.dir, f, err)
				}
			}
			checkSubmission(t, dir, s)
		})
	}
}

func checkSubmission(t *testing.T, dir string, s sample) {
	raw := readFile(t, filepath.Join(dir, "submission.json"))
	var sub submissionJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sub); err != nil {
		t.Fatalf("submission.json: %v", err)
	}
	if !bytes.HasSuffix(raw, []byte("}\n")) || !bytes.HasPrefix(raw, []byte("{\n  \"schema\": \"blindpack/submission@1\",\n")) {
		t.Error("submission.json is not 2-space indented with schema first and a trailing newline")
	}
	if sub.ApplicantID != s.applicant || sub.SubmissionID != s.applicant+"-r1" || sub.Campaign != "2024" ||
		sub.Series != s.series || sub.Level != s.level || sub.Identity != (identityJSON{s.id.Name, s.id.Employer}) {
		t.Errorf("header %+v does not match the sample", sub)
	}
	kinds := map[string]bool{}
	for i, m := range sub.Materials {
		data := readFile(t, filepath.Join(dir, m.File))
		pages := 1
		switch {
		case bytes.HasPrefix(data, []byte("%PDF-")):
			pages = len(regexp.MustCompile(`/Type /Page\b`).FindAll(data, -1))
			if bytes.Contains(data, []byte(s.id.Name)) || bytes.Contains(data, []byte(s.id.Employer)) {
				t.Errorf("%s carries the identity as text", m.File)
			}
		case bytes.HasPrefix(data, []byte("\xff\xd8\xff")), bytes.HasPrefix(data, []byte("\x89PNG")):
		default:
			t.Errorf("%s is neither PDF, JPEG nor PNG", m.File)
		}
		if forReviewers[m.Type] && len(m.Masks) == 0 {
			t.Errorf("material %d (%s) goes to reviewers but has no masks", i, m.Type)
		}
		if !forReviewers[m.Type] && len(m.Masks) != 0 {
			t.Errorf("material %d (%s) is for administrators but has masks", i, m.Type)
		}
		for _, k := range m.Masks {
			r := k.Rect
			if !(0 <= r[0] && r[0] < r[2] && r[2] <= 1 && 0 <= r[1] && r[1] < r[3] && r[3] <= 1) {
				t.Errorf("%s page %d: rect %v is not an ordered box inside the page", m.File, k.Page, r)
			}
			if k.Page < 1 || k.Page > pages {
				t.Errorf("%s: mask on page %d of %d", m.File, k.Page, pages)
			}
			if k.Kind != "name" && k.Kind != "employer" {
				t.Errorf("%s: mask kind %q", m.File, k.Kind)
			}
			if m.Type == "application_form" {
				kinds[k.Kind] = true
			}
		}
	}
	if !kinds["name"] || !kinds["employer"] {
		t.Error("application_form lacks a name or an employer mask")
	}
}

// TestSamplesPDFs checks the sample PDFs with the tools a reviewer's
// software is built on.
func TestSamplesPDFs(t *testing.T) {
	dir := t.TempDir()
	if err := WriteSamples(dir); err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		for _, m := range s.materials {
			if m.format != fmtPDF {
				continue
			}
			t.Run(s.dir+"/"+m.file, func(t *testing.T) {
				f := filepath.Join(dir, s.dir, m.file)
				run(t, "qpdf", "--check", f)
				rows := bytes.Count([]byte(run(t, "pdfimages", "-list", f)), []byte(" jpeg "))
				if rows != len(m.pages) {
					t.Errorf("%d images for %d pages", rows, len(m.pages))
				}
				info := run(t, "pdfinfo", f)
				if !regexp.MustCompile(`(?m)^Pages: +` + strconv.Itoa(len(m.pages)) + `$`).MatchString(info) {
					t.Errorf("pdfinfo:\n%s", info)
				}
			})
		}
	}
}

func TestMarshalSubmissionKeepsRectsOnOneLine(t *testing.T) {
	js, err := marshalSubmission(submissionJSON{Materials: []materialJSON{{Type: "x", File: "f", Masks: []maskJSON{{1, "name", Rect{0.1, 0.2, 0.3, 0.4}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`"rect": [0.1, 0.2, 0.3, 0.4]`)) {
		t.Errorf("rect not on one line:\n%s", js)
	}
	var back submissionJSON
	if err := json.Unmarshal(js, &back); err != nil || back.Materials[0].Masks[0].Rect != (Rect{0.1, 0.2, 0.3, 0.4}) {
		t.Errorf("round trip: %v %+v", err, back)
	}
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
