package result

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestCertificates issues a certificate for every person of the sample
// batch, and one with a timestamp: each is one page, signed valid for
// pdfsig and our verifier, and names its person — whole — and no one else.
func TestCertificates(t *testing.T) {
	b := loadBatch(t, "testdata/batch.json")
	f, dir := fixture(t)
	s, err := LoadKeyDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	is, err := NewIssuer(Config{Fonts: f, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range b.Approved {
		var out bytes.Buffer
		info, err := is.IssueCertificate(context.Background(), b, i, &out)
		if err != nil {
			t.Fatalf("person %d: %v", i, err)
		}
		if info.Pages != 1 {
			t.Errorf("person %d: %d pages", i, info.Pages)
		}
		path := writeTemp(t, "cert.pdf", out.Bytes())
		text, err := run(t, "pdftotext", path, "-")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{p.Name, CertificateTitle, b.DocNumber, p.Qualification} {
			if !strings.Contains(text, want) {
				t.Errorf("person %d: certificate lacks %q", i, want)
			}
		}
		for j, q := range b.Approved {
			if j != i && q.Name != p.Name && strings.Contains(text, q.Name) {
				t.Errorf("person %d's certificate names %s too", i, q.Name)
			}
		}
		if out, _ := run(t, "pdfsig", path); !strings.Contains(out, "Signature is Valid.") || !strings.Contains(out, "Total document signed") {
			t.Errorf("person %d: pdfsig:\n%s", i, out)
		}
		if v, err := verifyWith(t, out.Bytes(), dir+"/"+CAFile); err != nil || !v.OK() {
			t.Errorf("person %d: does not verify: %v", i, err)
		}
	}
	if _, err := is.IssueCertificate(context.Background(), b, len(b.Approved), &bytes.Buffer{}); err == nil {
		t.Error("a certificate for a person not in the batch")
	}

	e := newLTVEnv(t)
	var out bytes.Buffer
	info, err := e.issuer(t, true).IssueCertificate(context.Background(), batch120(t), 37, &out)
	if err != nil || info.Level != "B-LT" {
		t.Fatalf("timestamped certificate of a long name: %+v, %v", info, err)
	}
	if v, report := e.verify(t, out.Bytes()); !v.OK() || v.Signatures[0].Level() != "B-LT" {
		t.Errorf("timestamped certificate:\n%s", report)
	}
	text, _ := run(t, "pdftotext", writeTemp(t, "c.pdf", out.Bytes()), "-")
	if !strings.Contains(text, "努尔买买提·阿不都热依木") {
		t.Errorf("the long name is not whole:\n%s", text)
	}
}
