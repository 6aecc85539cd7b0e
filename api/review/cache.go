package review

import (
	"bytes"
	"container/list"
	"context"
	"fmt"
	"image/jpeg"
	"io"
	"os"
	"sync"

	"github.com/blindpack/blindpack/storage"
)

// drawn returns page n of copy c as a JPEG, from the cache or drawn now.
func (p *Portal) drawn(ctx context.Context, c Copy, n int) ([]byte, error) {
	key := fmt.Sprintf("%s/%d/%d", c.SHA256, p.cfg.DPI, n)
	return p.cache.get(key, func() ([]byte, error) {
		path, release, err := p.files.get(ctx, c)
		if err != nil {
			return nil, err
		}
		defer release()
		img, err := p.d.Renderer.Render(ctx, path, n, p.cfg.DPI)
		if err != nil {
			return nil, fmt.Errorf("review: draw page %d: %w", n, err)
		}
		var b bytes.Buffer
		// Quality 85: the stamp's small print and a scan's handwriting
		// stay legible at a fifth of PNG's size.
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
			return nil, fmt.Errorf("review: encode page %d: %w", n, err)
		}
		return b.Bytes(), nil
	})
}

// pageCache keeps drawn pages in memory, least recently used first out,
// within a byte budget. Keys carry the copy's digest, so one reviewer's
// pages are never served for another's copy, and a new copy misses.
// Drawing the same page twice at once is done once.
type pageCache struct {
	mu       sync.Mutex
	max, n   int64
	ll       *list.List
	m        map[string]*list.Element
	inflight map[string]*call
}

type entry struct {
	key  string
	data []byte
}

type call struct {
	done chan struct{}
	data []byte
	err  error
}

func newPageCache(max int64) *pageCache {
	return &pageCache{max: max, ll: list.New(), m: map[string]*list.Element{}, inflight: map[string]*call{}}
}

func (c *pageCache) get(key string, draw func() ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	if el, ok := c.m[key]; ok {
		c.ll.MoveToFront(el)
		c.mu.Unlock()
		return el.Value.(*entry).data, nil
	}
	if cl, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		<-cl.done
		return cl.data, cl.err
	}
	cl := &call{done: make(chan struct{})}
	c.inflight[key] = cl
	c.mu.Unlock()

	cl.data, cl.err = draw()
	c.mu.Lock()
	delete(c.inflight, key)
	if cl.err == nil && int64(len(cl.data)) <= c.max {
		c.m[key] = c.ll.PushFront(&entry{key: key, data: cl.data})
		c.n += int64(len(cl.data))
		for c.n > c.max {
			old := c.ll.Back()
			e := old.Value.(*entry)
			c.ll.Remove(old)
			delete(c.m, e.key)
			c.n -= int64(len(e.data))
		}
	}
	c.mu.Unlock()
	close(cl.done)
	return cl.data, cl.err
}

// copyFiles keeps the copies pages are drawn from on disk, at most max of
// them, least recently used first out; a copy is removed only when no
// drawing uses it.
type copyFiles struct {
	mu    sync.Mutex
	max   int
	dir   string
	store storage.Store
	ll    *list.List
	m     map[string]*list.Element
}

type copyFile struct {
	sha, path string
	users     int
	evicted   bool
	ready     chan struct{}
	err       error
}

func newCopyFiles(max int, dir string, store storage.Store) *copyFiles {
	return &copyFiles{max: max, dir: dir, store: store, ll: list.New(), m: map[string]*list.Element{}}
}

// get returns the path of a local file holding copy c, fetching it if
// needed; release must be called when done with it.
func (f *copyFiles) get(ctx context.Context, c Copy) (string, func(), error) {
	f.mu.Lock()
	el, ok := f.m[c.SHA256]
	var cf *copyFile
	if ok {
		cf = el.Value.(*copyFile)
		f.ll.MoveToFront(el)
		cf.users++
		f.mu.Unlock()
		<-cf.ready
	} else {
		cf = &copyFile{sha: c.SHA256, users: 1, ready: make(chan struct{})}
		f.m[c.SHA256] = f.ll.PushFront(cf)
		f.evict()
		f.mu.Unlock()
		path, err := f.fetch(ctx, c)
		f.mu.Lock()
		cf.path, cf.err = path, err
		f.mu.Unlock()
		close(cf.ready)
	}
	release := func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		cf.users--
		if cf.users == 0 && cf.evicted {
			os.Remove(cf.path)
		}
	}
	if cf.err != nil {
		f.mu.Lock()
		if el, ok := f.m[c.SHA256]; ok && el.Value.(*copyFile) == cf {
			f.ll.Remove(el)
			delete(f.m, c.SHA256)
		}
		f.mu.Unlock()
		release()
		return "", nil, cf.err
	}
	return cf.path, release, nil
}

// evict drops the least recently used copies past the limit; f.mu held.
func (f *copyFiles) evict() {
	for f.ll.Len() > f.max {
		old := f.ll.Back()
		cf := old.Value.(*copyFile)
		f.ll.Remove(old)
		delete(f.m, cf.sha)
		cf.evicted = true
		if cf.users == 0 && cf.path != "" {
			os.Remove(cf.path)
		}
	}
}

func (f *copyFiles) fetch(ctx context.Context, c Copy) (string, error) {
	rc, _, err := f.store.Get(ctx, c.Key)
	if err != nil {
		return "", fmt.Errorf("review: fetch copy: %w", err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(f.dir, "blindpack-review-*.pdf")
	if err != nil {
		return "", fmt.Errorf("review: temp file: %w", err)
	}
	if _, err := io.Copy(tmp, rc); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", fmt.Errorf("review: fetch copy: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("review: fetch copy: %w", err)
	}
	return tmp.Name(), nil
}

// close removes every copy on disk.
func (f *copyFiles) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for el := f.ll.Front(); el != nil; el = el.Next() {
		if cf := el.Value.(*copyFile); cf.path != "" {
			os.Remove(cf.path)
		}
	}
	f.ll.Init()
	f.m = map[string]*list.Element{}
}
