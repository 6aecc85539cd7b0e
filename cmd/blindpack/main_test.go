package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"go.yaml.in/yaml/v3"

	"github.com/blindpack/blindpack/pipeline"
)

const samples = "../../testdata/samples"

func exitCode(err error) int {
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	}
	return 1
}

func readReport(t *testing.T, path string) *pipeline.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := pipeline.ParseReport(data)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func copySample(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(samples, name)
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(src, e.Name()))
		os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644)
	}
	return dir
}

func TestProcessExitCodes(t *testing.T) {
	ctx := context.Background()
	t.Run("accepted", func(t *testing.T) {
		dir, out := copySample(t, "eng-intermediate"), t.TempDir()
		// The OCR gate on this packet is TestOCRCommand's.
		err := runProcess(ctx, []string{"--no-ocr", "--submission", filepath.Join(dir, "submission.json"), "--input", dir, "--out", out})
		if exitCode(err) != 0 {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
		if rep := readReport(t, filepath.Join(out, "report.json")); rep.Status != pipeline.Accepted || rep.Packet.Location != filepath.Join(out, "packet.pdf") {
			t.Errorf("report %+v", rep)
		}
		if _, err := os.Stat(filepath.Join(out, "packet.pdf")); err != nil {
			t.Error(err)
		}
	})
	t.Run("accepted without tesseract says the gate did not run", func(t *testing.T) {
		dir, out := copySample(t, "eng-intermediate"), t.TempDir()
		t.Setenv("PATH", t.TempDir()) // no tesseract to be found
		stdout, err := captureStdout(t, func() error {
			return runProcess(ctx, []string{"--quiet", "--submission", filepath.Join(dir, "submission.json"), "--input", dir, "--out", out})
		})
		if exitCode(err) != 0 {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
		if !strings.Contains(stdout, "note: OCR gate NOT run") || !strings.Contains(stdout, "--no-ocr") {
			t.Errorf("output does not say the packet was not read:\n%s", stdout)
		}
		if _, err := os.Stat(filepath.Join(out, "ocr.json")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("an OCR document without OCR: %v", err)
		}
	})
	t.Run("rejected", func(t *testing.T) {
		dir, out := copySample(t, "eng-intermediate"), t.TempDir()
		// A packet from an earlier, accepted run must not survive a rejection.
		os.WriteFile(filepath.Join(out, "packet.pdf"), []byte("old"), 0o644)
		data, _ := os.ReadFile(filepath.Join(dir, "summary.jpg"))
		os.WriteFile(filepath.Join(dir, "summary.jpg"), data[:100], 0o644)
		err := runProcess(ctx, []string{"--submission", filepath.Join(dir, "submission.json"), "--input", dir, "--out", out})
		if exitCode(err) != exitRejected {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
		if rep := readReport(t, filepath.Join(out, "report.json")); rep.Status != pipeline.Rejected {
			t.Errorf("status %s", rep.Status)
		}
		if _, err := os.Stat(filepath.Join(out, "packet.pdf")); !errors.Is(err, os.ErrNotExist) {
			t.Error("a packet is left beside a rejected report")
		}
		leftovers, _ := filepath.Glob(filepath.Join(out, ".*"))
		if len(leftovers) > 0 {
			t.Errorf("temporary files left: %v", leftovers)
		}
	})
	t.Run("malformed JSON", func(t *testing.T) {
		dir, out := t.TempDir(), t.TempDir()
		os.WriteFile(filepath.Join(dir, "s.json"), []byte("{\"schema\":"), 0o644)
		if err := runProcess(ctx, []string{"--submission", filepath.Join(dir, "s.json"), "--input", dir, "--out", out}); exitCode(err) != exitRejected {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
		if rep := readReport(t, filepath.Join(out, "report.json")); rep.Findings[0].Code != "malformed_submission" {
			t.Errorf("findings %+v", rep.Findings)
		}
	})
	t.Run("usage", func(t *testing.T) {
		if err := runProcess(ctx, []string{"--input", "x"}); exitCode(err) != 2 {
			t.Fatalf("exit %d", exitCode(err))
		}
	})
}

func TestEnvironmentSetsFlags(t *testing.T) {
	t.Setenv("BLINDPACK_REDIS_ADDR", "redis.example:6380")
	var s services
	fs := newFlagSet("x")
	s.register(fs)
	if err := parse(fs, nil); err != nil {
		t.Fatal(err)
	}
	if s.redisConf.addr != "redis.example:6380" {
		t.Errorf("redis addr %q", s.redisConf.addr)
	}
	if err := parse(fs, []string{"--redis-addr", "cli:1"}); err != nil || s.redisConf.addr != "cli:1" {
		t.Errorf("command line did not win: %q %v", s.redisConf.addr, err)
	}
}

// TestDeployManifestsUseRealFlags keeps the compose file and the Kubernetes
// manifests honest: every BLINDPACK_* variable they set is a flag of the
// command they run.
func TestDeployManifestsUseRealFlags(t *testing.T) {
	known := map[string]bool{}
	for _, reg := range []func(*flag.FlagSet){
		func(fs *flag.FlagSet) { var c common; c.register(fs, "json") },
		func(fs *flag.FlagSet) { var s services; s.register(fs) },
		func(fs *flag.FlagSet) { var sf signerFlags; sf.register(fs) },
	} {
		fs := newFlagSet("x")
		reg(fs)
		fs.VisitAll(func(f *flag.Flag) {
			known["BLINDPACK_"+strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))] = true
		})
	}
	for _, extra := range []string{"CONCURRENCY", "SHUTDOWN_TIMEOUT", "TEMP_DIR", "SWEEP_INTERVAL", "CLOCK", "METRICS_LISTEN", "OCR"} {
		known["BLINDPACK_"+extra] = true // worker's own flags
	}
	re := regexp.MustCompile(`BLINDPACK_[A-Z0-9_]+`)
	for _, path := range []string{"../../deploy/compose.yaml", "../../deploy/k8s/workers.yaml"} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range re.FindAllString(string(data), -1) {
			if !known[v] {
				t.Errorf("%s sets %s, which is no flag", path, v)
			}
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for docs := 0; ; docs++ {
			var doc map[string]any
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s, document %d: %v", path, docs+1, err)
			}
		}
	}
}

func TestRedisSentinelConfig(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr bool
		queue   string
	}{
		{args: nil, queue: "asynq.RedisClientOpt"},
		{args: []string{"--redis-sentinels", "10.0.0.1:26379, 10.0.0.2:26379", "--redis-master", "blindpack"}, queue: "asynq.RedisFailoverClientOpt"},
		{args: []string{"--redis-sentinels", "10.0.0.1:26379"}, wantErr: true},
		{args: []string{"--redis-master", "blindpack"}, wantErr: true},
	} {
		var s services
		fs := newFlagSet("x")
		s.register(fs)
		if err := parse(fs, tc.args); err != nil {
			t.Fatal(err)
		}
		err := s.redisConf.validate()
		if (err != nil) != tc.wantErr {
			t.Errorf("%v: validate = %v", tc.args, err)
			continue
		}
		if err != nil {
			continue
		}
		if got := fmt.Sprintf("%T", s.redis()); got != tc.queue {
			t.Errorf("%v: queue option %s, want %s", tc.args, got, tc.queue)
		}
		if fo, ok := s.redis().(asynq.RedisFailoverClientOpt); ok {
			if len(fo.SentinelAddrs) != 2 || fo.SentinelAddrs[1] != "10.0.0.2:26379" || fo.MasterName != "blindpack" {
				t.Errorf("failover option %+v", fo)
			}
		}
		c := s.redisConf.client()
		c.Close()
	}
}
