package ocr

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// PacketPage is one page of a review packet to read, and where it came
// from.
type PacketPage struct {
	// PacketPage is the page's number in the packet, 1-based.
	PacketPage int
	// Material is the 0-based index of its material in the submission,
	// Type that material's type, Page its page in the material's file.
	Material int
	Type     string
	Page     int
	// Masks are the applicant's masks on the page, in displayed-page
	// fractions.
	Masks []Rect
}

// PacketOptions configure CheckPacket. Engine is required.
type PacketOptions struct {
	Engine Engine
	// Renderer defaults to &Poppler{}.
	Renderer Renderer
	// DPI is the rendering resolution; default DefaultDPI.
	DPI int
	// Workers is how many pages are rendered and read at once; default 1,
	// which is right inside a queue worker that already runs one task per
	// CPU.
	Workers int
	// Log defaults to discarding.
	Log *slog.Logger
}

// DefaultDPI renders packet pages at 150 dpi: Chinese text of 10.5 pt is
// then 22 pixels high, which Tesseract reads as well as at 300 dpi (see the
// measurements in README), at about two thirds of the time.
const DefaultDPI = 150

// PageStat is what reading one page cost.
type PageStat struct {
	PacketPage int
	Render     time.Duration
	Recognize  time.Duration
}

// CheckPacket renders every listed page of the packet file and looks for
// the identity outside its masks. Hits carry packet page numbers. Stats
// are in the order of pages.
func CheckPacket(ctx context.Context, pdfPath string, pages []PacketPage, id Identity, o PacketOptions) ([]Hit, []PageStat, error) {
	if o.Engine == nil {
		return nil, nil, fmt.Errorf("ocr: check packet: no engine")
	}
	if o.Renderer == nil {
		o.Renderer = &Poppler{}
	}
	if o.DPI <= 0 {
		o.DPI = DefaultDPI
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := NewMatcher(id)
	rd := newReader(o.Engine, id)
	hits := make([][]Hit, len(pages))
	stats := make([]PageStat, len(pages))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	// A batch engine reads a run of pages in one process, the runs shared
	// out among the workers; another engine reads page by page.
	workers := max(o.Workers, 1)
	size := 1
	if _, ok := o.Engine.(BatchEngine); ok {
		size = min(MaxBatch, (len(pages)+workers-1)/workers)
	}
	next := make(chan [2]int)
	for range workers {
		wg.Go(func() {
			for r := range next {
				h, st, err := checkPacketPages(ctx, pdfPath, pages[r[0]:r[1]], m, rd, o)
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					continue
				}
				copy(hits[r[0]:], h)
				copy(stats[r[0]:], st)
				for i, s := range st {
					log.Debug("ocr page read", "packet_page", s.PacketPage, "hits", len(h[i]),
						"render_ms", s.Render.Milliseconds(), "recognize_ms", s.Recognize.Milliseconds())
				}
			}
		})
	}
feed:
	for i := 0; i < len(pages); i += size {
		select {
		case next <- [2]int{i, min(i+size, len(pages))}:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("ocr: check packet: %w", err)
	}
	var all []Hit
	for _, h := range hits {
		all = append(all, h...)
	}
	return all, stats, nil
}

// checkPacketPages reads a run of pages, rendered and prepared one by
// one and read in one go (with a batch engine, one process; each page's
// Recognize is then its share of the run).
func checkPacketPages(ctx context.Context, pdfPath string, pps []PacketPage, m *Matcher, rd reader, o PacketOptions) ([][]Hit, []PageStat, error) {
	hits := make([][]Hit, len(pps))
	stats := make([]PageStat, len(pps))
	imgs := make([]page, len(pps))
	if pr, ok := o.Renderer.(PagesRenderer); ok && len(pps) > 1 && ascending(pps) {
		// One pdftoppm for the run: starting it costs as much as a page.
		nums := make([]int, len(pps))
		for i, pp := range pps {
			nums[i] = pp.PacketPage
		}
		start := time.Now()
		rendered, err := pr.RenderPages(ctx, pdfPath, nums, o.DPI)
		if err != nil {
			return nil, nil, fmt.Errorf("ocr: packet pages %d–%d: %w", nums[0], nums[len(nums)-1], err)
		}
		share := time.Since(start) / time.Duration(len(pps))
		for i, pp := range pps {
			stats[i].PacketPage, stats[i].Render = pp.PacketPage, share
			imgs[i] = rd.prepare(rendered[i], pp.Masks)
			rendered[i] = nil
		}
	} else {
		for i, pp := range pps {
			stats[i].PacketPage = pp.PacketPage
			start := time.Now()
			img, err := o.Renderer.Render(ctx, pdfPath, pp.PacketPage, o.DPI)
			if err != nil {
				return nil, nil, fmt.Errorf("ocr: packet page %d: %w", pp.PacketPage, err)
			}
			stats[i].Render = time.Since(start)
			imgs[i] = rd.prepare(img, pp.Masks)
		}
	}
	start := time.Now()
	words, err := rd.read(ctx, imgs)
	if err != nil {
		return nil, nil, fmt.Errorf("ocr: packet pages %d–%d: %w", pps[0].PacketPage, pps[len(pps)-1].PacketPage, err)
	}
	share := time.Since(start) / time.Duration(len(pps))
	for i, pp := range pps {
		stats[i].Recognize = share
		hits[i] = pageHits(m, pp.PacketPage, words[i], imgs[i].g.Bounds(), pp.Masks)
	}
	return hits, stats, nil
}

// ascending reports whether pps are in strictly ascending page order.
func ascending(pps []PacketPage) bool {
	for i := 1; i < len(pps); i++ {
		if pps[i].PacketPage <= pps[i-1].PacketPage {
			return false
		}
	}
	return true
}
