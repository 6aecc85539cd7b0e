package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a private redis-server with append-only persistence: killed
// and started again, it comes back with what it had acknowledged.
type Redis struct {
	Proc
	// Addr is host:port; it stays the same across restarts.
	Addr string
	// Dir holds the append-only files.
	Dir string
}

// StartRedis starts redis-server on a free loopback port, its data in dir.
func StartRedis(dir string) (*Redis, error) {
	return startRedisNode(dir, "redis")
}

// startRedisNode starts a redis-server named name, its data in dir/name;
// extra arguments follow the common ones (--replicaof, say).
func startRedisNode(dir, name string, extra ...string) (*Redis, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("cluster: %w (apt-get install redis-server, or make deps)", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, name)
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	r := &Redis{Addr: "127.0.0.1:" + strconv.Itoa(port), Dir: data}
	r.Proc = Proc{name: name, path: bin, env: cleanEnv(), logPath: filepath.Join(dir, name+".log"),
		args: append([]string{"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", data,
			// As deploy/compose.yaml runs it: AOF, fsync every second, no RDB snapshots.
			"--appendonly", "yes", "--appendfsync", "everysec", "--save", ""}, extra...)}
	return r, r.Restart()
}

// Restart starts Redis again (after Kill or Stop) and waits until it has
// loaded its data and answers.
func (r *Redis) Restart() error {
	if err := r.Start(); err != nil {
		return err
	}
	if err := waitPort(&r.Proc, r.Addr, 10*time.Second); err != nil {
		return err
	}
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer rdb.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// While it loads the AOF, Redis answers LOADING.
		err := rdb.Ping(context.Background()).Err()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster: redis not ready: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// S3 is a private versitygw serving a directory (its posix backend) over
// plain HTTP on loopback.
type S3 struct {
	Proc
	// Endpoint is host:port; it stays the same across restarts.
	Endpoint  string
	AccessKey string
	SecretKey string
	// Dir holds the buckets.
	Dir string
}

// VersitygwPath is where deploy/local/install-deps.sh puts versitygw:
// $BLINDPACK_BIN_DIR, else ~/.cache/blindpack/bin (XDG_CACHE_HOME honoured).
func VersitygwPath() (string, error) {
	dir := os.Getenv("BLINDPACK_BIN_DIR")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(cache, "blindpack", "bin")
	}
	p := filepath.Join(dir, "versitygw")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("cluster: versitygw: %w (make deps builds it)", err)
	}
	return p, nil
}

// StartS3 starts versitygw on a free loopback port, its buckets in dir.
func StartS3(dir string) (*S3, error) {
	bin, err := VersitygwPath()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "s3")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	b := make([]byte, 8)
	rand.Read(b)
	s := &S3{Endpoint: "127.0.0.1:" + strconv.Itoa(port), AccessKey: "blindpack-cluster",
		SecretKey: "blindpack-cluster-" + hex.EncodeToString(b), Dir: data}
	s.Proc = Proc{name: "versitygw", path: bin, env: cleanEnv(), logPath: filepath.Join(dir, "versitygw.log"),
		args: []string{"--port", s.Endpoint, "--access", s.AccessKey, "--secret", s.SecretKey, "posix", data}}
	return s, s.Restart()
}

// Restart starts the S3 server again (after Kill or Stop) and waits until
// it listens.
func (s *S3) Restart() error {
	if err := s.Start(); err != nil {
		return err
	}
	return waitPort(&s.Proc, s.Endpoint, 10*time.Second)
}
