package ocr_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline/ocr"
)

// BenchmarkCheckPacketPage is the cost of reading one packet page as a
// worker does — render with pdftoppm, prepare, Tesseract, match — for the
// two densest page kinds, scanned at 150 and 300 ppi and rendered at 150
// and 300 dpi. One page takes about a second, so run it with
// -benchtime=3x. child-cpu-s/op is the CPU time of the programs it runs
// (pdftoppm and tesseract, user and system, from getrusage of the
// children): on a shared machine the wall time says little.
func BenchmarkCheckPacketPage(b *testing.B) {
	engine := requireTesseract(b)
	measureFontOnce.Do(func() { measureFont, measureFontErr = loadFont() })
	if measureFontErr != nil {
		b.Fatal(measureFontErr)
	}
	id := measureIDs[0]
	for _, kind := range []pageKind{measureKinds[0], measureKinds[2]} {
		for _, ppi := range []int{150, 300} {
			p, err := kind.Draw(id, synth.Options{PPI: ppi})
			if err != nil {
				b.Fatal(err)
			}
			var masks []ocr.Rect
			for _, r := range append(p.Name, p.Employer...) {
				masks = append(masks, ocr.Rect(r))
			}
			pdf, err := onePagePacket(p, masks, 85)
			if err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(b.TempDir(), "packet.pdf")
			if err := os.WriteFile(path, pdf, 0o600); err != nil {
				b.Fatal(err)
			}
			for _, dpi := range []int{150, 300} {
				b.Run(fmt.Sprintf("%s/scan%d/render%d", kind.Name, ppi, dpi), func(b *testing.B) {
					start := childCPU(b)
					for b.Loop() {
						if _, _, err := ocr.CheckPacket(context.Background(), path,
							[]ocr.PacketPage{{PacketPage: 2, Page: 1, Masks: masks}},
							ocr.Identity{Name: id.Name, Employer: id.Employer}, ocr.PacketOptions{Engine: engine, DPI: dpi}); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric((childCPU(b)-start).Seconds()/float64(b.N), "child-cpu-s/op")
				})
			}
		}
	}
}

// childCPU is the user and system time of this process's finished
// children so far.
func childCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// selfCPU is the user and system time of this process so far: the
// screen, Prepare and the matcher run in it.
func selfCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pageByPage hides an engine's batch mode: the way pages were read before
// batches.
type pageByPage struct{ ocr.Engine }

// BenchmarkPacketCPU reads a whole packet of the eight page kinds of the
// OCR measurement (150-ppi scans, every identity box masked), as a worker
// does: every line page by page (a tesseract process each), every line in
// batches, and in batches through the screen (the default);
// child-cpu-s/page is the CPU the programs took per page, self-cpu-s/page
// this process's (rendering's decode, Prepare, the screen, matching). Run it with
// -benchtime=1x: one packet is about ten seconds of CPU.
func BenchmarkPacketCPU(b *testing.B) {
	engine := requireTesseract(b)
	measureFontOnce.Do(func() { measureFont, measureFontErr = loadFont() })
	if measureFontErr != nil {
		b.Fatal(measureFontErr)
	}
	var pages []synth.Page
	var masks [][]ocr.Rect
	for _, k := range measureKinds {
		p, err := k.Draw(measureIDs[0], synth.Options{PPI: 150})
		if err != nil {
			b.Fatal(err)
		}
		var ms []ocr.Rect
		for _, r := range append(p.Name, p.Employer...) {
			ms = append(ms, ocr.Rect(r))
		}
		pages, masks = append(pages, p), append(masks, ms)
	}
	pdf, err := packetOf(pages, masks, 85)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "packet.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		b.Fatal(err)
	}
	var pps []ocr.PacketPage
	for i := range pages {
		pps = append(pps, ocr.PacketPage{PacketPage: i + 2, Page: i + 1, Masks: masks[i]})
	}
	id := ocr.Identity{Name: measureIDs[0].Name, Employer: measureIDs[0].Employer}
	for _, tc := range []struct {
		name   string
		engine ocr.Engine
	}{{"page-by-page-full-read", pageByPage{engine}}, {"batch-full-read", engine}, {"batch-screened", ocr.Screened(engine)}} {
		b.Run(tc.name, func(b *testing.B) {
			start, self := childCPU(b), selfCPU(b)
			for b.Loop() {
				hits, _, err := ocr.CheckPacket(context.Background(), path, pps, id, ocr.PacketOptions{Engine: tc.engine})
				if err != nil {
					b.Fatal(err)
				}
				if len(hits) != 0 {
					b.Fatalf("hits on a masked packet: %+v", hits)
				}
			}
			b.ReportMetric((childCPU(b)-start).Seconds()/float64(b.N*len(pps)), "child-cpu-s/page")
			b.ReportMetric((selfCPU(b)-self).Seconds()/float64(b.N*len(pps)), "self-cpu-s/page")
		})
	}
}
