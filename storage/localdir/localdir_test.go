package localdir_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/storage/localdir"
	"github.com/blindpack/blindpack/storage/storagetest"
)

func TestStore(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return newStore(t, t.TempDir())
	})
}

func newStore(t *testing.T, root string) *localdir.Store {
	t.Helper()
	s, err := localdir.New(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSymlinkOutside checks that a link planted in the directory (by a
// careless operator or a hostile archive) does not let the store read or
// write outside it.
func TestSymlinkOutside(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("identity"), 0o600); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(root, outside)
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"abs-file": secret,
		"abs-dir":  outside,
		"rel-file": filepath.Join(rel, "secret.txt"),
		"rel-dir":  rel,
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	s := newStore(t, root)
	ctx := t.Context()

	for _, key := range []string{"abs-file", "abs-dir/secret.txt", "rel-file", "rel-dir/secret.txt"} {
		t.Run(key, func(t *testing.T) {
			if r, _, err := s.Get(ctx, key); err == nil {
				b, _ := io.ReadAll(r)
				r.Close()
				t.Errorf("Get read %q through a link out of the root", b)
			}
			if _, err := s.Stat(ctx, key); err == nil {
				t.Error("Stat followed a link out of the root")
			}
		})
	}
	for _, dir := range []string{"abs-dir", "rel-dir"} {
		if err := s.Put(ctx, dir+"/new.txt", strings.NewReader("x"), 1, storage.PutOptions{}); err == nil {
			t.Errorf("Put wrote through %s", dir)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "new.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file appeared outside the root: %v", err)
	}
	list, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Errorf("List shows %v, want nothing: links are not objects", list)
	}

	// Put replaces the link itself, never the file it points to.
	if err := s.Put(ctx, "abs-file", strings.NewReader("new"), 3, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(secret); err != nil || string(b) != "identity" {
		t.Errorf("outside file now %q, %v; want it untouched", b, err)
	}
}

// TestInterruptedPut checks that neither a Put whose reader fails nor one
// killed half way (its temporary file left behind) leaves anything visible.
func TestInterruptedPut(t *testing.T) {
	root := t.TempDir()
	s := newStore(t, root)
	ctx := t.Context()

	body := io.MultiReader(bytes.NewReader(make([]byte, 1<<20)), iotest.ErrReader(errors.New("upload connection lost")))
	if err := s.Put(ctx, "2024/A1/packet.pdf", body, 2<<20, storage.PutOptions{}); err == nil {
		t.Fatal("Put succeeded with a failing reader")
	}
	if files := regularFiles(t, root); len(files) != 0 {
		t.Errorf("failed Put left %q on disk", files)
	}

	// What a killed process leaves: a temporary file beside the key.
	leftover := filepath.Join(root, "2024", "A1", ".blindpack-tmp-KILLED")
	if err := os.WriteFile(leftover, []byte("half a packet"), 0o600); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Errorf("List shows %v, want nothing", list)
	}
	if _, err := s.Stat(ctx, "2024/A1/packet.pdf"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, "2024/A1/.blindpack-tmp-KILLED"); !errors.Is(err, storage.ErrInvalidKey) {
		t.Errorf("Stat of the temporary file: err = %v, want ErrInvalidKey", err)
	}
}

func TestNewBuckets(t *testing.T) {
	root := t.TempDir()
	b, err := localdir.NewBuckets(root)
	if err != nil {
		t.Fatal(err)
	}
	stores := map[string]storage.Store{
		storage.UploadsBucket: b.Uploads,
		storage.PacketsBucket: b.Packets,
		storage.ReportsBucket: b.Reports,
		storage.ResultsBucket: b.Results,
	}
	for name, s := range stores {
		if err := s.Put(t.Context(), "k", strings.NewReader(name), int64(len(name)), storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for name := range stores {
		if b, err := os.ReadFile(filepath.Join(root, name, "k")); err != nil || string(b) != name {
			t.Errorf("%s/k = %q, %v; want %q", name, b, err, name)
		}
	}
}

func regularFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestPutBelowObject documents a limit of files: "a" and "a/b" cannot both
// be objects (S3 allows it; MinIO and versitygw refuse it too). The key
// scheme never asks for it, and the error must not read as "not found".
func TestPutBelowObject(t *testing.T) {
	s := newStore(t, t.TempDir())
	ctx := t.Context()
	if err := s.Put(ctx, "a", strings.NewReader("a"), 1, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	err := s.Put(ctx, "a/b", strings.NewReader("b"), 1, storage.PutOptions{})
	if err == nil || errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Put below an object: err = %v, want an error other than ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, "a"); err != nil {
		t.Errorf("the object above: %v", err)
	}
}
