package workers_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/workers"
)

// testClock is the injectable clock of the return-loop tests.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time)         { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var beijing = time.FixedZone("CST", 8*3600)

// applicant writes a copy of the engineering sample as another applicant's
// submission; broken decides whether its work summary is blurred.
func applicant(t *testing.T, applicantID, submissionID string, blurred bool) ([]byte, string) {
	t.Helper()
	doc, src := sampleDoc(t, "eng-intermediate")
	sub, err := pipeline.ParseSubmission(doc)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyDir(t, src, dir)
	sub.ApplicantID, sub.SubmissionID = applicantID, submissionID
	if blurred {
		path := filepath.Join(dir, "summary.jpg")
		data, _ := os.ReadFile(path)
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		blur, _ := synth.EncodeJPEG(synth.GaussianBlur(img.(*image.Gray), 0.4*150/25.4), 85)
		os.WriteFile(path, blur, 0o644)
	}
	out, _ := sub.Marshal()
	return out, dir
}

func codes(rep *pipeline.Report) []finding.Code {
	var out []finding.Code
	for _, f := range rep.Findings {
		out = append(out, f.Code)
	}
	return out
}

func TestReturnLoop(t *testing.T) {
	clk := &testClock{t: time.Date(2024, 9, 20, 10, 0, 0, 0, beijing)}
	e := newEnvWith(t, nil, clk.Now)
	ctx := context.Background()
	submit := func(applicantID, submissionID string, blurred bool) *pipeline.Report {
		t.Helper()
		doc, dir := applicant(t, applicantID, submissionID, blurred)
		p, err := e.submitter.SubmitDir(ctx, doc, dir)
		if err != nil {
			t.Fatal(err)
		}
		return e.report(t, p)
	}

	t.Run("returned, then fixed within 48 hours", func(t *testing.T) {
		rep := submit("A1", "A1-r1", true)
		if rep.Status != pipeline.Rejected || !slices.Contains(codes(rep), finding.Blurry) {
			t.Fatalf("r1: %s %v", rep.Status, codes(rep))
		}
		app, _ := e.state.Get(ctx, "2024", "A1")
		if app.Status != pipeline.AppReturned || app.Returns != 1 || !app.Deadline.Equal(clk.Now().Add(48*time.Hour).Truncate(time.Second)) {
			t.Fatalf("after r1: %+v", app)
		}
		if _, _, err := e.buckets.Uploads.Get(ctx, workers.ContactSheetKey("2024", "A1", "A1-r1")); err != nil {
			t.Errorf("no contact sheet: %v", err)
		}
		// Fixed after the submission period closed, but within 48 hours
		// of the return.
		clk.Set(time.Date(2024, 10, 1, 9, 0, 0, 0, beijing))
		clk.Set(app.Deadline.Add(-time.Hour))
		if rep := submit("A1", "A1-r2", false); rep.Status != pipeline.Accepted {
			t.Fatalf("r2: %s %v", rep.Status, codes(rep))
		}
		if app, _ := e.state.Get(ctx, "2024", "A1"); app.Status != pipeline.AppAccepted || app.Returns != 1 {
			t.Fatalf("after r2: %+v", app)
		}
	})

	t.Run("an older submission whose run ends after a newer one's", func(t *testing.T) {
		clk.Set(time.Date(2024, 9, 20, 12, 0, 0, 0, beijing))
		t0 := clk.Now()
		submit("A9", "A9-r1", true)
		// r3 is submitted at t0+2h and decided (returned); r2, submitted
		// at t0+1h, is decided after it — e.g. it waited longer in the queue.
		clk.Set(t0.Add(2 * time.Hour))
		if rep := submit("A9", "A9-r3", true); rep.Status != pipeline.Rejected {
			t.Fatalf("r3: %s", rep.Status)
		}
		clk.Set(t0.Add(time.Hour))
		rep := submit("A9", "A9-r2", false)
		if rep.Status != pipeline.Accepted || rep.Packet == nil || rep.Packet.Location != "" {
			t.Fatalf("late r2: %s %+v", rep.Status, rep.Packet)
		}
		if _, err := e.buckets.Packets.Stat(ctx, storage.PacketKey("2024", rep.AnonCode)); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("the superseded run's packet is published: %v", err)
		}
		app, _ := e.state.Get(ctx, "2024", "A9")
		if app.Status != pipeline.AppReturned || app.Last != "A9-r3" || app.Returns != 2 || app.Submissions["A9-r2"] != pipeline.Accepted {
			t.Fatalf("the superseded run decided the application: %+v", app)
		}
	})

	t.Run("refused after three returns", func(t *testing.T) {
		clk.Set(time.Date(2024, 9, 21, 10, 0, 0, 0, beijing))
		for _, id := range []string{"A2-r1", "A2-r2", "A2-r3"} {
			if rep := submit("A2", id, true); rep.Status != pipeline.Rejected {
				t.Fatalf("%s: %s", id, rep.Status)
			}
			clk.Advance(time.Hour)
		}
		rep := submit("A2", "A2-r4", false)
		if rep.Status != pipeline.Refused || !slices.Contains(codes(rep), pipeline.TooManyReturns) || rep.Packet != nil {
			t.Fatalf("r4: %s %v", rep.Status, codes(rep))
		}
	})

	t.Run("late resubmission and the sweep", func(t *testing.T) {
		clk.Set(time.Date(2024, 9, 22, 10, 0, 0, 0, beijing))
		submit("A3", "A3-r1", true)
		clk.Advance(49 * time.Hour)
		rep := submit("A3", "A3-r2", false)
		if rep.Status != pipeline.Refused || !slices.Contains(codes(rep), pipeline.ResubmissionOverdue) {
			t.Fatalf("late r2: %s %v", rep.Status, codes(rep))
		}
		if _, err := e.client.Enqueue(workers.NewSweepTask()); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if app, _ := e.state.Get(ctx, "2024", "A3"); app.Status == pipeline.AppAbandoned {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if app, _ := e.state.Get(ctx, "2024", "A3"); app.Status != pipeline.AppAbandoned {
			t.Fatalf("not abandoned: %+v", app)
		}
	})

	t.Run("outside the submission period", func(t *testing.T) {
		clk.Set(time.Date(2024, 10, 2, 10, 0, 0, 0, beijing))
		rep := submit("A4", "A4-r1", false)
		if rep.Status != pipeline.Refused || !slices.Contains(codes(rep), pipeline.OutsideSubmissionWindow) {
			t.Fatalf("%s %v", rep.Status, codes(rep))
		}
	})

	t.Run("an administrator overrides a blurred page", func(t *testing.T) {
		clk.Set(time.Date(2024, 9, 25, 10, 0, 0, 0, beijing))
		rep := submit("A5", "A5-r1", true)
		if rep.Status != pipeline.Rejected {
			t.Fatalf("r1: %s", rep.Status)
		}
		var page pipeline.Override
		for _, f := range rep.Findings {
			if f.Code == finding.Blurry {
				page = pipeline.Override{Material: *f.Material, Page: f.Page, Reason: "字迹可辨，签名略虚"}
			}
		}
		id, err := workers.Reprocess(ctx, e.client, e.state, "A5-r1", "admin:wang.li", []pipeline.Override{page})
		if err != nil {
			t.Fatal(err)
		}
		e.waitTask(t, workers.QueueCritical, id)
		p := workers.ProcessPayload{Campaign: "2024", ApplicantID: "A5", SubmissionID: "A5-r1"}
		rep = e.report(t, p)
		if rep.Status != pipeline.Accepted || len(rep.Overrides) != 1 || rep.Overrides[0].By != "admin:wang.li" {
			t.Fatalf("after override: %s %+v", rep.Status, rep.Overrides)
		}
		app, _ := e.state.Get(ctx, "2024", "A5")
		if app.Status != pipeline.AppAccepted || app.Returns != 0 {
			t.Errorf("the overridden return still counts: %+v", app)
		}
		trail, _ := e.state.Trail(ctx, "2024", "A5", 0)
		var actions []string
		for _, ev := range trail {
			actions = append(actions, ev.Action)
			if ev.Action == "override" && (!strings.Contains(ev.Detail, "字迹可辨") || ev.Actor != "admin:wang.li") {
				t.Errorf("override event %+v", ev)
			}
		}
		want := []string{"accepted", "override", "reprocess", "rejected", "submitted"}
		if !slices.Equal(actions, want) {
			t.Errorf("audit trail %v, want %v (newest first)", actions, want)
		}

		// Reprocessed without the override (as after a threshold change),
		// the page fails again: the published packet is taken down.
		key := "2024/" + rep.AnonCode + "/packet.pdf"
		if _, err := e.buckets.Packets.Stat(ctx, key); err != nil {
			t.Fatalf("no packet after acceptance: %v", err)
		}
		id, err = workers.Reprocess(ctx, e.client, e.state, "A5-r1", "admin:wang.li", nil)
		if err != nil {
			t.Fatal(err)
		}
		e.waitTask(t, workers.QueueCritical, id)
		if rep := e.report(t, p); rep.Status != pipeline.Rejected {
			t.Fatalf("after reprocess without override: %s", rep.Status)
		}
		if _, err := e.buckets.Packets.Stat(ctx, key); err == nil {
			t.Error("the packet of a submission that no longer passes is still published")
		}
		if trail, _ := e.state.Trail(ctx, "2024", "A5", 2); len(trail) != 2 || trail[1].Action != "withdrawn" {
			t.Errorf("withdrawal not audited: %+v", trail)
		}
	})
}
