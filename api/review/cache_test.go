package review

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/storage/localdir"
)

// TestPageCacheBounded: the cache never holds more than its budget, drops
// the least recently used first, and draws a page asked for by many at
// once only once.
func TestPageCacheBounded(t *testing.T) {
	c := newPageCache(1000)
	var draws atomic.Int32
	page := func(n int) func() ([]byte, error) {
		return func() ([]byte, error) { draws.Add(1); return bytes.Repeat([]byte{byte(n)}, 300), nil }
	}
	for i := range 3 {
		c.get(fmt.Sprint(i), page(i))
	}
	c.get("0", page(0)) // 0 is now the most recent
	c.get("3", page(3)) // over budget: 1 goes
	if c.n > c.max {
		t.Errorf("%d bytes held, budget %d", c.n, c.max)
	}
	if _, ok := c.m["1"]; ok {
		t.Error("the least recently used page was kept")
	}
	if _, ok := c.m["0"]; !ok {
		t.Error("a recently used page was dropped")
	}
	draws.Store(0)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); c.get("busy", page(9)) }()
	}
	wg.Wait()
	if n := draws.Load(); n != 1 {
		t.Errorf("a page asked for 20 times at once was drawn %d times", n)
	}
	if _, err := c.get("too big", func() ([]byte, error) { return make([]byte, 2000), nil }); err != nil || c.n > c.max {
		t.Errorf("a page larger than the budget: %v, %d bytes held", err, c.n)
	}
}

// TestCopyFilesBounded: at most max copies stay on disk, the evicted ones
// are removed once no drawing uses them, and close removes the rest.
func TestCopyFilesBounded(t *testing.T) {
	ctx := context.Background()
	store, err := localdir.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := newCopyFiles(2, dir, store)
	copyOf := func(i int) Copy {
		key := fmt.Sprintf("c/%d.pdf", i)
		data := []byte(fmt.Sprintf("%%PDF-copy %d", i))
		if err := store.Put(ctx, key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		return Copy{Key: key, SHA256: fmt.Sprint("sha", i)}
	}
	p0, rel0, err := f.get(ctx, copyOf(0))
	if err != nil {
		t.Fatal(err)
	}
	_, rel1, _ := f.get(ctx, copyOf(1))
	rel1()
	_, rel2, _ := f.get(ctx, copyOf(2)) // evicts copy 0, still in use
	rel2()
	if _, err := os.Stat(p0); err != nil {
		t.Fatalf("a copy in use was removed: %v", err)
	}
	rel0()
	if _, err := os.Stat(p0); !os.IsNotExist(err) {
		t.Errorf("an evicted copy stayed on disk after its last use: %v", err)
	}
	if files, _ := os.ReadDir(dir); len(files) != 2 {
		t.Errorf("%d copies on disk, want 2", len(files))
	}
	if _, _, err := f.get(ctx, Copy{Key: "c/none.pdf", SHA256: "none"}); err == nil {
		t.Error("a missing copy was fetched")
	}
	f.close()
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("%d copies left after close", len(files))
	}
}
