package s3

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/storage/storagetest"
)

func TestStore(t *testing.T) {
	c := testClient(t, "")
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := c.Bucket(t.Context(), testBucketName(t), true)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestBucketMissing(t *testing.T) {
	c := testClient(t, "")
	_, err := c.Bucket(t.Context(), testBucketName(t), false)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

// TestBucketConcurrentCreate stands for workers starting together, each
// making the bucket it needs.
func TestBucketConcurrentCreate(t *testing.T) {
	c := testClient(t, "")
	name := testBucketName(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := c.Bucket(t.Context(), name, true); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, err := c.Bucket(t.Context(), name, false); err != nil {
		t.Errorf("bucket missing after all created it: %v", err)
	}
}

func TestBuckets(t *testing.T) {
	c := testClient(t, "")
	names := BucketNames{
		Uploads: testBucketName(t),
		Packets: testBucketName(t),
		Reports: testBucketName(t),
		Results: testBucketName(t),
	}
	if _, err := c.Buckets(t.Context(), names, false); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Buckets(create=false) on missing buckets: err = %v, want ErrNotFound", err)
	}
	b, err := c.Buckets(t.Context(), names, true)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]storage.Store{names.Uploads: b.Uploads, names.Packets: b.Packets, names.Reports: b.Reports, names.Results: b.Results} {
		if got := s.(*Store).bucket; got != name {
			t.Errorf("store of bucket %s, want %s", got, name)
		}
	}
}

func TestPing(t *testing.T) {
	c := testClient(t, "")
	if err := c.Ping(t.Context()); err != nil {
		t.Fatalf("before any bucket: %v", err)
	}
	name := testBucketName(t)
	if _, err := c.Bucket(t.Context(), name, true); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(t.Context()); err != nil {
		t.Fatalf("with a bucket: %v", err)
	}
	if err := c.mc.RemoveBucket(t.Context(), name); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(t.Context()); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("after the bucket went: err = %v, want ErrNotFound", err)
	}

	down, err := Open(t.Context(), Config{Endpoint: "127.0.0.1:1"}) // nothing listens on port 1
	if err != nil {
		t.Fatal(err)
	}
	// minio-go retries for seconds before it gives up; a probe has a deadline.
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := down.Ping(ctx); err == nil {
		t.Error("Ping of a closed port succeeded")
	}
}

// TestWrongSecret checks that bad credentials read as bad credentials, not
// as a missing bucket, which an operator would go looking for.
func TestWrongSecret(t *testing.T) {
	c := testClient(t, "wrong-secret")
	name := testBucketName(t)
	for op, err := range map[string]error{
		"Ping":   c.Ping(t.Context()),
		"Bucket": errOf(c.Bucket(t.Context(), name, true)),
	} {
		if err == nil || errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s: err = %v, want an error other than ErrNotFound", op, err)
			continue
		}
		var resp minio.ErrorResponse
		if !errors.As(err, &resp) || resp.Code != minio.SignatureDoesNotMatch && resp.Code != minio.AccessDenied {
			t.Errorf("%s: %v (code %q), want SignatureDoesNotMatch or AccessDenied", op, err, resp.Code)
		}
		t.Logf("%s: %v", op, err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"Minimal", Config{Endpoint: "minio:9000"}, true},
		{"Full", Config{Endpoint: "s3.example.org", AccessKey: "a", SecretKey: "s", Secure: true, Region: "cn-north-1"}, true},
		{"NoEndpoint", Config{}, false},
		{"Scheme", Config{Endpoint: "http://minio:9000"}, false},
		{"Path", Config{Endpoint: "minio:9000/bucket"}, false},
		{"AccessKeyOnly", Config{Endpoint: "minio:9000", AccessKey: "a"}, false},
		{"SecretKeyOnly", Config{Endpoint: "minio:9000", SecretKey: "s"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%t", err, tt.ok)
			}
		})
	}
}

// testClient returns a Client of the test server, with secret in place of
// the right secret key unless it is empty.
func testClient(t *testing.T, secret string) *Client {
	t.Helper()
	srv := testenv.S3Server(t)
	c, err := Open(t.Context(), Config{
		Endpoint:  srv.Endpoint,
		AccessKey: srv.AccessKey,
		SecretKey: cmp.Or(secret, srv.SecretKey),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testBucketName returns a fresh bucket name and removes the bucket, if it
// was made, when the test ends, so that a shared server is left clean.
func testBucketName(t *testing.T) string {
	t.Helper()
	name := "blindpack-test-" + strings.ToLower(rand.Text()[:12])
	t.Cleanup(func() {
		// t.Context is done by now.
		ctx := context.Background()
		c := testClient(t, "")
		for o := range c.mc.ListObjects(ctx, name, minio.ListObjectsOptions{Recursive: true}) {
			if o.Err == nil {
				c.mc.RemoveObject(ctx, name, o.Key, minio.RemoveObjectOptions{})
			}
		}
		c.mc.RemoveBucket(ctx, name)
	})
	return name
}

func errOf(_ *Store, err error) error { return err }
