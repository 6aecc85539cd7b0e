package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/client"
	"github.com/blindpack/blindpack/workers"
)

// TestErrors: every code of the API has its sentinel, an error answer
// matches its sentinel and no other, and an answer that is not in the
// error shape (a proxy's page) is still an *Error with its status.
func TestErrors(t *testing.T) {
	for _, c := range wire.Codes() {
		if client.Sentinels[c] == nil {
			t.Errorf("no sentinel for %s", c)
		}
	}
	if len(client.Sentinels) != len(wire.Codes()) {
		t.Errorf("%d sentinels for %d codes", len(client.Sentinels), len(wire.Codes()))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request headers %v", r.Header)
		}
		if strings.HasPrefix(r.URL.Path, "/proxy/") {
			w.Header().Set("X-Request-Id", "edge-1")
			http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		json.NewEncoder(w).Encode(wire.NewError(wire.CodeSubmissionConflict, "submission_id X is taken", "req-1"))
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, "tok", client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Submit(context.Background(), []byte(`{}`))
	var ae *client.Error
	if !errors.Is(err, client.ErrSubmissionConflict) || errors.Is(err, client.ErrInvalidSubmission) || !errors.As(err, &ae) ||
		ae.Status != 409 || ae.RequestID != "req-1" || ae.MessageZH == "" || ae.Detail != "submission_id X is taken" {
		t.Errorf("Submit error %#v", err)
	}
	c2, _ := client.New(srv.URL+"/proxy", "tok", client.Options{})
	_, err = c2.Reprocess(context.Background(), "X", wire.ReprocessRequest{})
	if !errors.As(err, &ae) || ae.Status != 502 || ae.Code != "" || ae.RequestID != "edge-1" || errors.Is(err, client.ErrInternal) {
		t.Errorf("proxy error %#v", err)
	}
	for _, bad := range []struct{ url, tok string }{{"ftp://x", "t"}, {"http://", "t"}, {"http://x", ""}, {"http://x", "a b"}} {
		if _, err := client.New(bad.url, bad.tok, client.Options{}); err == nil {
			t.Errorf("New(%q, %q) accepted", bad.url, bad.tok)
		}
	}
}

// TestVerify: a delivery signed as blindpack's workers sign it verifies
// with either secret of a rotation; tampered, unsigned or stale ones do
// not.
func TestVerify(t *testing.T) {
	old, _ := workers.NewSecret()
	cur, _ := workers.NewSecret()
	body := []byte(`{"type":"submission.accepted","timestamp":"2024-09-20T02:00:00Z","data":{"submission_id":"A-r1","status":"accepted","codes":[],"links":{}}}`)
	id := workers.EventID("t")
	sign := func(at time.Time, b []byte) http.Header {
		sig, err := workers.Sign([]workers.Secret{old, cur}, id, at, b)
		if err != nil {
			t.Fatal(err)
		}
		return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {fmt.Sprint(at.Unix())}, "Webhook-Signature": {sig}}
	}
	for _, secrets := range [][]string{{string(old)}, {string(cur)}, {"whsec_" + strings.Repeat("QUFB", 8), string(cur)}} {
		gotID, ev, err := client.Verify(secrets, sign(time.Now(), body), body)
		if err != nil || gotID != id || ev.Type != wire.EventSubmissionAccepted {
			t.Fatalf("Verify = %q %+v %v", gotID, ev, err)
		}
		if d, err := ev.Submission(); err != nil || d.SubmissionID != "A-r1" {
			t.Errorf("data %+v %v", d, err)
		}
	}
	for name, h := range map[string]http.Header{
		"stale":    sign(time.Now().Add(-6*time.Minute), body),
		"tampered": sign(time.Now(), []byte(strings.Replace(string(body), "accepted", "refused", 1))),
		"unsigned": {"Webhook-Id": {id}, "Webhook-Timestamp": {fmt.Sprint(time.Now().Unix())}},
	} {
		if _, _, err := client.Verify([]string{string(cur)}, h, body); !errors.Is(err, client.ErrWebhook) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
