package localdir

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/blindpack/blindpack/storage"
)

const (
	// reserved starts every name the store makes for itself. Keys may not
	// use it, so no object can be mistaken for one of these files.
	reserved   = ".blindpack-"
	tempPrefix = reserved + "tmp-"
	typePrefix = reserved + "type-"

	defaultType = "application/octet-stream"

	// Objects hold applicants' personal data: only the owner may read them.
	fileMode = 0o600
	dirMode  = 0o700
)

// Store is a storage.Store on one directory. It is safe for concurrent use;
// use one Store per directory, as its lock is what keeps an object's body and
// content type in step.
type Store struct {
	root *os.Root

	// mu makes the two renames of a Put (content type, then body) one step
	// for Get and Stat, which read both, so that no reader pairs a body with
	// the content type of another Put.
	mu sync.RWMutex
}

var _ storage.Store = (*Store)(nil)

// New returns a Store on the directory root, creating it if needed.
func New(root string) (*Store, error) {
	if err := os.MkdirAll(root, dirMode); err != nil {
		return nil, fmt.Errorf("localdir: new: %w", err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("localdir: new: %w", err)
	}
	return &Store{root: r}, nil
}

// NewBuckets returns the blindpack buckets as directories below root, named
// like the default S3 buckets.
func NewBuckets(root string) (storage.Buckets, error) {
	var b storage.Buckets
	for _, x := range []struct {
		dst  *storage.Store
		name string
	}{
		{&b.Uploads, storage.UploadsBucket},
		{&b.Packets, storage.PacketsBucket},
		{&b.Reports, storage.ReportsBucket},
		{&b.Results, storage.ResultsBucket},
	} {
		s, err := New(filepath.Join(root, x.name))
		if err != nil {
			return storage.Buckets{}, err
		}
		*x.dst = s
	}
	return b, nil
}

// Close releases the directory. The Store must not be used afterwards.
func (s *Store) Close() error {
	return s.root.Close()
}

// Get implements storage.Store. Reads from the returned body fail once ctx
// is done, as they do with an object store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, storage.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return nil, storage.ObjectInfo{}, fail("get", key, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, storage.ObjectInfo{}, fail("get", key, err)
	}
	s.mu.RLock()
	f, err := s.root.Open(key)
	var ctype string
	if err == nil {
		ctype, err = s.contentType(key)
		if err != nil {
			f.Close()
		}
	}
	s.mu.RUnlock()
	if err != nil {
		return nil, storage.ObjectInfo{}, fail("get", key, missing(err))
	}
	fi, err := f.Stat()
	if err == nil {
		err = isObject(fi)
	}
	if err != nil {
		f.Close()
		return nil, storage.ObjectInfo{}, fail("get", key, missing(err))
	}
	body := struct {
		io.Reader
		io.Closer
	}{ctxReader{ctx, f}, f}
	return body, info(key, fi, ctype), nil
}

// Stat implements storage.Store.
func (s *Store) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return storage.ObjectInfo{}, fail("stat", key, err)
	}
	if err := ctx.Err(); err != nil {
		return storage.ObjectInfo{}, fail("stat", key, err)
	}
	s.mu.RLock()
	fi, err := s.root.Stat(key)
	var ctype string
	if err == nil {
		ctype, err = s.contentType(key)
	}
	s.mu.RUnlock()
	if err == nil {
		err = isObject(fi)
	}
	if err != nil {
		return storage.ObjectInfo{}, fail("stat", key, missing(err))
	}
	return info(key, fi, ctype), nil
}

// Put implements storage.Store. The body goes to a temporary file in the
// key's directory, is synced, and is renamed over the key, so the object
// appears whole or not at all, even if the process dies half way.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, opts storage.PutOptions) error {
	if err := checkKey(key); err != nil {
		return fail("put", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fail("put", key, err)
	}
	dir := path.Dir(key)
	if err := s.root.MkdirAll(dir, dirMode); err != nil {
		return fail("put", key, err)
	}
	body, err := s.writeTemp(dir, ctxReader{ctx, r}, size)
	if err != nil {
		return fail("put", key, err)
	}
	defer s.root.Remove(body) // fails harmlessly once renamed
	ctype := cmp.Or(opts.ContentType, defaultType)
	meta, err := s.writeTemp(dir, strings.NewReader(ctype), int64(len(ctype)))
	if err != nil {
		return fail("put", key, err)
	}
	defer s.root.Remove(meta)

	// The last chance to give up: after the renames the object is replaced.
	if err := ctx.Err(); err != nil {
		return fail("put", key, err)
	}
	s.mu.Lock()
	err = s.root.Rename(meta, typePath(key))
	if err == nil {
		err = s.root.Rename(body, key)
	}
	s.mu.Unlock()
	if err == nil {
		err = s.syncDir(dir)
	}
	if err != nil {
		return fail("put", key, err)
	}
	return nil
}

// Delete implements storage.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fail("delete", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fail("delete", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fi, err := s.root.Lstat(key)
	if notExist(err) || err == nil && fi.IsDir() {
		return nil // a directory is not an object, so there is none to delete
	}
	if err == nil {
		err = s.root.Remove(key)
	}
	if err == nil {
		if err = s.root.Remove(typePath(key)); notExist(err) {
			err = nil
		}
	}
	if err != nil {
		return fail("delete", key, err)
	}
	return nil
}

// List implements storage.Store. It leaves ContentType empty, as reading a
// sidecar per object would make listing slow, and S3 listings lack it too.
// Only regular files are objects: symbolic links are not listed.
func (s *Store) List(ctx context.Context, prefix string) ([]storage.ObjectInfo, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, fail("list", prefix, err)
	}
	// Walk only the deepest directory that the prefix names in full.
	dir := "."
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir = prefix[:i]
	}
	var out []storage.ObjectInfo
	err := fs.WalkDir(s.root.FS(), dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && notExist(err) {
				return nil // no such directory: no objects
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(d.Name(), reserved):
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		case d.IsDir():
			if p != dir && !strings.HasPrefix(p+"/", prefix) && !strings.HasPrefix(prefix, p+"/") {
				return fs.SkipDir
			}
			return nil
		case !d.Type().IsRegular() || !strings.HasPrefix(p, prefix):
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, info(p, fi, ""))
		return nil
	})
	if err != nil {
		return nil, fail("list", prefix, err)
	}
	// A walk visits "a/b" before "a.txt", but '.' sorts before '/'.
	slices.SortFunc(out, func(a, b storage.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// writeTemp writes r to a new hidden file in dir and returns its name. The
// file is synced, so that a rename cannot publish a file whose data is still
// in the page cache when the machine stops.
func (s *Store) writeTemp(dir string, r io.Reader, size int64) (_ string, err error) {
	name := path.Join(dir, tempPrefix+rand.Text())
	f, err := s.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			s.root.Remove(name)
		}
	}()
	if size < 0 {
		_, err = io.Copy(f, r)
	} else if _, err = io.CopyN(f, r, size); err == io.EOF {
		err = fmt.Errorf("body shorter than %d bytes: %w", size, io.ErrUnexpectedEOF)
	}
	if err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return name, f.Close()
}

// syncDir makes a rename in dir durable.
func (s *Store) syncDir(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// contentType reads the sidecar of key. Files put into the directory by
// other means have none and are served as application/octet-stream.
func (s *Store) contentType(key string) (string, error) {
	b, err := s.root.ReadFile(typePath(key))
	if notExist(err) {
		return defaultType, nil
	}
	return cmp.Or(string(b), defaultType), err
}

func typePath(key string) string {
	dir, name := path.Split(key)
	return dir + typePrefix + name
}

func checkKey(key string) error {
	if err := storage.CheckKey(key); err != nil {
		return err
	}
	for seg := range strings.SplitSeq(key, "/") {
		if strings.HasPrefix(seg, reserved) {
			return fmt.Errorf("%w %q: names beginning with %q are reserved", storage.ErrInvalidKey, key, reserved)
		}
	}
	return nil
}

// checkPrefix refuses a List prefix that no valid key begins with, such as
// "../" or "/", which would otherwise list nothing and hide the mistake.
func checkPrefix(prefix string) error {
	if prefix != "" && storage.CheckKey(prefix+"x") != nil {
		return fmt.Errorf("%w: no valid key begins with %q", storage.ErrInvalidKey, prefix)
	}
	return nil
}

// isObject reports a directory (or a device, or a pipe) at a key as a
// missing object: only regular files are objects.
func isObject(fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fs.ErrNotExist
	}
	return nil
}

// notExist also counts ENOTDIR, the answer when part of a key's directory
// path is a file: then there is no object at the key either.
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// missing translates a missing file into storage.ErrNotFound, for the
// methods that read an object. (A Put whose directory path runs into a file
// fails too, but saying "not found" there would mislead.)
func missing(err error) error {
	if notExist(err) {
		return fmt.Errorf("%w: %w", storage.ErrNotFound, err)
	}
	return err
}

func fail(op, key string, err error) error {
	return fmt.Errorf("localdir: %s %q: %w", op, key, err)
}

func info(key string, fi fs.FileInfo, ctype string) storage.ObjectInfo {
	return storage.ObjectInfo{Key: key, Size: fi.Size(), ContentType: ctype, ModTime: fi.ModTime()}
}

// ctxReader stops a copy once its context is done, so that a cancelled Put
// of a large body does not run to the end.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
