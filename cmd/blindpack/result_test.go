package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/blindpack/blindpack/pipeline/pdfwrite"
	"github.com/blindpack/blindpack/pipeline/result"
)

const sampleBatch = "../../pipeline/result/testdata/batch.json"

func TestKeysInit(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "keys")
	if err := runKeys(ctx, []string{"init", "--dir", dir}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{"": 0o700, result.SignerKeyFile: 0o600, result.SignerCertFile: 0o644, result.CAFile: 0o644} {
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
			if err := verifyResult(ctx, path, ca, &report); err != nil {
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
	d := pdfwrite.New(&b)
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
