package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/ocr"
)

// TestOCRCommand processes the engineering sample with the masks of its
// form's first page removed and reads the packet: exit 1, and the
// document says where.
func TestOCRCommand(t *testing.T) {
	testenv.Tool(t, "tesseract")
	testenv.Tool(t, "pdftoppm")
	ctx := context.Background()
	dir, out := copySample(t, "eng-intermediate"), t.TempDir()
	subPath := filepath.Join(dir, "submission.json")
	var sub map[string]any
	data, err := os.ReadFile(subPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &sub); err != nil {
		t.Fatal(err)
	}
	form := sub["materials"].([]any)[0].(map[string]any)
	var keep []any
	for _, m := range form["masks"].([]any) {
		if m.(map[string]any)["page"].(float64) != 1 {
			keep = append(keep, m)
		}
	}
	form["masks"] = keep
	data, _ = json.Marshal(sub)
	if err := os.WriteFile(subPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// process reads the packet with its OCR gate: held, exit 1, the
	// packet kept aside and never as packet.pdf.
	if err := runProcess(ctx, []string{"--submission", subPath, "--input", dir, "--out", out}); exitCode(err) != exitRejected {
		t.Fatalf("process: exit %d: %v, want %d (held)", exitCode(err), err, exitRejected)
	}
	packet, report, doc := filepath.Join(out, heldPacket), filepath.Join(out, "report.json"), filepath.Join(out, "check.json")
	if rep := readReport(t, report); rep.Status != pipeline.Held || rep.Packet == nil || rep.Packet.Location != "" {
		t.Fatalf("report after the gate: %+v", rep)
	}
	if _, err := os.Stat(filepath.Join(out, "packet.pdf")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a held packet is in packet.pdf: %v", err)
	}
	if data, err := os.ReadFile(filepath.Join(out, "ocr.json")); err != nil {
		t.Fatal(err)
	} else if d, err := ocr.ParseDocument(data); err != nil || len(d.Hits) != 2 {
		t.Fatalf("gate's document: %v, %d hits, want 2", err, len(d.Hits))
	}

	err = runOCR(ctx, []string{"--packet", packet, "--submission", subPath, "--report", report, "--out", doc})
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "2 place(s)") {
		t.Fatalf("exit %d: %v, want 1 with two places (name and employer on packet page 2)", exitCode(err), err)
	}
	data, err = os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ocr.ParseDocument(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range d.Hits {
		if h.PacketPage != 2 || *h.Material != 0 || h.Page != 1 || h.Type != "application_form" {
			t.Errorf("hit %+v", h)
		}
	}

	t.Run("usage", func(t *testing.T) {
		if err := runOCR(ctx, []string{"--packet", packet}); exitCode(err) != 2 {
			t.Errorf("exit %d: %v", exitCode(err), err)
		}
	})
	t.Run("another packet", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other.pdf")
		os.WriteFile(other, []byte("%PDF-1.7"), 0o644)
		err := runOCR(ctx, []string{"--packet", other, "--submission", subPath, "--report", report})
		if err == nil || !strings.Contains(err.Error(), "another packet") {
			t.Errorf("err = %v", err)
		}
	})
}
