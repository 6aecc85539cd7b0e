package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blindpack/blindpack/storage"
)

// Run runs the conformance suite against the stores newStore makes. Each
// subtest calls newStore once and expects an empty store of its own.
// Subtests run in parallel, so newStore must be safe to call concurrently.
//
// The Presign subtest runs only when the store implements storage.Presigner.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, storage.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"ContentType", testContentType},
		{"Stat", testStat},
		{"Overwrite", testOverwrite},
		{"NotFound", testNotFound},
		{"Delete", testDelete},
		{"List", testList},
		{"InvalidKey", testInvalidKey},
		{"Cancel", testCancel},
		{"FailedPut", testFailedPut},
		{"Size", testSize},
		{"ConcurrentPuts", testConcurrentPuts},
		{"Presign", testPresign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

func testRoundTrip(t *testing.T, s storage.Store) {
	tests := []struct {
		name    string
		key     string
		size    int
		unknown bool // Put is told -1
	}{
		{"Empty", "empty", 0, false},
		{"EmptyUnknownSize", "empty-unknown", 0, true},
		{"Small", "a/b/small.txt", 11, false},
		{"5MiB", "big.bin", 5 << 20, false},
		{"5MiBUnknownSize", "big-unknown.bin", 5 << 20, true},
		{"ChineseKey", "2024/A2024-000123/专业技术工作总结（张三）.pdf", 1000, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := randomBytes(uint64(i), tt.size)
			size := int64(len(want))
			// Hide Len and Seek, which would let a backend learn the size.
			var r io.Reader = struct{ io.Reader }{bytes.NewReader(want)}
			if tt.unknown {
				size = -1
			}
			if err := s.Put(t.Context(), tt.key, r, size, storage.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			got, info := get(t, s, tt.key)
			checkBody(t, got, want)
			checkInfo(t, "Get", info, tt.key, len(want))
			info, err := s.Stat(t.Context(), tt.key)
			if err != nil {
				t.Fatal(err)
			}
			checkInfo(t, "Stat", info, tt.key, len(want))
		})
	}
}

func testContentType(t *testing.T, s storage.Store) {
	tests := []struct {
		name, given, want string
	}{
		{"PDF", "application/pdf", "application/pdf"},
		{"Default", "", "application/octet-stream"},
		{"Parameter", "text/plain; charset=utf-8", "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "type/" + tt.name
			put(t, s, key, []byte("%PDF-1.7"), tt.given)
			info, err := s.Stat(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			if info.ContentType != tt.want {
				t.Errorf("Stat: content type %q, want %q", info.ContentType, tt.want)
			}
			if _, info = get(t, s, key); info.ContentType != tt.want {
				t.Errorf("Get: content type %q, want %q", info.ContentType, tt.want)
			}
		})
	}
}

func testStat(t *testing.T, s storage.Store) {
	// Object stores keep whole seconds, and their clock is not ours.
	start := time.Now().Add(-time.Minute)
	put(t, s, "report.json", []byte(`{"status":"accepted"}`), "application/json")
	info, err := s.Stat(t.Context(), "report.json")
	if err != nil {
		t.Fatal(err)
	}
	checkInfo(t, "Stat", info, "report.json", 21)
	if info.ContentType != "application/json" {
		t.Errorf("content type %q, want application/json", info.ContentType)
	}
	if end := time.Now().Add(time.Minute); info.ModTime.Before(start) || info.ModTime.After(end) {
		t.Errorf("mod time %v, want between %v and %v", info.ModTime, start, end)
	}
}

func testOverwrite(t *testing.T, s storage.Store) {
	put(t, s, "packet.pdf", randomBytes(1, 1<<20), "application/pdf")
	short := []byte("short")
	put(t, s, "packet.pdf", short, "text/plain")
	got, info := get(t, s, "packet.pdf")
	checkBody(t, got, short)
	checkInfo(t, "Get", info, "packet.pdf", len(short))
	if info.ContentType != "text/plain" {
		t.Errorf("content type %q, want the new one, text/plain", info.ContentType)
	}
	list, err := s.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Size != int64(len(short)) {
		t.Errorf("List = %v, want one object of %d bytes", list, len(short))
	}
}

func testNotFound(t *testing.T, s storage.Store) {
	put(t, s, "dir/file", []byte("x"), "")
	// "dir" holds objects but is none itself.
	for _, key := range []string{"missing", "dir/missing", "dir", "dir/file/below"} {
		t.Run(key, func(t *testing.T) {
			if _, err := s.Stat(t.Context(), key); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Stat: err = %v, want ErrNotFound", err)
			}
			r, _, err := s.Get(t.Context(), key)
			if err == nil {
				r.Close()
			}
			if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Get: err = %v, want ErrNotFound", err)
			}
		})
	}
}

func testDelete(t *testing.T, s storage.Store) {
	put(t, s, "a/b", []byte("x"), "text/plain")
	for i := range 2 { // the second time there is nothing to delete
		if err := s.Delete(t.Context(), "a/b"); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	if _, err := s.Stat(t.Context(), "a/b"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat after Delete: err = %v, want ErrNotFound", err)
	}
	if err := s.Delete(t.Context(), "never/there"); err != nil {
		t.Errorf("Delete of a key never put: %v", err)
	}
	// A Put after a Delete must not find the old content type.
	put(t, s, "a/b", []byte("y"), "")
	if _, info := get(t, s, "a/b"); info.ContentType != "application/octet-stream" {
		t.Errorf("content type %q after Delete and Put, want application/octet-stream", info.ContentType)
	}
}

func testList(t *testing.T, s storage.Store) {
	// In key order: '.' < '/' < letters, so "a.txt" comes before "a/…".
	keys := []string{
		"a.txt",
		"a/b.txt",
		"a/b/c.txt",
		"a/b/d/e",
		"a/bc",
		"ab",
		"b/申报表.pdf",
		"b/论文/1.pdf",
	}
	for _, k := range slices.Backward(keys) { // not in order, to see List sort
		put(t, s, k, []byte(k), "")
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", keys},
		{"a", keys[:6]},
		{"a/", keys[1:5]},
		{"a/b", keys[1:5]},
		{"a/b/", keys[2:4]},
		{"a/b/c", keys[2:3]},
		{"a.", keys[:1]},
		{"a/b/d/e", keys[3:4]},
		{"b/申", keys[6:7]},
		{"b/论文/", keys[7:8]},
		{"c", nil},
		{"a/x/", nil},
		{"a.txt/", nil}, // below an object, not a directory
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.prefix), func(t *testing.T) {
			list, err := s.List(t.Context(), tt.prefix)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range list {
				got = append(got, o.Key)
				if o.Size != int64(len(o.Key)) || o.ModTime.IsZero() {
					t.Errorf("%s: size %d, mod time %v; want %d and a time", o.Key, o.Size, o.ModTime, len(o.Key))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("List(%q) = %q, want %q", tt.prefix, got, tt.want)
			}
		})
	}
}

func testInvalidKey(t *testing.T, s storage.Store) {
	put(t, s, "x", []byte("x"), "") // so that a bad key resolving to it shows
	tests := []struct {
		key         string
		validPrefix bool // some valid keys begin with it, so List takes it
	}{
		{"", true},
		{"..", true}, // "..x" is a valid key
		{"../x", false},
		{"/abs", false},
		{"/", false},
		{"a//b", false},
		{"a/./b", false},
		{"./x", false},
		{"a/", true},
		{`a\b`, false},
		{"a\x00b", false},
		{"a\nb", false},
		{"\xff", false},
	}
	for _, tt := range tests {
		key := tt.key
		t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
			ctx := t.Context()
			check := func(method string, err error) {
				t.Helper()
				if !errors.Is(err, storage.ErrInvalidKey) {
					t.Errorf("%s: err = %v, want ErrInvalidKey", method, err)
				}
			}
			r, _, err := s.Get(ctx, key)
			if err == nil {
				r.Close()
			}
			check("Get", err)
			_, err = s.Stat(ctx, key)
			check("Stat", err)
			check("Put", s.Put(ctx, key, strings.NewReader("x"), 1, storage.PutOptions{}))
			check("Delete", s.Delete(ctx, key))
			if !tt.validPrefix {
				_, err = s.List(ctx, key)
				check("List", err)
			}
		})
	}
	if list, err := s.List(t.Context(), ""); err != nil || len(list) != 1 {
		t.Errorf("after the bad keys List = %v, %v; want only x", list, err)
	}
}

func testCancel(t *testing.T, s storage.Store) {
	t.Run("Before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := s.Put(ctx, "before", strings.NewReader("x"), 1, storage.PutOptions{})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put: err = %v, want context.Canceled", err)
		}
		if _, err := s.Stat(t.Context(), "before"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat after a cancelled Put: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("HalfWay", func(t *testing.T) {
		old := []byte("old packet")
		put(t, s, "half", old, "")
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		body := randomBytes(2, 4<<20)
		r := &hook{r: bytes.NewReader(body), at: len(body) / 2, fn: func() error { cancel(); return nil }}
		if err := s.Put(ctx, "half", r, int64(len(body)), storage.PutOptions{}); err == nil {
			t.Fatal("Put succeeded although its context was cancelled half way")
		}
		// Never a part of the new body. The old one, as a rule; but the
		// cancellation reaches the HTTP transport while it goes on writing
		// what it has read, and on loopback the rest of the body can be in
		// the server's hands first, which then stores it whole (an S3 PUT
		// is atomic): Put reports the cancellation all the same (seen once
		// in make test with versitygw).
		got, _ := get(t, s, "half")
		if !bytes.Equal(got, old) && !bytes.Equal(got, body) {
			t.Errorf("after a Put cancelled half way: %d bytes, neither the old body (%d) nor the new one (%d)", len(got), len(old), len(body))
		}
	})
}

// testFailedPut stands for a worker whose input fails (or which dies) half
// way through a Put: the store must keep what it had.
func testFailedPut(t *testing.T, s storage.Store) {
	errBroken := errors.New("broken reader")
	for _, old := range [][]byte{nil, []byte("old packet")} {
		t.Run(fmt.Sprintf("Old=%t", old != nil), func(t *testing.T) {
			key := fmt.Sprintf("failed-%t", old != nil)
			if old != nil {
				put(t, s, key, old, "")
			}
			body := randomBytes(3, 1<<20)
			r := &hook{r: bytes.NewReader(body), at: len(body) / 2, fn: func() error { return errBroken }}
			if err := s.Put(t.Context(), key, r, int64(len(body)), storage.PutOptions{}); err == nil {
				t.Fatal("Put succeeded with a reader that failed")
			}
			if old == nil {
				if _, err := s.Stat(t.Context(), key); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("Stat after a failed Put: err = %v, want ErrNotFound", err)
				}
				return
			}
			got, _ := get(t, s, key)
			checkBody(t, got, old)
		})
	}
}

// testSize checks that Put reads exactly size bytes, as the interface says:
// a shorter body is an error, and bytes past size stay unread.
func testSize(t *testing.T, s storage.Store) {
	err := s.Put(t.Context(), "short", strings.NewReader("12345"), 10, storage.PutOptions{})
	if err == nil {
		t.Error("Put of 5 bytes announced as 10 succeeded")
	}
	if _, err := s.Stat(t.Context(), "short"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat after a short body: err = %v, want ErrNotFound", err)
	}

	r := strings.NewReader("1234567890")
	if err := s.Put(t.Context(), "long", r, 5, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	got, _ := get(t, s, "long")
	checkBody(t, got, []byte("12345"))
	if r.Len() == 0 {
		t.Error("Put read past the announced size")
	}
}

// testConcurrentPuts stands for a task that asynq runs twice at once: all
// writers put complete but different bodies, and every reader must see one
// of them whole.
func testConcurrentPuts(t *testing.T, s storage.Store) {
	const writers, readers = 6, 2
	// Writer i puts (i+1)×64 KiB of the letter 'a'+i, so a mix or a cut is seen.
	body := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, (i+1)<<16) }
	check := func(b []byte, size int64) error {
		if len(b) == 0 || len(b) != int(size) {
			return fmt.Errorf("read %d bytes of an object of %d", len(b), size)
		}
		if want := body(int(b[0] - 'a')); !bytes.Equal(b, want) {
			return fmt.Errorf("read a mixed or partial body of %d bytes starting %q", len(b), b[0])
		}
		return nil
	}
	ctx := t.Context()
	done := make(chan struct{})
	var wg, rg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			for range 3 {
				b := body(i)
				if err := s.Put(ctx, "same", struct{ io.Reader }{bytes.NewReader(b)}, int64(len(b)), storage.PutOptions{}); err != nil {
					t.Errorf("writer %d: %v", i, err)
					return
				}
			}
		})
	}
	for range readers {
		rg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				r, info, err := s.Get(ctx, "same")
				if errors.Is(err, storage.ErrNotFound) {
					continue // no writer has finished yet
				}
				if err != nil {
					t.Errorf("Get: %v", err)
					return
				}
				b, err := io.ReadAll(r)
				r.Close()
				if err == nil {
					err = check(b, info.Size)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	rg.Wait()
	b, info := get(t, s, "same")
	if err := check(b, info.Size); err != nil {
		t.Errorf("after all writers: %v", err)
	}
}

func testPresign(t *testing.T, s storage.Store) {
	p, ok := s.(storage.Presigner)
	if !ok {
		t.Skipf("%T does not implement storage.Presigner", s)
	}
	key := "2024/甲001/packet.pdf"
	want := randomBytes(4, 100<<10)
	put(t, s, key, want, "application/pdf")

	fetch := func(expiry time.Duration, wait time.Duration) (int, []byte) {
		t.Helper()
		u, err := p.PresignGet(t.Context(), key, expiry)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(wait)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u.String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b
	}
	t.Run("Valid", func(t *testing.T) {
		t.Parallel()
		status, got := fetch(time.Minute, 0)
		if status != http.StatusOK {
			t.Fatalf("status %d, want 200: %s", status, got)
		}
		checkBody(t, got, want)
	})
	t.Run("Expired", func(t *testing.T) {
		t.Parallel()
		if status, got := fetch(time.Second, 2*time.Second); status != http.StatusForbidden {
			t.Errorf("status %d, want 403: %s", status, got)
		}
	})
	t.Run("InvalidKey", func(t *testing.T) {
		t.Parallel()
		if _, err := p.PresignGet(t.Context(), "../x", time.Minute); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("err = %v, want ErrInvalidKey", err)
		}
	})
}

func put(t *testing.T, s storage.Store, key string, body []byte, contentType string) {
	t.Helper()
	err := s.Put(t.Context(), key, bytes.NewReader(body), int64(len(body)), storage.PutOptions{ContentType: contentType})
	if err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, s storage.Store, key string) ([]byte, storage.ObjectInfo) {
	t.Helper()
	r, info, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b, info
}

func checkBody(t *testing.T, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("body differs: got %d bytes, want %d", len(got), len(want))
	}
}

func checkInfo(t *testing.T, method string, info storage.ObjectInfo, key string, size int) {
	t.Helper()
	if info.Key != key || info.Size != int64(size) {
		t.Errorf("%s: key %q, size %d; want %q, %d", method, info.Key, info.Size, key, size)
	}
}

func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed)})
	r.Read(b)
	return b
}

// hook reads from r and calls fn once at byte at. A non-nil error from fn
// is returned from that Read on, as from a failing upload.
type hook struct {
	r   io.Reader
	at  int
	n   int
	fn  func() error
	err error
}

func (h *hook) Read(p []byte) (int, error) {
	if h.err != nil {
		return 0, h.err
	}
	if h.n < h.at && h.n+len(p) > h.at {
		p = p[:h.at-h.n]
	}
	n, err := h.r.Read(p)
	h.n += n
	if h.n == h.at && h.fn != nil {
		h.err, h.fn = h.fn(), nil
	}
	return n, err
}
