package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blindpack/blindpack/api"
	"github.com/blindpack/blindpack/pipeline/verify"
)

// TestFirstDownloadsVerifyOneAtATime: a burst of reviewers' first downloads
// makes personal copies at once, but verifies them one at a time, as the
// workers verify packets — the verifier holds a packet's streams in memory
// (100–150 MB for a large packet). The API used to call the verifier
// outside that guard.
func TestFirstDownloadsVerifyOneAtATime(t *testing.T) {
	e := newEnv(t)
	sub, doc := e.upload("eng-intermediate", "")
	if r := e.do("POST", "/v1/submissions", e.tok["upload"], doc); r.code != http.StatusAccepted {
		t.Fatalf("submit: %d %s", r.code, r.body)
	}
	_, rep := e.waitReport(sub.SubmissionID)
	anon := rep.AnonCode

	// Reviewers of their own, on a server of their own.
	const n = 8
	var yml strings.Builder
	yml.WriteString("tokens:\n")
	tok := map[string]string{}
	for i := 0; i <= n; i++ {
		who, role := fmt.Sprintf("R-%02d", i), "reviewer"
		if i == 0 {
			who, role = "wang.li", "administrator"
		}
		s, err := api.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		tok[who] = s
		fmt.Fprintf(&yml, "  - sha256: %s\n    role: %s\n    subject: %s\n", api.HashToken(s), role, who)
	}
	tokens, err := api.ParseTokens([]byte(yml.String()))
	if err != nil {
		t.Fatal(err)
	}
	d := e.deps
	d.Tokens = tokens
	srv := e.serve(api.Config{TempDir: t.TempDir()}, d)
	for i := 1; i <= n; i++ {
		body, _ := json.Marshal(map[string]string{"anon_code": anon, "reviewer": fmt.Sprintf("R-%02d", i)})
		if r := e.doOn(srv, "POST", "/v1/assignments", tok["wang.li"], body); r.code != http.StatusCreated {
			t.Fatalf("assign: %d %s", r.code, r.body)
		}
	}

	// Watch the verifier while the downloads run.
	var maxRunning, maxWaiting atomic.Int64
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			running, waiting := verify.Load()
			if int64(running) > maxRunning.Load() {
				maxRunning.Store(int64(running))
			}
			if int64(waiting) > maxWaiting.Load() {
				maxWaiting.Store(int64(waiting))
			}
			select {
			case <-stop:
				return
			default:
				time.Sleep(20 * time.Microsecond)
			}
		}
	}()
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Go(func() {
			codes[i] = e.doOn(srv, "GET", "/v1/packets/"+anon, tok[fmt.Sprintf("R-%02d", i+1)], nil).code
		})
	}
	wg.Wait()
	close(stop)
	<-watched
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("R-%02d's first download: %d", i+1, c)
		}
	}
	if maxRunning.Load() != 1 {
		t.Errorf("%d personal copies were verified at once, want 1", maxRunning.Load())
	}
	if maxWaiting.Load() < 1 {
		t.Errorf("no verification ever waited: the downloads did not overlap, and the test proved nothing")
	}
	t.Logf("at most %d verification(s) running, %d waiting", maxRunning.Load(), maxWaiting.Load())
}
