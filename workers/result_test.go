package workers_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/internal/devtsa"
	"github.com/blindpack/blindpack/internal/resulttest"
	"github.com/blindpack/blindpack/pipeline/result"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/workers"
)

// resultEnv is a worker with signing keys against the real Redis and S3.
type resultEnv struct {
	redis   asynq.RedisClientOpt
	buckets storage.Buckets
	client  *asynq.Client
	handler *workers.ResultHandler
	caFile  string
	keys    string
	tsa     *devtsa.TSA
}

func newResultEnv(t *testing.T) *resultEnv {
	t.Helper()
	opt, buckets, _ := freshServices(t)
	is, keys, tsa := newIssuer(t)
	rh := &workers.ResultHandler{Issuer: is, Uploads: buckets.Uploads, Results: buckets.Results}
	h := &workers.Handler{Buckets: buckets, Result: rh}
	startWorker(t, opt, h)
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	return &resultEnv{redis: opt, buckets: buckets, client: client, handler: rh, caFile: filepath.Join(keys, result.CAFile), keys: keys, tsa: tsa}
}

// newIssuer is a signer with development keys (in the directory keys, its
// root in result.CAFile there), timestamped by the local TSA tsa.
func newIssuer(t *testing.T) (is *result.Issuer, keys string, tsa *devtsa.TSA) {
	t.Helper()
	keys = resulttest.DevKeys(t)
	// Signed as in production: timestamped by a TSA (a local one), with
	// the CA's CRL and the TSA's fetched into the file (PAdES B-LT).
	tsa, err := devtsa.Start(devtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tsa.Close() })
	crl, err := os.ReadFile(filepath.Join(keys, result.CRLFile))
	if err != nil {
		t.Fatal(err)
	}
	return ltvIssuer(t, keys, crl, tsa), keys, tsa
}

func batchDoc(t *testing.T) []byte {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "pipeline", "result", "testdata", "batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestResultIssueQueue is the production path: an administrator enqueues a
// batch, a worker signs it into the results bucket, and anyone with the
// presigned link downloads a file that verifies.
func TestResultIssueQueue(t *testing.T) {
	e := newResultEnv(t)
	ctx := context.Background()
	sub := workers.ResultSubmitter{Uploads: e.buckets.Uploads, Client: e.client}
	p, err := sub.Submit(ctx, batchDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	if want := "2024/头人社发-2024-12号.pdf"; p.OutputKey != want {
		t.Errorf("output key = %q, want %q", p.OutputKey, want)
	}
	if strings.Contains(mustJSON(t, p), "张三") {
		t.Error("the payload carries the batch's content, not its key")
	}

	var info storage.ObjectInfo
	deadline := time.Now().Add(60 * time.Second)
	for {
		info, err = e.buckets.Results.Stat(ctx, p.OutputKey)
		if err == nil {
			break
		}
		if !errors.Is(err, storage.ErrNotFound) || time.Now().After(deadline) {
			t.Fatalf("no result at %s: %v", p.OutputKey, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if info.ContentType != "application/pdf" {
		t.Errorf("content type %q", info.ContentType)
	}

	pre, ok := e.buckets.Results.(storage.Presigner)
	if !ok {
		t.Fatal("the S3 results store is not a Presigner")
	}
	u, err := pre.PresignGet(ctx, p.OutputKey, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download by presigned link: %d %v", resp.StatusCode, err)
	}
	ca, err := os.ReadFile(e.caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := result.CertPool(append(ca, e.tsa.RootPEM()...))
	if err != nil {
		t.Fatal(err)
	}
	v, err := result.Verify(data, result.VerifyOptions{Roots: roots})
	if err != nil || !v.OK() || v.Signatures[0].Level() != "B-LT" {
		var b bytes.Buffer
		if v != nil {
			v.Write(&b)
		}
		t.Fatalf("downloaded result does not verify at PAdES B-LT: %v\n%s", err, b.String())
	}
}

// TestResultIssueBadInput checks that what can never succeed is not
// retried, and that nothing is published for it.
func TestResultIssueBadInput(t *testing.T) {
	e := newResultEnv(t)
	ctx := context.Background()
	bad := bytes.Replace(batchDoc(t), []byte(`"engineering"`), []byte(`"medicine"`), 1)
	badKey := workers.BatchKey("2024", bad)
	if err := e.buckets.Uploads.Put(ctx, badKey, bytes.NewReader(bad), int64(len(bad)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	good := batchDoc(t)
	goodKey := workers.BatchKey("2024", good)
	if err := e.buckets.Uploads.Put(ctx, goodKey, bytes.NewReader(good), int64(len(good)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		payload   workers.IssueResultPayload
		transient bool
	}{
		{"InvalidBatch", workers.IssueResultPayload{Campaign: "2024", BatchKey: badKey, OutputKey: "2024/bad.pdf"}, false},
		{"MissingBatch", workers.IssueResultPayload{Campaign: "2024", BatchKey: "batches/2024/none.json", OutputKey: "2024/none.pdf"}, false},
		{"OtherCampaign", workers.IssueResultPayload{Campaign: "2025", BatchKey: goodKey, OutputKey: "2025/x.pdf"}, false},
	}
	tests = append(tests, []struct {
		name      string
		payload   workers.IssueResultPayload
		transient bool
	}{
		// Last: they change the TSA and the keys.
		{"TSAUnavailable", workers.IssueResultPayload{Campaign: "2024", BatchKey: goodKey, OutputKey: "2024/tsa-down.pdf"}, true},
		{"SignerRevoked", workers.IssueResultPayload{Campaign: "2024", BatchKey: goodKey, OutputKey: "2024/revoked.pdf"}, false},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task, err := workers.NewIssueResultTask(tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			switch tt.name {
			case "TSAUnavailable":
				e.tsa.Mode.Store(devtsa.Unavailable)
				defer e.tsa.Mode.Store(devtsa.Normal)
			case "SignerRevoked":
				crl, err := result.RevokeDev(e.keys, result.RevokeOptions{Now: time.Now().Add(-time.Minute)})
				if err != nil {
					t.Fatal(err)
				}
				e.handler.Issuer = ltvIssuer(t, e.keys, crl, e.tsa)
			}
			err = e.handler.ProcessTask(ctx, task)
			if err == nil || errors.Is(err, asynq.SkipRetry) == tt.transient {
				t.Fatalf("err = %v, want SkipRetry=%t", err, !tt.transient)
			}
			t.Log(err)
			if _, err := e.buckets.Results.Stat(ctx, tt.payload.OutputKey); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("something was published for a failed task: %v", err)
			}
		})
	}
	// A bad payload is refused before it is queued.
	if _, err := workers.NewIssueResultTask(workers.IssueResultPayload{Campaign: "../x", BatchKey: "k"}); err == nil {
		t.Error("NewIssueResultTask accepted a bad campaign")
	}
	if _, err := (&workers.ResultSubmitter{Uploads: e.buckets.Uploads, Client: e.client}).Submit(ctx, bad); !errors.Is(err, result.ErrInvalidBatch) {
		t.Errorf("Submit(bad) err = %v, want ErrInvalidBatch", err)
	}
}

// ltvIssuer signs with the keys of a development key directory, the given
// CRL of its CA and timestamps of tsa.
func ltvIssuer(t *testing.T, keys string, crl []byte, tsa *devtsa.TSA) *result.Issuer {
	t.Helper()
	return resulttest.Issuer(t, keys, result.Config{CRLs: [][]byte{crl}, TSA: result.TSAConfig{URL: tsa.URL, Roots: []*x509.Certificate{tsa.Root}}})
}

func TestResultKey(t *testing.T) {
	for _, tt := range []struct{ doc, want string }{
		{"头人社发〔2024〕12号", "2024/头人社发-2024-12号.pdf"},
		{"〔〕", "2024/result.pdf"},
	} {
		if got := workers.ResultKey("2024", tt.doc); got != tt.want {
			t.Errorf("ResultKey(%q) = %q, want %q", tt.doc, got, tt.want)
		}
		if err := storage.CheckKey(workers.ResultKey("2024", tt.doc)); err != nil {
			t.Error(err)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestResultTasksReachOnlySigners: result tasks go to the signing queue,
// which a worker without keys never takes from, so none of them burns a
// retry there. Before capability queues, every worker took result:issue
// from the critical queue and a keyless one failed it back: with two
// keyless workers and one signer, 8 of 10 batches were archived.
func TestResultTasksReachOnlySigners(t *testing.T) {
	e := newResultEnv(t) // the signer
	opt, ctx := e.redis, context.Background()
	keyless := &workers.Handler{Buckets: e.buckets}
	if caps := keyless.Capabilities(); len(caps) != 0 {
		t.Fatalf("a keyless handler claims %v", caps)
	}
	startWorker(t, opt, keyless)

	const n = 20
	sub := workers.ResultSubmitter{Uploads: e.buckets.Uploads, Client: e.client}
	var keys []string
	for i := range n {
		doc := bytes.Replace(batchDoc(t), []byte("〔2024〕12号"), fmt.Appendf(nil, "〔2024〕%d号", 100+i), 1)
		p, err := sub.Submit(ctx, doc)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, p.OutputKey)
	}
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	deadline := time.Now().Add(3 * time.Minute)
	for _, key := range keys {
		for {
			if _, err := e.buckets.Results.Stat(ctx, key); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s was never issued", key)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for q := range workers.Queues {
		if archived, err := insp.ListArchivedTasks(q); err == nil && len(archived) > 0 {
			t.Errorf("%d task(s) archived in %s, first: %s", len(archived), q, archived[0].LastErr)
		}
	}
	// The last file is in the bucket a moment before its task is marked
	// completed.
	var done []*asynq.TaskInfo
	for time.Now().Before(deadline) {
		var err error
		if done, err = insp.ListCompletedTasks(workers.QueueSigning); err != nil {
			t.Fatal(err)
		}
		if len(done) == n {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(done) != n {
		t.Fatalf("%d of %d result tasks completed on the signing queue", len(done), n)
	}
	for _, ti := range done {
		if ti.Retried != 0 || ti.LastErr != "" {
			t.Errorf("task %s was retried %d time(s): %s", ti.ID, ti.Retried, ti.LastErr)
		}
	}
}
