// Package testenv gives tests the real services that `make test` starts
// (deploy/local/with-services.sh): a Redis and an S3 server on loopback.
//
// When the services are not there, a test is skipped with a message saying
// how to run it, unless BLINDPACK_TEST_SERVICES=required (as `make test`
// sets it), in which case it fails: a skipped backend test must never pass
// for a tested one in CI.
package testenv

import (
	"os"
	"testing"
)

// S3 is how to reach the test S3 server.
type S3 struct {
	Endpoint  string // host:port, plain HTTP
	AccessKey string
	SecretKey string
}

func missing(t testing.TB, what string) {
	t.Helper()
	msg := what + " is not available: run the test through `make test` (deploy/local/with-services.sh)"
	if os.Getenv("BLINDPACK_TEST_SERVICES") == "required" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Redis returns host:port of the test Redis.
func Redis(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("BLINDPACK_TEST_REDIS")
	if addr == "" {
		missing(t, "Redis")
	}
	return addr
}

// S3Server returns the test S3 server.
func S3Server(t testing.TB) S3 {
	t.Helper()
	s := S3{
		Endpoint:  os.Getenv("BLINDPACK_TEST_S3"),
		AccessKey: os.Getenv("BLINDPACK_TEST_S3_ACCESS"),
		SecretKey: os.Getenv("BLINDPACK_TEST_S3_SECRET"),
	}
	if s.Endpoint == "" {
		missing(t, "the S3 server")
	}
	return s
}

// Tool fails (or skips, outside `make test`) when an external program a test
// checks its output with is not installed.
func Tool(t testing.TB, name string) {
	t.Helper()
	if _, err := lookPath(name); err != nil {
		missing(t, name)
	}
}
