package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/workers"
)

// Sizes pages are drawn at: thumbnails fit a grid cell on a laptop (twice
// over, for sharp screens); a page shown large is A4 at 150 ppi, where
// the clarity check measures it.
var (
	thumbSize = image.Pt(220, 311)
	largeSize = image.Pt(1240, 1754)
)

// Thumbnails are kept in memory a while, so that the grid's images and
// the next page view do not read and decode every file again; they are
// never written anywhere (they show originals).
const (
	sheetTTL     = 10 * time.Minute
	sheetEntries = 16
	// viewedEvery is how often thumbnail views by one administrator of one
	// submission are audited: once for the burst of a page's grid.
	viewedEvery = 10 * time.Minute
)

type sheetPage struct {
	material, page int
	typ            string
	problem        finding.Code
	png            []byte
	w, h           int
}

type sheet struct {
	ready chan struct{}
	pages []sheetPage
	err   error
	made  time.Time
}

type sheetCache struct {
	mu sync.Mutex
	m  map[string]*sheet
}

// sheet returns the thumbnails of a submission, drawing them once for any
// number of requests that ask at the same time.
func (c *Console) sheet(ctx context.Context, l *loaded) (*sheet, error) {
	c.sheets.mu.Lock()
	if c.sheets.m == nil {
		c.sheets.m = map[string]*sheet{}
	}
	sh := c.sheets.m[l.id]
	if sh != nil {
		select {
		case <-sh.ready:
			if time.Since(sh.made) > sheetTTL {
				sh = nil // stale
			}
		default: // being drawn
		}
	}
	if sh == nil {
		sh = &sheet{ready: make(chan struct{}), made: time.Now()}
		c.evictLocked()
		c.sheets.m[l.id] = sh
		// Drawn apart from the request that asked first: the others wait
		// for the same result, and a client going away must not fail them.
		go c.drawSheet(context.WithoutCancel(ctx), l, sh)
	}
	c.sheets.mu.Unlock()
	select {
	case <-sh.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if sh.err != nil {
		return nil, sh.err
	}
	return sh, nil
}

// evictLocked keeps at most sheetEntries-1 sheets, dropping the oldest.
func (c *Console) evictLocked() {
	for len(c.sheets.m) >= sheetEntries {
		var oldest string
		for id, s := range c.sheets.m {
			if oldest == "" || s.made.Before(c.sheets.m[oldest].made) {
				oldest = id
			}
		}
		delete(c.sheets.m, oldest)
	}
}

func (c *Console) drawSheet(ctx context.Context, l *loaded, sh *sheet) {
	defer func() {
		if sh.err != nil {
			// Not kept: the next request tries again.
			c.sheets.mu.Lock()
			if c.sheets.m[l.id] == sh {
				delete(c.sheets.m, l.id)
			}
			c.sheets.mu.Unlock()
		}
		close(sh.ready)
	}()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c.render <- struct{}{}
	defer func() { <-c.render }()
	start := time.Now()
	pages, err := pipeline.DisplayPages(ctx, l.sub, workers.Source(c.d.Buckets.Uploads), c.d.Limits, thumbSize)
	if err != nil {
		sh.err = err
		return
	}
	for _, p := range pages {
		sp := sheetPage{material: p.Material, page: p.Page, typ: p.Type, problem: p.Problem}
		if p.Image != nil {
			var b bytes.Buffer
			if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, p.Image); err != nil {
				sh.err = err
				return
			}
			sp.png, sp.w, sp.h = b.Bytes(), p.Image.Bounds().Dx(), p.Image.Bounds().Dy()
		}
		sh.pages = append(sh.pages, sp)
	}
	c.log.Debug("console: thumbnails drawn", "submission", l.id, "pages", len(pages), "ms", time.Since(start).Milliseconds())
}

// pageParams reads {material} and {page}: material 0-based, page 1-based.
func pageParams(r *http.Request) (int, int, bool) {
	m, err1 := strconv.Atoi(r.PathValue("material"))
	p, err2 := strconv.Atoi(r.PathValue("page"))
	return m, p, err1 == nil && err2 == nil && m >= 0 && m < 10000 && p >= 1 && p < 100000
}

// loadPage loads a submission for one of its pages, answering the errors.
func (c *Console) loadPage(w http.ResponseWriter, r *http.Request, v *visitor) (*loaded, int, int, bool) {
	m, p, ok := pageParams(r)
	if !ok {
		c.errorPage(w, r, v, http.StatusNotFound, "没有这一页。", "No such page.")
		return nil, 0, 0, false
	}
	l, ok := c.loadOrFail(w, r, v)
	switch {
	case !ok:
		return nil, 0, 0, false
	case l.sub == nil || m >= len(l.sub.Materials):
		c.errorPage(w, r, v, http.StatusNotFound, "没有这一页。", "No such page.")
		return nil, 0, 0, false
	}
	return l, m, p, true
}

// thumb serves one thumbnail. Thumbnails show originals, small: the first
// of a burst is audited (the grid asks for every page at once).
func (c *Console) thumb(w http.ResponseWriter, r *http.Request, v *visitor) {
	l, m, p, ok := c.loadPage(w, r, v)
	if !ok {
		return
	}
	sh, err := c.sheet(r.Context(), l)
	if err != nil {
		c.internalError(w, r, "thumbnails", err)
		return
	}
	for _, sp := range sh.pages {
		if sp.material != m || sp.page != p || sp.png == nil {
			continue
		}
		first, err := c.d.State.FirstIn(r.Context(), "viewed:"+v.Actor()+":"+l.id, viewedEvery)
		if err == nil && first {
			err = c.audit(r, v, l, "thumbnails of every page (originals, masks outlined)")
		}
		if err != nil {
			c.internalError(w, r, "audit view", err)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(sp.png)
		return
	}
	c.errorPage(w, r, v, http.StatusNotFound, "没有这一页。", "No such page.")
}

// audit records a view of originals in the application's trail. No
// audit, no view: the image is sent only once this succeeded.
func (c *Console) audit(r *http.Request, v *visitor, l *loaded, detail string) error {
	ev := state.Event{Actor: v.Actor(), Action: "viewed", Submission: l.id, Detail: detail, From: c.d.ClientAddr(r)}
	return c.d.State.Audit(r.Context(), l.loc.Campaign, l.loc.ApplicantID, ev)
}

type pageView struct {
	ID                 string
	Position, Page     int
	Type               label
	Image              string
	Labels             []string
	Overridden         bool
	Masks              int
	Prev, Next, Back   string
	PrevName, NextName string
}

func (p *pageView) Title() string { return fmt.Sprintf("%s · %d. p%d", p.ID, p.Position, p.Page) }

// pageView is the page of one page shown large. The image itself is
// served (and audited) by pageImage.
func (c *Console) pageView(w http.ResponseWriter, r *http.Request, v *visitor) {
	l, m, p, ok := c.loadPage(w, r, v)
	if !ok {
		return
	}
	base := Prefix + "submissions/" + l.id
	pv := &pageView{ID: l.id, Position: m + 1, Page: p, Type: c.material(l.sub.Materials[m].Type), Back: base,
		Image: fmt.Sprintf("%s/pages/%d/%d/image", base, m, p)}
	for _, mk := range l.sub.Materials[m].Masks {
		if mk.Page == p {
			pv.Masks++
		}
	}
	if l.rep != nil {
		for _, f := range l.rep.Findings {
			if f.Material != nil && *f.Material == m && (f.Page == p || f.Page == 0) {
				pv.Labels = append(pv.Labels, findingLabel(f))
			}
		}
		for _, o := range l.rep.Overrides {
			pv.Overridden = pv.Overridden || o.Material == m && o.Page == p
		}
	}
	// Neighbours from the thumbnails, when they are at hand.
	if sh, err := c.sheet(r.Context(), l); err == nil {
		for i, sp := range sh.pages {
			if sp.material != m || sp.page != p {
				continue
			}
			if i > 0 && sh.pages[i-1].png != nil {
				q := sh.pages[i-1]
				pv.Prev = fmt.Sprintf("%s/pages/%d/%d", base, q.material, q.page)
				pv.PrevName = fmt.Sprintf("%d. p%d", q.material+1, q.page)
			}
			if i+1 < len(sh.pages) && sh.pages[i+1].png != nil {
				q := sh.pages[i+1]
				pv.Next = fmt.Sprintf("%s/pages/%d/%d", base, q.material, q.page)
				pv.NextName = fmt.Sprintf("%d. p%d", q.material+1, q.page)
			}
		}
	}
	c.show(w, r, v, http.StatusOK, "page", pv)
}

// pageImage draws one page large, masks outlined, and serves it. Every
// request is a view of an original and is audited first.
func (c *Console) pageImage(w http.ResponseWriter, r *http.Request, v *visitor) {
	l, m, p, ok := c.loadPage(w, r, v)
	if !ok {
		return
	}
	ctx := r.Context()
	select {
	case c.render <- struct{}{}:
	case <-ctx.Done():
		return
	}
	dp, err := pipeline.DisplayPage(ctx, l.sub, workers.Source(c.d.Buckets.Uploads), c.d.Limits, largeSize, m, p)
	<-c.render
	switch {
	case errors.Is(err, pipeline.ErrNoPage) || err == nil && dp.Image == nil:
		c.errorPage(w, r, v, http.StatusNotFound, "这一页无法显示。", "This page cannot be shown.")
		return
	case err != nil:
		c.internalError(w, r, "draw page", err)
		return
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, dp.Image, &jpeg.Options{Quality: 85}); err != nil {
		c.internalError(w, r, "encode page", err)
		return
	}
	// The type is named only when the policy knows it: an unknown one is
	// the applicant's text, and the trail holds none of that.
	typ := l.sub.Materials[m].Type
	if _, known := c.pol.Material(typ); !known {
		typ = "unknown type"
	}
	detail := fmt.Sprintf("material %d (%s) page %d: original, masks outlined", m, typ, p)
	if err := c.audit(r, v, l, detail); err != nil {
		c.internalError(w, r, "audit view", err)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Write(b.Bytes())
}
