package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/state"
)

// sampleRedisDB is the database of the spot-check tests on the test Redis.
const sampleRedisDB = 9

// TestSampleCommand draws a 10 % sample of 120 accepted applications on
// the real Redis through the command line: the seed is in the campaign's
// audit trail before the draw, the same seed gives the same list, another
// seed another, and each drawn applicant's own trail says so.
func TestSampleCommand(t *testing.T) {
	ctx := context.Background()
	addr := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: sampleRedisDB})
	defer rdb.Close()
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	st := state.New(rdb, state.Options{})
	for i := range 130 {
		outcome := pipeline.Accepted
		if i >= 120 {
			outcome = pipeline.Rejected // not in the population
		}
		id := fmt.Sprintf("A2024-%06d", i+1)
		if _, err := st.Record(ctx, "2024", id, id+"-r1", outcome, 48*time.Hour, state.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (string, []string) {
		t.Helper()
		out, err := captureStdout(t, func() error {
			return runSample(ctx, append([]string{"--redis-addr", addr, "--redis-db", fmt.Sprint(sampleRedisDB), "--campaign", "2024", "--by", "wang.li"}, args...))
		})
		if err != nil {
			t.Fatalf("sample %v: %v\n%s", args, err, out)
		}
		drawn := regexp.MustCompile(`(?m)^\s+\d+\s+(A2024-\d{6})\s`).FindAllStringSubmatch(out, -1)
		var ids []string
		for _, m := range drawn {
			ids = append(ids, m[1])
		}
		return out, ids
	}
	out, first := run("--rate", "0.1")
	if len(first) != 12 || !strings.Contains(out, "120 accepted applications") {
		t.Fatalf("drew %d, want 12 of 120:\n%s", len(first), out)
	}
	seed := regexp.MustCompile(`--seed ([0-9a-f]{64})`).FindStringSubmatch(out)
	if seed == nil {
		t.Fatalf("no seed to re-run with:\n%s", out)
	}
	// The seed was recorded, then the draw: in that order.
	trail, err := st.CampaignTrail(ctx, "2024", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != 2 || trail[1].Action != "spot_check_seed" || trail[0].Action != "spot_check_drawn" ||
		!strings.Contains(trail[1].Detail, "seed="+seed[1]) || !strings.Contains(trail[0].Detail, "seed entry "+trail[1].ID) ||
		trail[1].Actor != "admin:wang.li" {
		t.Errorf("campaign trail: %+v", trail)
	}
	if own, _ := st.Trail(ctx, "2024", first[0], 1); len(own) != 1 || own[0].Action != "spot_check_selected" {
		t.Errorf("drawn applicant's trail: %+v", own)
	}

	_, again := run("--rate", "0.1", "--seed", seed[1])
	if strings.Join(again, ",") != strings.Join(first, ",") {
		t.Errorf("same seed, another list:\n%v\n%v", first, again)
	}
	_, other := run("--rate", "0.1")
	if strings.Join(other, ",") == strings.Join(first, ",") {
		t.Errorf("a new seed drew the same list: %v", other)
	}
	for _, id := range first {
		if n, _ := fmt.Sscanf(id, "A2024-%06d", new(int)); n != 1 || id > "A2024-000120" {
			t.Errorf("%s is not an accepted application", id)
		}
	}

	for _, bad := range [][]string{{"--rate", "0"}, {"--rate", "1.5"}, {"--rate", "0.1", "--seed", "xyz"}} {
		_, err := captureStdout(t, func() error {
			return runSample(ctx, append([]string{"--redis-addr", addr, "--redis-db", fmt.Sprint(sampleRedisDB), "--campaign", "2024", "--by", "wang.li"}, bad...))
		})
		if exitCode(err) != 2 {
			t.Errorf("sample %v: exit %d (%v), want 2", bad, exitCode(err), err)
		}
	}
	if _, err := captureStdout(t, func() error {
		return runSample(ctx, []string{"--redis-addr", addr, "--redis-db", fmt.Sprint(sampleRedisDB), "--campaign", "2031", "--rate", "0.1", "--by", "wang.li"})
	}); err == nil || !strings.Contains(err.Error(), "no accepted application") {
		t.Errorf("empty campaign: %v", err)
	}
}
