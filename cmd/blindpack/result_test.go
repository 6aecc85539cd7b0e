package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/blindpack/blindpack/internal/devtsa"
	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/pipeline/result"
)

const sampleBatch = "../../pipeline/result/testdata/batch.json"

func TestKeysInit(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "keys")
	if err := runKeys(ctx, []string{"init", "--dir", dir}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{"": 0o700, result.SignerKeyFile: 0o600, result.CAKeyFile: 0o600, result.SignerCertFile: 0o644,
		result.CAFile: 0o644, result.CRLFile: 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", filepath.Join(dir, name), got, want)
		}
	}
	s, err := result.LoadKeyDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ku := s.Certificate.KeyUsage; ku&0x3 != 0x3 { // DigitalSignature | ContentCommitment
		t.Errorf("key usage %b lacks digitalSignature or contentCommitment", ku)
	}
	if len(s.Chain) != 1 || !s.Chain[0].IsCA {
		t.Errorf("chain %v, want the root CA", s.Chain)
	}
	if err := runKeys(ctx, []string{"init", "--dir", dir}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("second init without --force: %v", err)
	}
	if err := runKeys(ctx, []string{"init", "--dir", dir, "--force"}); err != nil {
		t.Errorf("init --force: %v", err)
	}
}

// devKeys makes a key directory and a PKCS#12 file of the same key.
func devKeys(t *testing.T) (dir, p12 string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "keys")
	if err := runKeys(context.Background(), []string{"init", "--dir", dir}); err != nil {
		t.Fatal(err)
	}
	s, err := result.LoadKeyDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := pkcs12.Modern.Encode(s.Key, s.Certificate, s.Chain, "p12-secret")
	if err != nil {
		t.Fatal(err)
	}
	p12 = filepath.Join(t.TempDir(), "signer.p12")
	if err := os.WriteFile(p12, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, p12
}

func TestResultIssueAndVerify(t *testing.T) {
	ctx := context.Background()
	dir, p12 := devKeys(t)
	ca := filepath.Join(dir, result.CAFile)
	out := t.TempDir()

	// Every key source signs a file that verifies against the root.
	t.Setenv("BLINDPACK_SIGNER_P12_PASSWORD", "p12-secret")
	sources := map[string][]string{
		"KeyDir": {"--keys", dir},
		"PEM":    {"--signer-cert", filepath.Join(dir, result.SignerCertFile), "--signer-key", filepath.Join(dir, result.SignerKeyFile)},
		"P12Env": {"--signer-p12", p12},
	}
	for name, flags := range sources {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(out, name+".pdf")
			args := append([]string{"issue", "--batch", sampleBatch, "--out", path}, flags...)
			if err := runResult(ctx, args); err != nil {
				t.Fatal(err)
			}
			var report bytes.Buffer
			if err := verifyResult(ctx, path, verifyOptions{caFile: ca}, &report); err != nil {
				t.Fatalf("verifyResult: %v\n%s", err, report.String())
			}
			if !strings.Contains(report.String(), "whole file:    yes") || !strings.Contains(report.String(), "blindpack development signer") {
				t.Errorf("report lacks coverage or signer:\n%s", report.String())
			}
			if code := exitCode(runVerify(ctx, []string{path, "--ca", ca})); code != 0 {
				t.Errorf("verify exit %d", code)
			}
		})
	}

	signed := filepath.Join(out, "KeyDir.pdf")
	data, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), data...)
	flipped[len(flipped)/3] ^= 0x20
	flippedPath := filepath.Join(out, "flipped.pdf")
	os.WriteFile(flippedPath, flipped, 0o644)

	otherDir, _ := devKeys(t)
	unsigned := filepath.Join(out, "unsigned.pdf")
	writeUnsignedPDF(t, unsigned)

	fails := []struct {
		name string
		args []string
		want string
	}{
		{"OneByteFlipped", []string{flippedPath, "--ca", ca}, ""},
		{"WrongRoot", []string{"--ca", filepath.Join(otherDir, result.CAFile), signed}, "NOT valid"},
		{"NoRootGiven", []string{signed}, "NOT valid"},
		{"Unsigned", []string{unsigned, "--ca", ca}, "not signed"},
		{"NoFile", []string{"--ca", ca}, "usage"},
	}
	for _, tt := range fails {
		t.Run(tt.name, func(t *testing.T) {
			err := runVerify(ctx, tt.args)
			if exitCode(err) == 0 {
				t.Fatal("verify succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

func writeUnsignedPDF(t *testing.T, path string) {
	t.Helper()
	var b bytes.Buffer
	d := pdfkit.New(&b)
	d.AddPage(595, 842, d.NewCanvas())
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestResultIssueRefuses(t *testing.T) {
	ctx := context.Background()
	dir, p12 := devKeys(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	doc, _ := os.ReadFile(sampleBatch)
	os.WriteFile(bad, bytes.Replace(doc, []byte("〔2024〕"), []byte("[2024]"), 1), 0o644)
	out := filepath.Join(t.TempDir(), "r.pdf")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"BadBatch", []string{"issue", "--batch", bad, "--keys", dir, "--out", out}, "doc_number"},
		{"NoKeys", []string{"issue", "--batch", sampleBatch, "--out", out}, "no signing key"},
		{"TwoKeySources", []string{"issue", "--batch", sampleBatch, "--out", out, "--keys", dir, "--signer-p12", p12}, "only one"},
		{"WrongP12Password", []string{"issue", "--batch", sampleBatch, "--out", out, "--signer-p12", p12, "--signer-p12-password", "wrong"}, "PKCS#12"},
		{"UnknownSubcommand", []string{"publish"}, "unknown subcommand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := runResult(ctx, tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to say %q", err, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an output file was written")
			}
		})
	}
}

// TestResultTimestampOffline is the whole trusted-time story on the
// command line: keys init (with its CRL), result issue against a local TSA
// (--tsa, --tsa-ca from the environment as BLINDPACK_TSA), verify with the
// network off, then keys revoke after signing (still valid with the new
// CRL) and with a compromise time before it (not valid).
func TestResultTimestampOffline(t *testing.T) {
	ctx := context.Background()
	dir, _ := devKeys(t)
	ca := filepath.Join(dir, result.CAFile)
	tsa, err := devtsa.Start(devtsa.Options{Now: func() time.Time { return time.Now().Add(-time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	defer tsa.Close()
	tmp := t.TempDir()
	tsaRoot := filepath.Join(tmp, "tsa-root.pem")
	os.WriteFile(tsaRoot, tsa.RootPEM(), 0o644)
	roots := filepath.Join(tmp, "roots.pem")
	caPEM, _ := os.ReadFile(ca)
	os.WriteFile(roots, append(caPEM, tsa.RootPEM()...), 0o644)

	t.Setenv("BLINDPACK_TSA", tsa.URL)
	out := filepath.Join(tmp, "result.pdf")
	if err := runResult(ctx, []string{"issue", "--batch", sampleBatch, "--keys", dir, "--tsa-ca", tsaRoot, "--out", out}); err != nil {
		t.Fatal(err)
	}
	if n := tsa.Requests.Load(); n != 1 {
		t.Errorf("the TSA was asked %d times, want 1", n)
	}
	tsa.Close()

	// Offline: in a network namespace of its own when the kernel allows
	// it (no interface but a downed loopback), else with the TSA and its
	// CRL server stopped.
	bin := filepath.Join(tmp, "blindpack")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	args := []string{bin, "verify", out, "--ca", roots}
	if exec.Command("unshare", "-rn", "true").Run() == nil {
		args = append([]string{"unshare", "-rn"}, args...)
	} else {
		t.Log("unshare -rn is not allowed here: verifying with the TSA stopped instead")
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "BLINDPACK_TSA=") // the verifier has no use for it
	report, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, report)
	}
	for _, want := range []string{"level:         PAdES B-LT", "timestamp:     ", "(RFC 3161, trusted)", "result: VALID"} {
		if !bytes.Contains(report, []byte(want)) {
			t.Errorf("offline verify lacks %q:\n%s", want, report)
		}
	}

	crl := filepath.Join(dir, result.CRLFile)
	if err := runKeys(ctx, []string{"revoke", "--dir", dir, "--reason", "superseded"}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := verifyResult(ctx, out, verifyOptions{caFile: roots, crlFiles: []string{crl}}, &buf); err != nil {
		t.Fatalf("revoked after signing: %v\n%s", err, buf.String())
	}
	if !strings.Contains(buf.String(), "after the timestamp: the signature stays valid") {
		t.Errorf("report does not say the revocation came after signing:\n%s", buf.String())
	}

	// Another key directory, its signer's key compromised before it signed.
	dir2, _ := devKeys(t)
	caPEM2, _ := os.ReadFile(filepath.Join(dir2, result.CAFile))
	os.WriteFile(roots, append(caPEM2, tsa.RootPEM()...), 0o644)
	tsa2, err := devtsa.Start(devtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tsa2.Close()
	os.WriteFile(roots, append(append(caPEM2, tsa.RootPEM()...), tsa2.RootPEM()...), 0o644)
	os.WriteFile(tsaRoot, tsa2.RootPEM(), 0o644)
	out2 := filepath.Join(tmp, "result2.pdf")
	if err := runResult(ctx, []string{"issue", "--batch", sampleBatch, "--keys", dir2, "--tsa", tsa2.URL, "--tsa-ca", tsaRoot, "--out", out2}); err != nil {
		t.Fatal(err)
	}
	compromised := time.Now().Add(-time.Hour).Format(time.RFC3339)
	if err := runKeys(ctx, []string{"revoke", "--dir", dir2, "--reason", "keyCompromise", "--compromised-at", compromised}); err != nil {
		t.Fatal(err)
	}
	err = runVerify(ctx, []string{out2, "--ca", roots, "--crl", filepath.Join(dir2, result.CRLFile)})
	if exitCode(err) != 1 {
		t.Errorf("compromised before signing: verify exit %d (%v), want 1", exitCode(err), err)
	}
	// And a revoked signer issues nothing.
	out3 := filepath.Join(tmp, "result3.pdf")
	err = runResult(ctx, []string{"issue", "--batch", sampleBatch, "--keys", dir2, "--tsa", tsa2.URL, "--tsa-ca", tsaRoot, "--out", out3})
	if !errors.Is(err, result.ErrSignerRevoked) {
		t.Errorf("issue with a revoked signer: %v", err)
	}
	if _, err := os.Stat(out3); err == nil {
		t.Error("a file was written by a revoked signer")
	}
}

func TestResultCertificates(t *testing.T) {
	ctx := context.Background()
	dir, _ := devKeys(t)
	out := filepath.Join(t.TempDir(), "certs")
	if err := runResult(ctx, []string{"certificates", "--batch", sampleBatch, "--keys", dir, "--out", out}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(sampleBatch)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := result.ParseBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(batch.Approved) {
		t.Fatalf("%d files for %d persons", len(entries), len(batch.Approved))
	}
	for i, e := range entries {
		if !strings.HasPrefix(e.Name(), fmt.Sprintf("%03d-%s", i+1, batch.Approved[i].Name)) {
			t.Errorf("file %s for person %d (%s)", e.Name(), i+1, batch.Approved[i].Name)
		}
		var report bytes.Buffer
		if err := verifyResult(ctx, filepath.Join(out, e.Name()), verifyOptions{caFile: filepath.Join(dir, result.CAFile)}, &report); err != nil {
			t.Errorf("%s: %v\n%s", e.Name(), err, report.String())
		}
	}
}
