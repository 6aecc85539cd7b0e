package result

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blindpack/blindpack/internal/devtsa"
	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/internal/testenv"
)

// ltvEnv is a fresh development key directory (so that revoking its
// signer touches no other test) and a running development TSA whose
// clock a test sets.
type ltvEnv struct {
	dir   string
	tsa   *devtsa.TSA
	clock time.Time
}

func newLTVEnv(t *testing.T) *ltvEnv {
	t.Helper()
	fixture(t) // fonts
	e := &ltvEnv{dir: filepath.Join(t.TempDir(), "keys"), clock: time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)}
	if err := GenerateDevKeys(e.dir, DevKeyOptions{Now: e.clock.Add(-24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tsa, err := devtsa.Start(devtsa.Options{Now: func() time.Time { return e.clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tsa.Close() })
	e.tsa = tsa
	return e
}

func (e *ltvEnv) issuer(t *testing.T, withTSA bool) *Issuer {
	t.Helper()
	f, _ := fixture(t)
	s, err := LoadKeyDir(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := os.ReadFile(filepath.Join(e.dir, CRLFile))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Fonts: f, Signer: s, CRLs: [][]byte{crl}, Now: func() time.Time { return e.clock }}
	if withTSA {
		cfg.TSA = TSAConfig{URL: e.tsa.URL, Roots: []*x509.Certificate{e.tsa.Root}, Timeout: 5 * time.Second}
	}
	is, err := NewIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func (e *ltvEnv) issue(t *testing.T, withTSA bool) ([]byte, Issued) {
	t.Helper()
	var out bytes.Buffer
	info, err := e.issuer(t, withTSA).Issue(context.Background(), loadBatch(t, "testdata/batch.json"), &out)
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), info
}

// roots trusts the signer's root and the TSA's root.
func (e *ltvEnv) roots(t *testing.T) *x509.CertPool {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(e.dir, CAFile))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := CertPool(append(ca, e.tsa.RootPEM()...))
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

func (e *ltvEnv) verify(t *testing.T, file []byte, crls ...[]byte) (*Verification, string) {
	t.Helper()
	v, err := Verify(file, VerifyOptions{Roots: e.roots(t), RootsName: "test roots", CRLs: crls})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	v.Write(&b)
	return v, b.String()
}

// TestTimestampLTV issues a B-LT file and checks it with independent
// tools: pdfsig finds the signature valid, qpdf the file sound, and
// OpenSSL verifies the RFC 3161 token that pdfsig dumps against the TSA's
// root and the signature value; then our verifier, with the TSA and its
// CRL server gone, finds it valid at PAdES B-LT with the TSA's time.
func TestTimestampLTV(t *testing.T) {
	e := newLTVEnv(t)
	file, info := e.issue(t, true)
	if info.Level != "B-LT" || !info.Timestamp.Equal(e.clock) || info.TSA != "blindpack development TSA" {
		t.Errorf("Issued = %+v, want B-LT stamped %v by the development TSA", info, e.clock)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "result.pdf")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}

	out, err := run(t, "pdfsig", path)
	if err != nil || !strings.Contains(out, "Signature is Valid.") {
		t.Errorf("pdfsig: %v\n%s", err, out)
	}
	// The store comes after the signed bytes: pdfsig says so, and that the
	// signature holds.
	if !strings.Contains(out, "Not total document signed") {
		t.Errorf("pdfsig does not see the update after the signature:\n%s", out)
	}
	if out, err := run(t, "qpdf", "--check", path); err != nil {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
	checkTokenWithOpenSSL(t, e, path)

	e.tsa.Close() // nothing may be fetched from here on
	v, report := e.verify(t, file)
	if !v.OK() {
		t.Fatalf("B-LT file does not verify:\n%s", report)
	}
	s := v.Signatures[0]
	if s.Level() != "B-LT" || !s.DSS || s.WholeFile || !s.Proven() || !s.Timestamp.Time.Equal(e.clock) {
		t.Errorf("want B-LT with a DSS update and the TSA's time %v:\n%s", e.clock, report)
	}
	for _, want := range []string{"timestamp:     " + e.clock.Format(time.RFC3339), "level:         PAdES B-LT",
		"revocation:    not revoked (CRL of blindpack development root CA", "in the file's document security store",
		"TSA revocation: not revoked"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}

// checkTokenWithOpenSSL dumps the signature with pdfsig, finds the
// timestamp token and the signature value in it with `openssl asn1parse`,
// and has `openssl ts -verify` check that the token stamps that value and
// chains to the TSA's root.
func checkTokenWithOpenSSL(t *testing.T, e *ltvEnv, path string) {
	t.Helper()
	testenv.Tool(t, "openssl")
	dir := filepath.Dir(path)
	cmd := exec.Command("pdfsig", "-dump", path)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pdfsig -dump: %v\n%s", err, out)
	}
	sig := path + ".sig0"
	der := mustRead(t, sig)
	parsed, err := run(t, "openssl", "asn1parse", "-inform", "DER", "-in", sig)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(parsed, "\n")
	re := regexp.MustCompile(`^\s*(\d+):d=(\d+)\s+hl=(\d+)\s+l=\s*(\d+)\s+\w+:\s*(.*)$`)
	type item struct {
		off, depth, hl, l int
		what              string
	}
	var items []item
	for _, line := range lines {
		m := re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
		items = append(items, item{n(1), n(2), n(3), n(4), m[5]})
	}
	var token, value []byte
	for i, it := range items {
		if strings.Contains(it.what, "id-smime-aa-timeStampToken") && i+2 < len(items) {
			tok := items[i+2] // OBJECT, SET, then the token's SEQUENCE
			token = der[tok.off : tok.off+tok.hl+tok.l]
			// The signature value is the OCTET STRING just before the
			// unsigned attributes ([1]) that hold the token.
			for j := i - 1; j >= 1; j-- {
				if strings.HasPrefix(items[j].what, "cont [ 1 ]") {
					v := items[j-1]
					if strings.HasPrefix(v.what, "OCTET STRING") {
						value = der[v.off+v.hl : v.off+v.hl+v.l]
					}
					break
				}
			}
		}
	}
	if token == nil || value == nil {
		t.Fatalf("no timestamp token or signature value in the dumped signature:\n%s", parsed)
	}
	tokPath := filepath.Join(dir, "token.der")
	rootPath := filepath.Join(dir, "tsa-root.pem")
	os.WriteFile(tokPath, token, 0o644)
	os.WriteFile(rootPath, e.tsa.RootPEM(), 0o644)
	sum := sha256.Sum256(value)
	out, err := run(t, "openssl", "ts", "-verify", "-digest", hex.EncodeToString(sum[:]), "-token_in", "-in", tokPath, "-CAfile", rootPath)
	if err != nil || !strings.Contains(out, "Verification: OK") {
		t.Errorf("openssl ts -verify: %v\n%s", err, out)
	}
	text, err := run(t, "openssl", "ts", "-reply", "-token_in", "-in", tokPath, "-text")
	if want := e.clock.Format("Jan _2 15:04:05 2006 GMT"); err != nil || !strings.Contains(text, want) {
		t.Errorf("openssl does not read the TSA's time %q: %v\n%s", want, err, text)
	}
	// A token checked against another signature value fails: the check
	// above can fail.
	other := sha256.Sum256(append(value, 0))
	if out, err := run(t, "openssl", "ts", "-verify", "-digest", hex.EncodeToString(other[:]), "-token_in", "-in", tokPath, "-CAfile", rootPath); err == nil {
		t.Errorf("openssl ts -verify accepted another digest:\n%s", out)
	}
}

// TestRevocation: a signer revoked after the timestamp stays valid; one
// whose key was compromised before it is not; a revoked signer cannot
// issue; and without a timestamp any revocation fails the signature.
func TestRevocation(t *testing.T) {
	t.Run("AfterSigning", func(t *testing.T) {
		e := newLTVEnv(t)
		file, _ := e.issue(t, true)
		crl, err := RevokeDev(e.dir, RevokeOptions{Now: e.clock.Add(time.Hour), Reason: CRLReasons["superseded"]})
		if err != nil {
			t.Fatal(err)
		}
		v, report := e.verify(t, file, crl)
		if !v.OK() || !v.Signatures[0].Revocation.Revoked {
			t.Fatalf("revoked after signing: want valid and revoked:\n%s", report)
		}
		if !strings.Contains(report, "after the timestamp: the signature stays valid") || !strings.Contains(report, "given for verification") {
			t.Errorf("report does not say the revocation came after signing:\n%s", report)
		}
		// The file's own CRL, from signing time, knows nothing of it.
		if v, report := e.verify(t, file); !v.OK() || v.Signatures[0].Revocation.Revoked {
			t.Errorf("without the new CRL: want valid, not revoked:\n%s", report)
		}
	})
	t.Run("CompromisedBeforeSigning", func(t *testing.T) {
		e := newLTVEnv(t)
		file, _ := e.issue(t, true)
		// Revoked later, but the key was compromised before the signature.
		crl, err := RevokeDev(e.dir, RevokeOptions{Now: e.clock.Add(time.Hour), Reason: CRLReasons["keyCompromise"], CompromisedAt: e.clock.Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		v, report := e.verify(t, file, crl)
		if v.OK() || !strings.Contains(report, "before the signature was made") {
			t.Fatalf("compromised before signing: want NOT valid, revoked before the signature:\n%s", report)
		}
	})
	t.Run("IssueRefused", func(t *testing.T) {
		e := newLTVEnv(t)
		if _, err := RevokeDev(e.dir, RevokeOptions{Now: e.clock.Add(-time.Minute)}); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		_, err := e.issuer(t, true).Issue(context.Background(), loadBatch(t, "testdata/batch.json"), &out)
		if !errors.Is(err, ErrSignerRevoked) || out.Len() != 0 {
			t.Fatalf("issue with a revoked signer: err = %v, %d bytes written", err, out.Len())
		}
		if n := e.tsa.Requests.Load(); n != 0 {
			t.Errorf("the TSA was asked %d times for a signature that was never made", n)
		}
	})
	t.Run("StaleCRL", func(t *testing.T) {
		e := newLTVEnv(t)
		// Keys (and their CRL) made two years before the signing time: the
		// certificate is still valid, the CRL's next update long past.
		if err := GenerateDevKeys(e.dir, DevKeyOptions{Now: e.clock.AddDate(-2, 0, 0), Force: true}); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		_, err := e.issuer(t, true).Issue(context.Background(), loadBatch(t, "testdata/batch.json"), &out)
		if err == nil || !strings.Contains(err.Error(), "stale") || out.Len() != 0 {
			t.Fatalf("issue with a stale CRL: err = %v, %d bytes written", err, out.Len())
		}
	})
	t.Run("NoTimestamp", func(t *testing.T) {
		e := newLTVEnv(t)
		file, info := e.issue(t, false)
		if info.Level != "B-B" {
			t.Errorf("level %s without a TSA", info.Level)
		}
		crl, err := RevokeDev(e.dir, RevokeOptions{Now: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		v, report := e.verify(t, file, crl)
		if v.OK() || !strings.Contains(report, "no trusted timestamp proves") {
			t.Fatalf("B-B file of a revoked signer: want NOT valid:\n%s", report)
		}
	})
}

// TestTSAFailures: a TSA that is down, hangs, or answers something that is
// not a fresh token for our query stops the issue with ErrTSA, and nothing
// is written.
func TestTSAFailures(t *testing.T) {
	e := newLTVEnv(t)
	is := e.issuer(t, true)
	b := loadBatch(t, "testdata/batch.json")
	for _, tt := range []struct {
		name string
		mode int32
		want string
	}{
		{"Unavailable", devtsa.Unavailable, "503"},
		{"Hang", devtsa.Hang, "deadline exceeded"},
		{"WrongImprint", devtsa.WrongImprint, "another message"},
		{"Replayed", devtsa.NoNonce, "nonce"},
		{"Rejection", devtsa.Rejection, "rejected"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.tsa.Mode.Store(tt.mode)
			defer e.tsa.Mode.Store(devtsa.Normal)
			// The hanging TSA is given up on after the issuer's TSA timeout
			// (5 s), not by the caller's context.
			var out bytes.Buffer
			_, err := is.Issue(context.Background(), b, &out)
			if !errors.Is(err, ErrTSA) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrTSA saying %q", err, tt.want)
			}
			if out.Len() != 0 {
				t.Error("bytes written")
			}
		})
	}
}

// TestUpdatesAfterSigning: a B-LT file changed after signing in any other
// way than adding validation data is NOT valid, though the signed bytes
// are intact — the shadow attacks pdfsig alone does not catch.
func TestUpdatesAfterSigning(t *testing.T) {
	e := newLTVEnv(t)
	file, _ := e.issue(t, true)
	fields, err := signatureFields(file)
	if err != nil {
		t.Fatal(err)
	}
	br := fields[0].byteRange
	signedEnd := int(br.Index(2).Int64() + br.Index(3).Int64())
	update := string(file[signedEnd:])
	same := func(old, new string) []byte {
		t.Helper()
		if len(old) != len(new) || !strings.Contains(update, old) {
			t.Fatalf("mutation %q → %q does not apply", old, new)
		}
		return append(append([]byte(nil), file[:signedEnd]...), strings.Replace(update, old, new, 1)...)
	}
	catalogNum := regexp.MustCompile(`(?m)^(\d+) 0 obj\n<</Type /Catalog`).FindStringSubmatch(update)
	if catalogNum == nil {
		t.Fatalf("no catalog in the update:\n%.400s", update)
	}
	pageFile := appendObject(t, file, 6, "<</Type /Page /Parent 1 0 R /MediaBox [0 0 595 842] /Contents 7 0 R>>")
	// The entry of the store's first certificate, one byte off.
	entry := regexp.MustCompile(`xref\n\d+ 1\n\d{10} \d{5} n\r\n\d+ \d+\n(\d{10}) 00000 n`).FindStringSubmatch(update)
	if entry == nil {
		t.Fatalf("no cross-reference section in the update")
	}
	off, _ := strconv.Atoi(entry[1])
	moved := same(entry[1]+" 00000 n", fmt.Sprintf("%010d 00000 n", off+1))
	for _, tt := range []struct {
		name string
		file []byte
		want string
	}{
		{"CatalogKeyChanged", same("/Lang <7A682D434E>", "/Lang <7A682D434F>"), "catalog's /Lang changed"},
		{"ForeignKeyInStore", same("/Type /DSS", "/Typf /DSS"), "unexpected /Typf"},
		{"CrossReferenceMoved", moved, "points elsewhere"},
		{"PageRedefined", pageFile, "object 6 of the signed revision was changed"},
		{"JunkAfterStore", append(append([]byte(nil), file...), "% appended\n"...), "not only validation data"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Verify(tt.file, VerifyOptions{Roots: e.roots(t)})
			if err != nil {
				// The PDF reader cannot even find the signature: refused too.
				t.Logf("refused: %v", err)
				return
			}
			var b strings.Builder
			v.Write(&b)
			report := b.String()
			if v.OK() || !strings.Contains(report, tt.want) {
				t.Errorf("want NOT valid saying %q:\n%s", tt.want, report)
			}
			if !v.Signatures[0].Intact {
				t.Errorf("the signed bytes should still be intact:\n%s", report)
			}
		})
	}
	// pdfsig alone still calls the page-changing update's signature valid.
	path := writeTemp(t, "shadow.pdf", pageFile)
	if out, _ := run(t, "pdfsig", path); !strings.Contains(out, "Signature is Valid.") {
		t.Logf("pdfsig now refuses the changed page too:\n%s", out)
	}
}

// appendObject appends an incremental update that redefines object num.
func appendObject(t *testing.T, file []byte, num int, body string) []byte {
	t.Helper()
	xrefAt, _, err := pdfkit.LastStartxref(file)
	if err != nil {
		t.Fatal(err)
	}
	x, err := pdfkit.ReadXref(file, xrefAt)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.Write(file)
	off := b.Len()
	fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", num, body)
	xs := b.Len()
	fmt.Fprintf(&b, "xref\n%d 1\n%010d 00000 n\r\ntrailer\n", num, off)
	tr := pdfkit.NewObjDict()
	for _, k := range x.Trailer.Keys {
		tr.Set(k, x.Trailer.Vals[k])
	}
	tr.Set("Prev", int64(xrefAt))
	pdfkit.WriteValue(&b, tr)
	fmt.Fprintf(&b, "\nstartxref\n%d\n%%%%EOF\n", xs)
	return b.Bytes()
}
