package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/workers"
)

// flagCase is one command line: a flag whose value must be set, and the
// arguments the command must see.
type flagCase struct {
	args        []string
	flag, value string
	positional  []string
}

// flagCases holds, for every command, command lines with flags after, and
// before, its arguments. The commands of the development build add theirs
// (dev_test.go).
var flagCases = map[string][]flagCase{
	"process": {{[]string{"--submission", "s.json", "--input", "in", "--out", "o"}, "out", "o", nil}},
	"worker":  {{[]string{"--concurrency", "3", "--redis-addr", "r:1"}, "redis-addr", "r:1", nil}},
	"submit": {
		{[]string{"S.json", "--redis-addr", "r:1"}, "redis-addr", "r:1", []string{"S.json"}},
		{[]string{"--redis-addr", "r:1", "S.json", "--s3-endpoint", "s:2"}, "s3-endpoint", "s:2", []string{"S.json"}},
		{[]string{"--redis-addr=r:1", "S.json", "--create-buckets"}, "create-buckets", "true", []string{"S.json"}},
		{[]string{"S.json", "--api", "https://b.example", "--token-file", "t"}, "token-file", "t", []string{"S.json"}},
	},
	"webhooks": {
		{[]string{"secret", "--bytes", "48"}, "bytes", "48", []string{"secret"}},
		{[]string{"--bytes", "48", "secret"}, "bytes", "48", []string{"secret"}},
	},
	"status": {
		{[]string{"A1-r1", "--campaign", "2024"}, "campaign", "2024", []string{"A1-r1"}},
		{[]string{"--campaign", "2024", "A1"}, "campaign", "2024", []string{"A1"}},
	},
	"reprocess": {
		{[]string{"A1-r1", "--by", "wang", "--accept-page", "1:1", "--reason", "ok"}, "reason", "ok", []string{"A1-r1"}},
		{[]string{"--by", "wang", "A1-r1"}, "by", "wang", []string{"A1-r1"}},
	},
	"tasks": {
		{[]string{"failed", "--queue", "critical"}, "queue", "critical", []string{"failed"}},
		{[]string{"rerun", "--queue", "low", "T1"}, "queue", "low", []string{"rerun", "T1"}},
		{[]string{"--queue", "low", "rerun", "T1"}, "queue", "low", []string{"rerun", "T1"}},
	},
	"serve": {{[]string{"--listen", ":0", "--tokens", "t.yaml"}, "tokens", "t.yaml", nil}},
	"users": {
		{[]string{"add", "E-1", "--role", "reviewer", "--by", "wang"}, "role", "reviewer", []string{"add", "E-1"}},
		{[]string{"--by", "wang", "disable", "E-1"}, "by", "wang", []string{"disable", "E-1"}},
	},
	"tokens": {
		{[]string{"new", "--role", "reviewer", "--subject", "E-1"}, "subject", "E-1", []string{"new"}},
		{[]string{"--role", "reviewer", "new", "--subject", "E-1"}, "role", "reviewer", []string{"new"}},
	},
	"masks": {
		{[]string{"suggest", "f.pdf", "--name", "张三", "--employer", "某公司"}, "employer", "某公司", []string{"f.pdf"}},
		{[]string{"suggest", "--name", "张三", "f.pdf", "--no-ocr", "--employer", "某公司"}, "no-ocr", "true", []string{"f.pdf"}},
	},
	"ocr": {{[]string{"--packet", "p.pdf", "--report", "r.json"}, "report", "r.json", nil}},
	"verify": {
		{[]string{"f.pdf", "--ca", "ca.pem"}, "ca", "ca.pem", []string{"f.pdf"}},
		{[]string{"--identity-name", "张三", "f.pdf", "--identity-employer", "某公司"}, "identity-employer", "某公司", []string{"f.pdf"}},
		// "--" ends the flags: what follows is an argument, whatever it
		// looks like.
		{[]string{"--ca", "ca.pem", "--", "-odd.pdf"}, "ca", "ca.pem", []string{"-odd.pdf"}},
	},
	"result": {
		{[]string{"issue", "--batch", "b.json", "--out", "r.pdf"}, "out", "r.pdf", nil},
		{[]string{"issue", "--tsa", "http://tsa", "--batch", "b.json", "--out", "r.pdf"}, "tsa", "http://tsa", nil},
		{[]string{"certificates", "--batch", "b.json", "--out", "dir"}, "out", "dir", nil},
		{[]string{"enqueue", "--batch", "b.json", "--redis-addr", "r:1"}, "redis-addr", "r:1", nil},
	},
	"keys": {
		{[]string{"init", "--dir", "k"}, "dir", "k", []string{"init"}},
		{[]string{"--dir", "k", "init", "--force"}, "force", "true", []string{"init"}},
		{[]string{"revoke", "--dir", "k", "--reason", "keyCompromise"}, "reason", "keyCompromise", []string{"revoke"}},
		{[]string{"--compromised-at", "2024-11-01T00:00:00Z", "revoke", "--dir", "k"}, "compromised-at", "2024-11-01T00:00:00Z", []string{"revoke"}},
	},
	"sample": {
		{[]string{"--campaign", "2024", "--rate", "0.1", "--by", "wang"}, "rate", "0.1", nil},
		{[]string{"--seed", "00ff", "--campaign", "2024", "--rate", "0.1", "--by", "wang"}, "seed", "00ff", nil},
	},
}

// TestFlagsAnywhere runs every command with flags before and after its
// arguments and checks what it parsed, stopping each right after parsing.
func TestFlagsAnywhere(t *testing.T) {
	errStop := errors.New("stopped after parsing")
	var got *flag.FlagSet
	parsed = func(fs *flag.FlagSet) error { got = fs; return errStop }
	t.Cleanup(func() { parsed = nil })
	for _, c := range commands {
		if c.dev && !devBuild {
			continue // not in this build: see TestProductionBinary
		}
		cases, ok := flagCases[c.name]
		if !ok {
			t.Errorf("command %s has no flag cases", c.name)
			continue
		}
		for _, fc := range cases {
			name := c.name + " " + strings.Join(fc.args, " ")
			got = nil
			if err := c.run(context.Background(), fc.args); !errors.Is(err, errStop) {
				t.Errorf("%s: %v (exit %d), want it parsed", name, err, exitCode(err))
				continue
			}
			f := got.Lookup(fc.flag)
			if f == nil || f.Value.String() != fc.value {
				t.Errorf("%s: --%s is %v, want %q", name, fc.flag, f, fc.value)
			}
			if args := got.Args(); !slices.Equal(args, fc.positional) && !(len(args) == 0 && len(fc.positional) == 0) {
				t.Errorf("%s: arguments %q, want %q", name, args, fc.positional)
			}
		}
	}
}

// TestFlagsRepeatedOnce: a repeatable flag on both sides of an argument is
// taken once per time it is given.
func TestFlagsRepeatedOnce(t *testing.T) {
	errStop := errors.New("stopped after parsing")
	var got *flag.FlagSet
	parsed = func(fs *flag.FlagSet) error { got = fs; return errStop }
	t.Cleanup(func() { parsed = nil })
	err := runReprocess(context.Background(), []string{"--accept-page", "1:1", "A1-r1", "--by", "w", "--accept-page", "2:3", "--reason", "ok"})
	if !errors.Is(err, errStop) {
		t.Fatal(err)
	}
	if pages := *got.Lookup("accept-page").Value.(*pageList); len(pages) != 2 || pages[1].Material != 2 || pages[1].Page != 3 {
		t.Errorf("pages %+v", pages)
	}
}

// TestFlagsOnlyCommandsRefuseArguments: a command that takes no arguments
// says so about a stray one, instead of ignoring it (or, as the flag
// package alone does, every flag after it).
func TestFlagsOnlyCommandsRefuseArguments(t *testing.T) {
	for _, args := range [][]string{
		{"process", "extra", "--submission", "s.json", "--input", "in", "--out", "o"},
		{"worker", "--concurrency", "1", "extra"},
		{"serve", "--tokens", "t.yaml", "extra"},
		{"result", "issue", "--batch", "b.json", "extra", "--out", "r.pdf"},
		{"result", "enqueue", "extra", "--batch", "b.json"},
		{"keys", "init", "extra", "--dir", "k"},
		{"result", "certificates", "--batch", "b.json", "extra", "--out", "d"},
		{"sample", "--campaign", "2024", "extra", "--rate", "0.1", "--by", "w"},
		{"ocr", "--packet", "p.pdf", "--submission", "s.json", "--report", "r.json", "extra"},
	} {
		i := slices.IndexFunc(commands, func(c command) bool { return c.name == args[0] })
		err := commands[i].run(context.Background(), args[1:])
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "extra") && !strings.Contains(err.Error(), "usage") {
			t.Errorf("%q: exit %d, %v; want a usage error", args, exitCode(err), err)
		}
	}
}

// TestSubmitFlagsAfterFile is the command line of the upload service's
// scripts, against the real Redis and S3 server: the submission file
// first, the services after it.
func TestSubmitFlagsAfterFile(t *testing.T) {
	redisAddr := testenv.Redis(t)
	s3 := testenv.S3Server(t)
	dir := copySample(t, "eng-intermediate")
	doc, err := os.ReadFile(filepath.Join(dir, "submission.json"))
	if err != nil {
		t.Fatal(err)
	}
	id := "A2024-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10)
	doc = []byte(strings.ReplaceAll(string(doc), "A2024-000123", id))
	path := filepath.Join(dir, "s.json")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	suffix := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	out, err := captureStdout(t, func() error {
		return runSubmit(context.Background(), []string{path, "--redis-addr", redisAddr, "--redis-db", "6",
			"--s3-endpoint", s3.Endpoint, "--s3-access-key", s3.AccessKey, "--s3-secret-key", s3.SecretKey,
			"--create-buckets", "--bucket-uploads", "fl-up-" + suffix, "--bucket-packets", "fl-pk-" + suffix,
			"--bucket-reports", "fl-rp-" + suffix, "--bucket-results", "fl-rs-" + suffix})
	})
	if err != nil {
		t.Fatalf("submit S.json --flags: exit %d: %v", exitCode(err), err)
	}
	if !strings.Contains(out, "queued: "+id+"-r1") {
		t.Errorf("output %q", out)
	}
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: redisAddr, DB: 6})
	defer insp.Close()
	if _, err := insp.GetTaskInfo(workers.QueueDefault, id+"-r1"); err != nil {
		t.Errorf("no task on the Redis the flags named: %v", err)
	}
	insp.DeleteTask(workers.QueueDefault, id+"-r1")
}
