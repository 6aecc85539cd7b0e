package stamp_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/blindpack/blindpack/internal/pdfcheck"
	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/internal/samplepacket"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/stamp"
	"github.com/blindpack/blindpack/pipeline/verify"
)

func loadFont(t testing.TB) *pdfkit.Font { return samplepacket.Font(t) }

// packet runs the pipeline on a committed sample.
var packet = samplepacket.Build

func copyFor(t testing.TB, pkt []byte, m stamp.Mark) ([]byte, stamp.Result) {
	t.Helper()
	var out bytes.Buffer
	res, err := stamp.Copy(&out, bytes.NewReader(pkt), int64(len(pkt)), m, loadFont(t))
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), res
}

func TestCopiesAreStampedPerReviewerAndVerify(t *testing.T) {
	at := time.Date(2024, 10, 3, 17, 15, 42, 0, time.FixedZone("CST", 8*3600))
	for _, name := range synth.SampleDirs {
		t.Run(name, func(t *testing.T) {
			sub, rep, pkt := packet(t, name)
			start := time.Now()
			a, ra := copyFor(t, pkt, stamp.Mark{Reviewer: "E-0042", At: at})
			t.Logf("%d-page packet of %d bytes stamped in %v", ra.Pages, len(pkt), time.Since(start))
			b, rb := copyFor(t, pkt, stamp.Mark{Reviewer: "E-0077", At: at})
			again, _ := copyFor(t, pkt, stamp.Mark{Reviewer: "E-0042", At: at})
			if !bytes.Equal(a, again) {
				t.Error("the same reviewer and time gave different copies")
			}
			if bytes.Equal(a, b) || ra.FileID == rb.FileID {
				t.Error("two reviewers got the same copy")
			}
			if ra.PacketSHA256 != rep.Packet.SHA256 || ra.Pages != rep.Packet.Pages {
				t.Errorf("result %+v does not describe packet %+v", ra, rep.Packet)
			}
			id := stamp.FileID("E-0042", rep.Packet.SHA256)
			if ra.FileID != hex.EncodeToString(id[:]) || !bytes.Contains(a, []byte("/ID [<"+ra.FileID+">")) {
				t.Errorf("invisible mark %s not the copy's /ID", ra.FileID)
			}

			// The fail-closed verifier accepts the copy as it accepts the packet:
			// no identity, masks still black, one revision, only our content.
			for who, c := range map[string][]byte{"E-0042": a, "E-0077": b} {
				if probs, err := verify.Packet(context.Background(), bytes.NewReader(c), int64(len(c)), pipeline.Expectation(sub, rep.Packet)); err != nil || len(probs) > 0 {
					t.Errorf("%s's copy fails verification: %v", who, probs)
				}
			}

			path := pdfcheck.File(t, a)
			pdfcheck.QPDFCheck(t, path)
			for page := 1; page <= ra.Pages; page++ {
				text := pdfcheck.Text(t, path, page, page)
				if !strings.Contains(text, "评审专家E-0042·2024-10-0309:15Z·仅供评审") {
					t.Errorf("page %d lacks the stamp (UTC time): %q", page, text)
				}
				if strings.Contains(text, "E-0077") || strings.Contains(text, sub.Identity.Name) {
					t.Errorf("page %d names someone else", page)
				}
			}
			if got := pdfcheck.Text(t, pdfcheck.File(t, b), 1, 1); !strings.Contains(got, "评审专家E-0077") {
				t.Errorf("E-0077's cover lacks its stamp: %q", got)
			}

			// Images are copied, not re-encoded: pdfimages lists the same.
			orig := pdfcheck.File(t, pkt)
			if oi, ci := pdfcheck.Images(t, orig), pdfcheck.Images(t, path); len(oi) != len(ci) {
				t.Errorf("%d images in the packet, %d in the copy", len(oi), len(ci))
			}

			// Rendered, the stamp shows along the top of a scanned page.
			page := rep.Packet.Index[0].Pages[0][1]
			before, after := pdfcheck.Render(t, orig, page, 50), pdfcheck.Render(t, path, page, 50)
			if d := differing(before, after, 0.03); d < 20 {
				t.Errorf("the stamp changed only %d pixels of the top band of page %d", d, page)
			}
		})
	}
}

// differing counts pixels of the top band (a fraction of the height) that
// differ noticeably between two renderings.
func differing(a, b image.Image, band float64) int {
	r := a.Bounds()
	n := 0
	for y := r.Min.Y; y < r.Min.Y+int(float64(r.Dy())*band)+1; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ar, ag, ab, _ := a.At(x, y).RGBA()
			br, bg, bb, _ := b.At(x, y).RGBA()
			if diff(ar, br)+diff(ag, bg)+diff(ab, bb) > 3*0x2000 {
				n++
			}
		}
	}
	return n
}

func diff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestMark(t *testing.T) {
	at := time.Date(2024, 10, 3, 9, 15, 59, 0, time.UTC)
	if got, want := (stamp.Mark{Reviewer: "E-0042", At: at}).Text(), "评审专家 E-0042 · 2024-10-03 09:15Z · 仅供评审"; got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		name string
		m    stamp.Mark
	}{
		{"no reviewer", stamp.Mark{At: at}},
		{"path in reviewer", stamp.Mark{Reviewer: "../E-1", At: at}},
		{"slash", stamp.Mark{Reviewer: "E/1", At: at}},
		{"no time", stamp.Mark{Reviewer: "E-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := stamp.Copy(&out, bytes.NewReader(nil), 0, tc.m, loadFont(t))
			if !errors.Is(err, stamp.ErrInvalidMark) {
				t.Errorf("error %v, want ErrInvalidMark", err)
			}
		})
	}
}
