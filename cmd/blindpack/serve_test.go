package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blindpack/blindpack/api"
	"github.com/blindpack/blindpack/client"
	"github.com/blindpack/blindpack/internal/testenv"
)

// captureStdout runs f with os.Stdout going to a pipe, and returns what
// was written.
func captureStdout(t *testing.T, f func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	ferr := f()
	os.Stdout = old
	w.Close()
	return <-done, ferr
}

func TestTokensNew(t *testing.T) {
	out, err := captureStdout(t, func() error {
		return runTokens(context.Background(), []string{"new", "--role", "reviewer", "--subject", "E-0042"})
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(out)
	toks, err := api.ParseTokens([]byte(fmt.Sprintf("tokens:\n  - {sha256: %s, role: reviewer, subject: E-0042}\n", api.HashToken(tok))))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := toks.Authenticate(tok); !ok || p.Subject != "E-0042" {
		t.Errorf("the new token does not authenticate: %+v %v", p, ok)
	}
	for _, args := range [][]string{
		{"new", "--role", "root", "--subject", "x"},
		{"new", "--role", "reviewer", "--subject", "E/1"},
		{"frobnicate"},
	} {
		if err := runTokens(context.Background(), args); exitCode(err) != 2 {
			t.Errorf("tokens %v: exit %d (%v)", args, exitCode(err), err)
		}
	}
}

// TestServeStartsAndStops runs `blindpack serve` against the test Redis and
// S3 server: it answers probes, refuses a request without a token, and
// stops cleanly when its context ends (SIGTERM).
func TestServeStartsAndStops(t *testing.T) {
	redisAddr := testenv.Redis(t)
	s3 := testenv.S3Server(t)
	if err := runServe(context.Background(), nil); exitCode(err) != 2 {
		t.Fatalf("serve without --tokens: exit %d (%v)", exitCode(err), err)
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.yaml")
	tok, upTok := "bp_test-token-for-serve", "bp_test-upload-token"
	os.WriteFile(tokens, []byte("tokens:\n  - sha256: "+api.HashToken(tok)+"\n    role: administrator\n    subject: wang.li\n"+
		"  - sha256: "+api.HashToken(upTok)+"\n    role: upload_service\n    subject: portal\n"), 0o600)
	// The policy is read (the console names materials and counts returns
	// by it): one that cannot be read stops serve before it listens.
	bad := filepath.Join(dir, "policy.yaml")
	os.WriteFile(bad, []byte("version: 9\n"), 0o600)
	if err := runServe(context.Background(), []string{"--tokens", tokens, "--anon-secret", "serve-test-secret-0123", "--policy", bad}); err == nil || !strings.Contains(err.Error(), "policy") {
		t.Fatalf("serve with a bad policy: %v", err)
	}
	freeAddr := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	addr, opsAddr := freeAddr(), freeAddr()
	suffix := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--listen", addr, "--metrics-listen", opsAddr, "--tokens", tokens, "--anon-secret", "serve-test-secret-0123",
			"--redis-addr", redisAddr, "--redis-db", "6", "--s3-endpoint", s3.Endpoint, "--s3-access-key", s3.AccessKey,
			"--s3-secret-key", s3.SecretKey, "--create-buckets", "--log-level", "warn",
			"--bucket-uploads", "sv-up-" + suffix, "--bucket-packets", "sv-pk-" + suffix,
			"--bucket-reports", "sv-rp-" + suffix, "--bucket-results", "sv-rs-" + suffix})
	}()
	base := "http://" + addr
	var ready int
	for i := 0; i < 100 && ready != 200; i++ {
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v", err)
		default:
		}
		if resp, err := http.Get("http://" + opsAddr + "/readyz"); err == nil {
			ready = resp.StatusCode
			resp.Body.Close()
		}
		time.Sleep(100 * time.Millisecond)
	}
	if ready != 200 {
		t.Fatalf("readyz: %d", ready)
	}
	for _, tc := range []struct {
		path, token string
		want        int
	}{{"/healthz", "", 200}, {"/v1/failures", "", 401}, {"/v1/failures", tok, 200}, {"/v1/packets", tok, 403},
		// Metrics and readiness are on --metrics-listen only.
		{"/metrics", tok, 404}, {"/readyz", tok, 404}, {"http://" + opsAddr + "/metrics", "", 200}} {
		u := tc.path
		if strings.HasPrefix(u, "/") {
			u = base + u
		}
		req, _ := http.NewRequest("GET", u, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s: %d, want %d", tc.path, resp.StatusCode, tc.want)
		}
	}
	// `blindpack submit --api` is the upload service's call, through the
	// Go client: queued, then already queued, then another applicant's
	// document under the same id refused (409) with nothing stored.
	upFile := filepath.Join(dir, "upload.token")
	os.WriteFile(upFile, []byte(upTok+"\n"), 0o600)
	doc := filepath.Join("..", "..", "testdata", "samples", "eng-intermediate", "submission.json")
	for _, want := range []string{"queued: ", "already queued: "} {
		out, err := captureStdout(t, func() error {
			return runSubmit(ctx, []string{doc, "--api", base, "--token-file", upFile})
		})
		if err != nil || !strings.HasPrefix(out, want) {
			t.Errorf("submit --api: %q %v, want %q", out, err, want)
		}
	}
	data, _ := os.ReadFile(doc)
	other := filepath.Join(dir, "other.json")
	os.WriteFile(other, []byte(strings.Replace(string(data), `"applicant_id": "A2024-000123"`, `"applicant_id": "A2024-000124"`, 1)), 0o600)
	if err := runSubmit(ctx, []string{other, "--api", base, "--token-file", upFile}); !errors.Is(err, client.ErrSubmissionConflict) {
		t.Errorf("submit --api, same id for another applicant: %v", err)
	}
	os.WriteFile(upFile, []byte("bp_wrong\n"), 0o600)
	if err := runSubmit(ctx, []string{doc, "--api", base, "--token-file", upFile}); !errors.Is(err, client.ErrUnauthenticated) {
		t.Errorf("submit --api with a wrong token: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestWebhooksCommand(t *testing.T) {
	out, err := captureStdout(t, func() error { return runWebhooks(context.Background(), []string{"secret"}) })
	secret := strings.TrimSpace(out)
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("webhooks secret: %q %v", out, err)
	}
	file := filepath.Join(t.TempDir(), "webhooks.yaml")
	os.WriteFile(file, []byte("endpoints:\n  - id: portal\n    url: https://portal.example/hooks\n    secrets: ["+secret+"]\n"), 0o600)
	out, err = captureStdout(t, func() error { return runWebhooks(context.Background(), []string{"check", file}) })
	if err != nil || !strings.Contains(out, "portal: 1 secret(s), all events") || strings.Contains(out, secret) {
		t.Errorf("webhooks check: %q %v", out, err)
	}
	os.WriteFile(file, []byte("endpoints:\n  - id: portal\n    url: https://portal.example/hooks\n    secrets: [whsec_short]\n"), 0o600)
	if err := runWebhooks(context.Background(), []string{"check", file}); exitCode(err) != 1 {
		t.Errorf("check of a bad file: %v", err)
	}
	if err := runWebhooks(context.Background(), nil); exitCode(err) != 2 {
		t.Errorf("no arguments: %v", err)
	}
	if err := runWebhooks(context.Background(), []string{"secret", "--bytes", "8"}); exitCode(err) != 2 {
		t.Errorf("an 8-byte secret: %v", err)
	}
}
