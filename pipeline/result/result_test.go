package result

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blindpack/blindpack/internal/testenv"
)

// updateDocs regenerates the README's picture of a result file (90 dpi:
// at 60 the seal's lettering blurs into a smudge):
//
//	go test ./pipeline/result -run TestDocsPicture -update-docs
var updateDocs = flag.Bool("update-docs", false, "rewrite docs/result-page1.png from testdata/batch-onepage.json")

var (
	setupOnce sync.Once
	fontsV    *Fonts
	keyDir    string
	setupErr  error
)

// fixture loads the fonts and makes one development key directory for the
// whole test binary: key generation is the slow part.
func fixture(t testing.TB) (*Fonts, string) {
	t.Helper()
	setupOnce.Do(func() {
		fontsV, setupErr = LoadFonts(FontConfig{})
		if setupErr != nil {
			return
		}
		keyDir, setupErr = os.MkdirTemp("", "blindpack-result-keys-*")
		if setupErr == nil {
			setupErr = GenerateDevKeys(filepath.Join(keyDir, "keys"), DevKeyOptions{})
			keyDir = filepath.Join(keyDir, "keys")
		}
	})
	if setupErr != nil {
		t.Fatalf("fixture (apt-get install fonts-arphic-uming fonts-wqy-zenhei): %v", setupErr)
	}
	return fontsV, keyDir
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if keyDir != "" {
		os.RemoveAll(filepath.Dir(keyDir))
	}
	os.Exit(code)
}

func loadBatch(t testing.TB, path string) *Batch {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseBatch(data)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// issue signs b with the fixture's keys and returns the file.
func issue(t testing.TB, b *Batch) []byte {
	t.Helper()
	f, dir := fixture(t)
	s, err := LoadKeyDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	is, err := NewIssuer(Config{Fonts: f, Signer: s, Now: func() time.Time { return time.Date(2024, 11, 20, 10, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	info, err := is.Issue(context.Background(), b, &out)
	if err != nil {
		t.Fatal(err)
	}
	if info.Bytes != int64(out.Len()) || info.Pages < 1 {
		t.Errorf("Issued = %+v for a %d-byte file", info, out.Len())
	}
	return out.Bytes()
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// run runs an external checker and returns its standard output; a
// non-zero exit is returned as an error with stderr.
func run(t testing.TB, name string, args ...string) (string, error) {
	t.Helper()
	testenv.Tool(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %v: %w: %s", name, args, err, stderr.String())
	}
	return stdout.String(), nil
}

// nssDB makes a temporary NSS database that trusts caFile for signatures
// (S/MIME trust, the usage pdfsig checks: "C,," would trust it for TLS
// only).
func nssDB(t testing.TB, caFile string) string {
	t.Helper()
	dir := "sql:" + t.TempDir()
	if _, err := run(t, "certutil", "-N", "--empty-password", "-d", dir); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "certutil", "-A", "-n", "root", "-t", "C,C,", "-i", caFile, "-d", dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func verifyWith(t testing.TB, data []byte, caFile string) (*Verification, error) {
	t.Helper()
	ca, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := CertPool(ca)
	if err != nil {
		t.Fatal(err)
	}
	return Verify(data, VerifyOptions{Roots: pool, RootsName: caFile})
}

func TestIssueSignatureChecks(t *testing.T) {
	_, dir := fixture(t)
	caFile := filepath.Join(dir, CAFile)
	signed := issue(t, loadBatch(t, "testdata/batch.json"))
	if !bytes.HasPrefix(signed, []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}

	// Another root, for the wrong-root case.
	otherDir := filepath.Join(t.TempDir(), "other")
	if err := GenerateDevKeys(otherDir, DevKeyOptions{}); err != nil {
		t.Fatal(err)
	}
	otherCA := filepath.Join(otherDir, CAFile)

	flipped := append([]byte(nil), signed...)
	flipped[12] ^= 0x01 // inside the header's binary comment: the file still parses, the signed bytes differ

	tests := []struct {
		name   string
		file   []byte
		ca     string
		valid  bool   // pdfsig says "Signature is Valid."
		trust  bool   // pdfsig with the root trusted says "Certificate is Trusted."
		ours   bool   // our Verify says OK
		reason string // substring of our problems when not OK
	}{
		{"Signed", signed, caFile, true, true, true, ""},
		{"OneByteFlipped", flipped, caFile, false, false, false, "does not match"},
		{"WrongRoot", signed, otherCA, true, false, false, "trusted root"},
		{"BytesAppended", append(append([]byte(nil), signed...), "% appended\n"...), caFile, true, true, false, "added after signing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTemp(t, "result.pdf", tt.file)
			out, _ := run(t, "pdfsig", path)
			if got := strings.Contains(out, "Signature is Valid."); got != tt.valid {
				t.Errorf("pdfsig valid = %t, want %t:\n%s", got, tt.valid, out)
			}
			if tt.valid && !strings.Contains(out, "SHA-256") {
				t.Errorf("pdfsig does not report SHA-256:\n%s", out)
			}
			out, _ = run(t, "pdfsig", "-nssdir", nssDB(t, tt.ca), path)
			if got := strings.Contains(out, "Certificate is Trusted."); got != tt.trust {
				t.Errorf("pdfsig trusted = %t, want %t:\n%s", got, tt.trust, out)
			}

			v, err := verifyWith(t, tt.file, tt.ca)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			var report strings.Builder
			v.Write(&report)
			if v.OK() != tt.ours {
				t.Errorf("Verify OK = %t, want %t:\n%s", v.OK(), tt.ours, report.String())
			}
			if tt.reason != "" && !strings.Contains(report.String(), tt.reason) {
				t.Errorf("report does not say %q:\n%s", tt.reason, report.String())
			}
			if tt.ours {
				s := v.Signatures[0]
				if !s.WholeFile || s.Signer.Subject.CommonName != "blindpack development signer" || s.SigningTime.IsZero() || len(s.Chain) != 2 {
					t.Errorf("signature details wrong:\n%s", report.String())
				}
				// What the file says of itself, covered by the signature.
				b := loadBatch(t, "testdata/batch.json")
				want := Document{Title: b.Title, Authority: b.Authority, DocNumber: b.DocNumber, Date: b.Date, Campaign: b.Campaign, Persons: len(b.Approved)}
				if v.Document != want {
					t.Errorf("document %+v, want %+v", v.Document, want)
				}
				// And poppler's pdfinfo reads the same title and number.
				info, _ := run(t, "pdfinfo", path)
				if !strings.Contains(info, b.Title) || !strings.Contains(info, b.DocNumber) {
					t.Errorf("pdfinfo:\n%s", info)
				}
			}
		})
	}
}

func TestVerifyUnsigned(t *testing.T) {
	f, _ := fixture(t)
	b := loadBatch(t, "testdata/batch.json")
	seal, err := NewSeal(SealSpec{Name: b.Authority}, f.Song)
	if err != nil {
		t.Fatal(err)
	}
	var unsigned bytes.Buffer
	if _, err := render(&unsigned, b, f, seal); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(unsigned.Bytes(), VerifyOptions{}); !errors.Is(err, ErrUnsigned) {
		t.Errorf("Verify(unsigned) err = %v, want ErrUnsigned", err)
	}
	if _, err := Verify([]byte("not a pdf"), VerifyOptions{}); err == nil {
		t.Error("Verify(garbage) succeeded")
	}
}

func TestIssueText(t *testing.T) {
	b := loadBatch(t, "testdata/batch.json")
	path := writeTemp(t, "result.pdf", issue(t, b))
	text, err := run(t, "pdftotext", path, "-")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{b.Authority + "文件", b.DocNumber, "2024年11月20日", "各有关单位："} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	for _, p := range b.Approved {
		// A name is never wrapped; an employer cell may wrap, and
		// extraction then puts a line break in it.
		if !strings.Contains(text, p.Name) || !strings.Contains(strings.ReplaceAll(text, "\n", ""), p.Employer) {
			t.Errorf("text lacks %s / %s", p.Name, p.Employer)
		}
	}
	// The seal is drawn as shapes: its lettering must not add text.
	if n := strings.Count(text, "人力资源和社会保障局"); n != 3 {
		t.Errorf("authority name appears %d times in the text, want 3 (mark, issuer and the 版记's office)", n)
	}
	// The 版记 at the foot of the last page, in order.
	colophon := []string{"抄送：自治区人力资源和社会保障厅，乌鲁木齐市人力资源和社会", "保障局，经济技术开发区（头屯河区）党工委组织部。",
		"经济技术开发区（头屯河区）人力资源和社会保障局办公室", "2024年11月21日印发"}
	at := 0
	for _, want := range colophon {
		i := strings.Index(text[at:], want)
		if i < 0 {
			t.Fatalf("the 版记 lacks %q (in order):\n%s", want, text)
		}
		at += i + len(want)
	}
	for _, line := range strings.Split(text, "\n") {
		if r := []rune(strings.TrimSpace(line)); len(r) > 0 && strings.ContainsRune("、，。；：？！）》」』", r[0]) {
			t.Errorf("line starts with forbidden punctuation: %q", line)
		}
	}
}

// TestLargeBatch issues 300 persons and checks every page of the table
// repeats the header and every name is there.
func TestLargeBatch(t *testing.T) {
	b := batchOf(t, 300, false)
	path := writeTemp(t, "result.pdf", issue(t, b))
	info, err := run(t, "pdfinfo", path)
	if err != nil {
		t.Fatal(err)
	}
	var pages int
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(line, "Pages:"); ok {
			fmt.Sscan(strings.TrimSpace(v), &pages)
		}
	}
	if pages < 10 {
		t.Fatalf("%d pages for 300 persons, want a table over many pages", pages)
	}
	all := ""
	for p := 1; p <= pages; p++ {
		text, err := run(t, "pdftotext", "-f", fmt.Sprint(p), "-l", fmt.Sprint(p), path, "-")
		if err != nil {
			t.Fatal(err)
		}
		all += text
		hasTable := strings.Contains(text, "工程师")
		if hasTable && !strings.Contains(text, "序号") {
			t.Errorf("page %d has rows but no header row", p)
		}
		if !strings.Contains(text, fmt.Sprintf("— %d —", p)) {
			t.Errorf("page %d lacks its page number", p)
		}
		if p == pages && !strings.Contains(text, "2024年11月21日印发") {
			t.Errorf("last page lacks the 版记:\n%s", text)
		}
		// The signature (a line that is the date alone) is never on a
		// page without a row of the table.
		for _, line := range strings.Split(text, "\n") {
			if strings.TrimSpace(line) == "2024年11月20日" && !hasTable {
				t.Errorf("page %d has the signature but no table row", p)
			}
		}
	}
	for i, p := range b.Approved {
		if !strings.Contains(all, p.Name) {
			t.Errorf("person %d (%s) missing from the text", i+1, p.Name)
		}
	}
	if v, err := verifyWith(t, mustRead(t, path), filepath.Join(keyDir, CAFile)); err != nil || !v.OK() {
		t.Errorf("large file does not verify: %v", err)
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMissingGlyph(t *testing.T) {
	f, dir := fixture(t)
	b := loadBatch(t, "testdata/batch.json")
	b.Approved[0].Name = "张\U00030000" // a CJK Extension G character no packaged font has
	s, err := LoadKeyDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	is, err := NewIssuer(Config{Fonts: f, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, err = is.Issue(context.Background(), b, &out)
	var be *BatchError
	if !errors.As(err, &be) || be.Problems[0].Field != "approved[0].name" {
		t.Fatalf("err = %v, want a problem with approved[0].name", err)
	}
	if out.Len() != 0 {
		t.Error("bytes written for a refused batch")
	}
}

// TestDocsPicture renders the README's pictures with -update-docs: the
// first page of a one-page notice and the last page of the sample batch,
// with its 版记. Without the flag it checks that the one-page notice has
// its table and sealed signature on page 1 (its 版记 goes to the back page
// when, as here, the page has no room left for it).
func TestDocsPicture(t *testing.T) {
	f, _ := fixture(t)
	b := loadBatch(t, "testdata/batch-onepage.json")
	seal, err := NewSeal(SealSpec{Name: b.Authority}, f.Song)
	if err != nil {
		t.Fatal(err)
	}
	var unsigned bytes.Buffer
	lay, err := render(&unsigned, b, f, seal)
	if err != nil {
		t.Fatal(err)
	}
	if lay.SealPage != 1 {
		t.Fatalf("one-page notice sealed on page %d", lay.SealPage)
	}
	if !*updateDocs {
		return
	}
	for _, pic := range []struct{ batch, name string }{
		{"testdata/batch-onepage.json", "result-page1"}, {"testdata/batch.json", "result-last"},
	} {
		path := writeTemp(t, "result.pdf", issue(t, loadBatch(t, pic.batch)))
		page := "1"
		if pic.name == "result-last" {
			info, err := run(t, "pdfinfo", path)
			if err != nil {
				t.Fatal(err)
			}
			m := regexp.MustCompile(`Pages:\s+(\d+)`).FindStringSubmatch(info)
			page = m[1]
		}
		out := filepath.Join("..", "..", "docs", pic.name)
		if _, err := run(t, "pdftoppm", "-r", "90", "-png", "-f", page, "-l", page, "-singlefile", path, out); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s.png", out)
	}
}

// TestDERPrefix: the signature is cut where its DER length says, so that
// a signature whose last bytes are zeros (one in 256 or so: it happened,
// and called a genuine file damaged) is read whole.
func TestDERPrefix(t *testing.T) {
	long := append([]byte{0x30, 0x82, 0x01, 0x00}, make([]byte, 256)...)
	for _, tc := range []struct {
		in   []byte
		want int
		ok   bool
	}{
		{[]byte{0x30, 0x03, 0x02, 0x01, 0x00, 0, 0, 0}, 5, true}, // ends in a zero byte, then padding
		{append(append([]byte(nil), long...), 0, 0), 260, true},
		{[]byte{0x30, 0x05, 0x02, 0x01}, 0, false},
		{[]byte{0x31, 0x00}, 0, false},
		{[]byte{0x30, 0x85, 1, 2, 3, 4, 5}, 0, false},
	} {
		got, ok := derPrefix(tc.in)
		if ok != tc.ok || len(got) != tc.want {
			t.Errorf("derPrefix(% x) = %d bytes, %v; want %d, %v", tc.in, len(got), ok, tc.want, tc.ok)
		}
	}
}
