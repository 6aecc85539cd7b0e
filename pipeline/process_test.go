package pipeline_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/blindpack/blindpack/internal/pdfcheck"
	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/internal/rawpdf"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
	"github.com/blindpack/blindpack/storage/localdir"
	"github.com/blindpack/blindpack/workers"
)

var (
	fontOnce sync.Once
	font     *pdfkit.Font
	fontErr  error
)

// newPipelineFont loads the test font once.
func newPipelineFont(t testing.TB) *pdfkit.Font {
	t.Helper()
	fontOnce.Do(func() { font, fontErr = pdfkit.LoadFont(synth.FontPath, 0) })
	if fontErr != nil {
		t.Fatalf("font (apt-get install fonts-wqy-zenhei): %v", fontErr)
	}
	return font
}

func newPipeline(t testing.TB) *pipeline.Pipeline {
	t.Helper()
	p, err := pipeline.New(pipeline.Config{AnonSecret: []byte("test-secret-0123456789"), Font: newPipelineFont(t)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sample copies a committed sample submission into a fresh directory so
// that a test may break it, and returns the directory and the submission.
func sample(t testing.TB, name string) (string, *pipeline.Submission) {
	t.Helper()
	src := filepath.Join("..", "testdata", "samples", name)
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := os.ReadFile(filepath.Join(dir, "submission.json"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := pipeline.ParseSubmission(doc)
	if err != nil {
		t.Fatal(err)
	}
	return dir, sub
}

// dirSource reads materials from a directory, as `blindpack process` does.
func dirSource(t testing.TB, dir string) pipeline.Source {
	t.Helper()
	src, err := localdir.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return workers.Source(src)
}

func process(t testing.TB, p *pipeline.Pipeline, dir string, sub *pipeline.Submission) (*pipeline.Report, []byte) {
	t.Helper()
	var out buffer
	rep, err := p.Process(context.Background(), sub, dirSource(t, dir), &out)
	if err != nil {
		t.Fatal(err)
	}
	return rep, out.Bytes()
}

// processAccepted processes sample name and fails unless it is accepted.
func processAccepted(t *testing.T, p *pipeline.Pipeline, name string) (dir string, sub *pipeline.Submission, rep *pipeline.Report, pdf []byte) {
	t.Helper()
	dir, sub = sample(t, name)
	rep, pdf = process(t, p, dir, sub)
	if rep.Status != pipeline.Accepted {
		t.Fatalf("status %s, findings %+v", rep.Status, rep.Findings)
	}
	return dir, sub, rep, pdf
}

func TestSamplesMakeCleanPackets(t *testing.T) {
	p := newPipeline(t)
	for _, name := range synth.SampleDirs {
		t.Run(name, func(t *testing.T) {
			dir, sub, rep, pdf := processAccepted(t, p, name)
			// Reviewers' materials only, in the policy's order.
			var types []string
			for _, e := range rep.Packet.Index {
				types = append(types, e.Type)
				spec, _ := p.Policy().Material(e.Type)
				if spec.Audience != "reviewers" {
					t.Errorf("%s is for administrators but is in the packet", e.Type)
				}
			}
			ranks := make([]int, len(types))
			for i, typ := range types {
				ranks[i] = p.Policy().PacketRank(typ)
			}
			if !slices.IsSorted(ranks) {
				t.Errorf("packet order %v", types)
			}
			if int64(len(pdf)) != rep.Packet.Bytes {
				t.Errorf("report says %d bytes, packet has %d", rep.Packet.Bytes, len(pdf))
			}
			if sum := sha256.Sum256(pdf); rep.Packet.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("report says SHA-256 %s, the packet's is %x", rep.Packet.SHA256, sum)
			}
			pdfcheck.Packet(t, pdfcheck.File(t, pdf), sub, rep)

			// The report names nobody.
			js := rep.Marshal()
			if bytes.Contains(js, []byte(sub.Identity.Name)) || bytes.Contains(js, []byte(sub.Identity.Employer)) {
				t.Error("report holds identity text")
			}
			// Same input, same bytes: a re-run republishes an identical packet.
			rep2, pdf2 := process(t, p, dir, sub)
			if !bytes.Equal(pdf, pdf2) || rep2.Packet.SHA256 != rep.Packet.SHA256 || !bytes.Equal(rep.Marshal(), rep2.Marshal()) {
				t.Error("a second run gave different output")
			}
		})
	}
}

// TestSamplesPureGo runs the samples (grey JPEG pages, masked and not)
// through the pure-Go codec, what a CGO_ENABLED=0 worker runs: accepted,
// and the packet passes the same independent checks. (image/jpeg wrote a
// chrominance quantisation table into grey pages, which the verifier
// refuses: every grey page came back returned, and only make bench's a0
// row saw it.)
func TestSamplesPureGo(t *testing.T) {
	if !jpegcodec.Native() {
		t.Skip("this build has only the pure-Go codec; the other tests run it")
	}
	jpegcodec.SetPureGo(true)
	defer jpegcodec.SetPureGo(false)
	p := newPipeline(t)
	for _, name := range synth.SampleDirs {
		t.Run(name, func(t *testing.T) {
			_, sub, rep, pdf := processAccepted(t, p, name)
			pdfcheck.Packet(t, pdfcheck.File(t, pdf), sub, rep)
		})
	}
}

// TestUnmaskedJPEGPagesAreRewrittenLosslessly: an unmasked JPEG page is
// not copied but written again from its coefficients (scan.CanonicalJPEG),
// and shows the same pixels: exactly, with libjpeg-turbo, but for the
// blocks that straddle the image's edge.
func TestUnmaskedJPEGPagesAreRewrittenLosslessly(t *testing.T) {
	p := newPipeline(t)
	dir, sub := sample(t, "eng-intermediate")
	m := material(sub, "current_title_certificate")
	m.Masks = nil
	orig, err := os.ReadFile(filepath.Join(dir, m.File))
	if err != nil {
		t.Fatal(err)
	}
	rep, pdf := process(t, p, dir, sub)
	if rep.Status != pipeline.Accepted {
		t.Fatalf("findings %+v", rep.Findings)
	}
	want, err := jpegcodec.DecodeGrayScaled(orig, 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, h := want.Rect.Dx(), want.Rect.Dy()
	tol := 0
	if !jpegcodec.Native() {
		tol = 40 // decoded and encoded again
	}
	// The page is the one stored JPEG of its size that shows the same
	// pixels away from the edge.
	same := func(got *image.Gray) bool {
		for y := range h &^ 15 {
			for x := range w &^ 15 {
				if d := int(got.Pix[y*got.Stride+x]) - int(want.Pix[y*want.Stride+x]); d < -tol || d > tol {
					return false
				}
			}
		}
		return true
	}
	found := false
	for _, im := range pdfcheck.StoredImages(t, pdfcheck.File(t, pdf)) {
		got, err := jpegcodec.DecodeGrayScaled(im.Data, 8, nil)
		if !im.JPEG || err != nil || got.Rect != want.Rect || !same(got) {
			continue
		}
		found = true
		if bytes.Equal(im.Data, orig) {
			t.Error("the upload's bytes went in as they were")
		}
	}
	if !found {
		t.Fatalf("no %dx%d JPEG in the packet shows the page's pixels", w, h)
	}
}

// breakSample is one way an applicant's upload goes wrong.
type breakSample struct {
	name   string
	change func(t *testing.T, dir string, sub *pipeline.Submission)
	want   finding.Code
}

func material(sub *pipeline.Submission, typ string) *pipeline.Material {
	for i := range sub.Materials {
		if sub.Materials[i].Type == typ {
			return &sub.Materials[i]
		}
	}
	panic("no material " + typ)
}

func rewrite(t *testing.T, dir string, m *pipeline.Material, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, m.File), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, dir string, m *pipeline.Material) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, m.File))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestBadInputIsReportedNotCrashed(t *testing.T) {
	p := newPipeline(t)
	cases := []breakSample{
		{"empty file", func(t *testing.T, dir string, sub *pipeline.Submission) {
			rewrite(t, dir, material(sub, "performance_summary"), nil)
		}, finding.EmptyFile},
		{"truncated JPEG", func(t *testing.T, dir string, sub *pipeline.Submission) {
			m := material(sub, "performance_summary")
			data := read(t, dir, m)
			rewrite(t, dir, m, data[:len(data)/2])
		}, finding.CorruptFile},
		{"PNG claiming 60000×60000 pixels", func(t *testing.T, dir string, sub *pipeline.Submission) {
			rewrite(t, dir, material(sub, "degree_certificate"), hugePNG())
		}, finding.ImageTooLarge},
		{"encrypted PDF", func(t *testing.T, dir string, sub *pipeline.Submission) {
			m := material(sub, "application_form")
			var out bytes.Buffer
			if err := api.Encrypt(bytes.NewReader(read(t, dir, m)), &out, model.NewAESConfiguration("", "owner", 256)); err != nil {
				t.Fatal(err)
			}
			rewrite(t, dir, m, out.Bytes())
		}, finding.EncryptedPDF},
		{"PDF bomb", func(t *testing.T, dir string, sub *pipeline.Submission) {
			rewrite(t, dir, material(sub, "application_form"), rawpdf.Bomb(300<<20))
		}, finding.DecompressionLimit},
		{"not what it claims", func(t *testing.T, dir string, sub *pipeline.Submission) {
			rewrite(t, dir, material(sub, "application_form"), []byte("<!doctype html><p>form.pdf"))
		}, finding.UnsupportedFormat},
		{"PDF of typed text in white, which renders blank", func(t *testing.T, dir string, sub *pipeline.Submission) {
			var b rawpdf.Builder
			font := b.Add("<</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>")
			rewrite(t, dir, material(sub, "application_form"), b.Bytes([]rawpdf.Page{{MediaBox: "0 0 595 842",
				Content: "1 g BT /F1 24 Tf 72 700 Td (Application) Tj ET", Resources: "<</Font <</F1 " + itoa(font) + " 0 R>>>>"}}, ""))
		}, finding.BlankPage},
		{"missing object", func(t *testing.T, dir string, sub *pipeline.Submission) {
			material(sub, "degree_certificate").File = "nowhere.png"
		}, finding.FileMissing},
		{"path escaping the input", func(t *testing.T, dir string, sub *pipeline.Submission) {
			material(sub, "degree_certificate").File = "../../etc/passwd"
		}, finding.InvalidField},
		{"mask outside the page", func(t *testing.T, dir string, sub *pipeline.Submission) {
			m := material(sub, "application_form")
			m.Masks[0].Rect = [4]float64{0.5, 0.5, 1.2, 0.6}
		}, finding.MaskInvalid},
		{"mask on a page that does not exist", func(t *testing.T, dir string, sub *pipeline.Submission) {
			m := material(sub, "application_form")
			m.Masks[0].Page = 9
		}, finding.MaskOutOfRange},
		{"unknown material type", func(t *testing.T, dir string, sub *pipeline.Submission) {
			sub.Materials = append(sub.Materials, pipeline.Material{Type: "selfie", File: "summary.jpg"})
		}, finding.UnknownMaterialType},
		{"required material missing", func(t *testing.T, dir string, sub *pipeline.Submission) {
			sub.Materials = slices.DeleteFunc(sub.Materials, func(m pipeline.Material) bool { return m.Type == "degree_certificate" })
		}, finding.MissingMaterial},
		{"application form without an employer mask", func(t *testing.T, dir string, sub *pipeline.Submission) {
			m := material(sub, "application_form")
			m.Masks = slices.DeleteFunc(m.Masks, func(mk pipeline.Mask) bool { return mk.Kind == "employer" })
		}, finding.MaskMissing},
		{"duplicated material", func(t *testing.T, dir string, sub *pipeline.Submission) {
			sub.Materials = append(sub.Materials, *material(sub, "degree_certificate"))
		}, finding.DuplicateMaterial},
		{"level not open for the series", func(t *testing.T, dir string, sub *pipeline.Submission) {
			sub.Level = "junior"
			sub.Series = "audit"
		}, finding.InvalidField},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, sub := sample(t, "eng-intermediate")
			tc.change(t, dir, sub)
			rep, _ := process(t, p, dir, sub)
			if rep.Status != pipeline.Rejected || rep.Packet != nil {
				t.Fatalf("status %s, packet %v", rep.Status, rep.Packet)
			}
			var codes []finding.Code
			for _, f := range rep.Findings {
				codes = append(codes, f.Code)
				if f.MessageZH == "" || f.MessageEN == "" || !finding.Known(f.Code) {
					t.Errorf("finding %+v lacks a message", f)
				}
			}
			if !slices.Contains(codes, tc.want) {
				t.Fatalf("codes %v, want %s", codes, tc.want)
			}
			js := rep.Marshal()
			if bytes.Contains(js, []byte(sub.Identity.Name)) || bytes.Contains(js, []byte(sub.Identity.Employer)) {
				t.Error("report holds identity text")
			}
		})
	}
}

func TestMalformedSubmissions(t *testing.T) {
	for name, doc := range map[string]string{
		"not JSON":       "{\"schema\": ",
		"array":          "[]",
		"unknown field":  `{"schema":"blindpack/submission@1","colour":"red"}`,
		"wrong schema":   `{"schema":"blindpack/submission@9"}`,
		"trailing data":  `{"schema":"blindpack/submission@1"} {}`,
		"string as page": `{"schema":"blindpack/submission@1","materials":[{"masks":[{"page":"one"}]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := pipeline.ParseSubmission([]byte(doc))
			var fe *finding.Error
			if !asFinding(err, &fe) || (fe.Code != finding.MalformedSubmission && fe.Code != finding.UnsupportedSchema) {
				t.Fatalf("err = %v", err)
			}
			if strings.Contains(fe.Error(), "张") {
				t.Error("error quotes the document")
			}
		})
	}
}

func TestAnonCode(t *testing.T) {
	a := pipeline.AnonCode([]byte("k1-0123456789abcdef"), "2024", "A2024-000123")
	if a != pipeline.AnonCode([]byte("k1-0123456789abcdef"), "2024", "A2024-000123") {
		t.Fatal("not stable")
	}
	if len(a) != len("2024-XXXX-XXXX") || !strings.HasPrefix(a, "2024-") || strings.ContainsAny(a, "ILOU") {
		t.Errorf("code %q is not in the readable form", a)
	}
	for _, other := range []string{
		pipeline.AnonCode([]byte("k2-0123456789abcdef"), "2024", "A2024-000123"),
		pipeline.AnonCode([]byte("k1-0123456789abcdef"), "2024", "A2024-000124"),
		pipeline.AnonCode([]byte("k1-0123456789abcdef"), "2025", "A2024-000123"),
	} {
		if other[5:] == a[5:] {
			t.Errorf("%s collides with %s", other, a)
		}
	}
}

func TestIdentityNeverFormats(t *testing.T) {
	id := pipeline.Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"}
	sub := pipeline.Submission{Identity: id}
	for _, s := range []string{fmtV(id), fmtV(sub), fmtPlusV(sub)} {
		if strings.Contains(s, "张三丰") || strings.Contains(s, "天山") {
			t.Errorf("formatted identity: %s", s)
		}
	}
	// JSON keeps it: the submission document must round-trip.
	js, _ := json.Marshal(id)
	if !strings.Contains(string(js), "张三丰") {
		t.Error("identity lost in JSON")
	}
}

// TestMaskCheckCanFail guards the guard: the render check used on every
// packet must see a page whose masks were not applied.
func TestMaskCheckCanFail(t *testing.T) {
	p := newPipeline(t)
	dir, sub := sample(t, "eng-intermediate")
	m := material(sub, "performance_summary")
	rects := m.Masks
	m.Masks = nil
	rep, pdf := process(t, p, dir, sub)
	if rep.Status != pipeline.Accepted {
		t.Fatalf("findings %+v", rep.Findings)
	}
	path := pdfcheck.File(t, pdf)
	for _, e := range rep.Packet.Index {
		if e.Type != "performance_summary" {
			continue
		}
		page := pdfcheck.Render(t, path, e.Pages[0][1], 50)
		for _, mk := range rects {
			if mean, _ := pdfcheck.Dark(page, mk.Rect, 0.2); mean < 120 {
				t.Errorf("unmasked text at %v renders dark (mean %.0f): the check would pass a leak", mk.Rect, mean)
			}
		}
		if !strings.Contains(pdfcheck.Text(t, path, 0, 0), rep.AnonCode) {
			t.Error("no anon code in text")
		}
		return
	}
	t.Fatal("no summary in packet")
}

// TestLogsNeverCarryTheIdentity: a parser error that quotes the uploaded
// file must not bring the name into a log line.
func TestLogsNeverCarryTheIdentity(t *testing.T) {
	var logs bytes.Buffer
	fontOnce.Do(func() { font, fontErr = pdfkit.LoadFont(synth.FontPath, 0) })
	p, err := pipeline.New(pipeline.Config{AnonSecret: []byte("test-secret-0123456789"), Font: font,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	dir, sub := sample(t, "eng-intermediate")
	// A broken PDF whose damaged part holds the name and employer: pdfcpu's
	// error quotes the value it could not read.
	rewrite(t, dir, material(sub, "application_form"), []byte("%PDF-1.7\n1 0 obj\n<</Type /Catalog /Pages 2 0 R>>\nendobj\n"+
		"2 0 obj\n<</Type /Pages /Kids [3 0 R] /Count 1>>\nendobj\n3 0 obj\n<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Rotate /"+
		sub.Identity.Name+sub.Identity.Employer+">>\nendobj\ntrailer\n<</Root 1 0 R>>\n%%EOF"))
	rep, _ := process(t, p, dir, sub)
	if rep.Status != pipeline.Rejected {
		t.Fatalf("status %s", rep.Status)
	}
	for _, s := range []string{sub.Identity.Name, sub.Identity.Employer} {
		if strings.Contains(logs.String(), s) {
			t.Fatalf("a log line carries the identity:\n%s", logs.String())
		}
	}
	if !strings.Contains(logs.String(), "malformed_pdf") {
		t.Errorf("no finding logged:\n%s", logs.String())
	}
}
