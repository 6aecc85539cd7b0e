package s3

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/blindpack/blindpack/storage"
)

// partSize is the part size of multipart uploads. minio-go holds a part in
// memory as it uploads it (for an unknown size its default part would be over
// 500 MiB), and it caps an object at 10 000 parts, here 160 GiB, far above
// any packet.
const partSize = 16 << 20

// Store is one bucket. It implements storage.Store and storage.Presigner and
// is safe for concurrent use.
type Store struct {
	mc     *minio.Client
	bucket string
}

var (
	_ storage.Store     = (*Store)(nil)
	_ storage.Presigner = (*Store)(nil)
)

// Get implements storage.Store. The body and its description come from one
// GET request, so they always belong to the same version of the object.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, storage.ObjectInfo, error) {
	if err := storage.CheckKey(key); err != nil {
		return nil, storage.ObjectInfo{}, s.fail("get", key, err)
	}
	body, oi, _, err := minio.Core{Client: s.mc}.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, storage.ObjectInfo{}, s.fail("get", key, err)
	}
	return body, info(oi), nil
}

// Stat implements storage.Store.
func (s *Store) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	if err := storage.CheckKey(key); err != nil {
		return storage.ObjectInfo{}, s.fail("stat", key, err)
	}
	oi, err := s.mc.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return storage.ObjectInfo{}, s.fail("stat", key, err)
	}
	return info(oi), nil
}

// Put implements storage.Store. A body of known size up to partSize is
// streamed in one request; a larger one, or one of unknown size, goes up as a
// multipart upload, partSize bytes in memory at a time. Either way the object
// appears only once complete.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, opts storage.PutOptions) error {
	if err := storage.CheckKey(key); err != nil {
		return s.fail("put", key, err)
	}
	_, err := s.mc.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{
		ContentType: opts.ContentType, // minio-go defaults it to application/octet-stream
		PartSize:    partSize,
	})
	if err != nil {
		return s.fail("put", key, err)
	}
	return nil
}

// Delete implements storage.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := storage.CheckKey(key); err != nil {
		return s.fail("delete", key, err)
	}
	if err := s.mc.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return s.fail("delete", key, err)
	}
	return nil
}

// List implements storage.Store. It leaves ContentType empty: S3 listings
// do not carry it.
func (s *Store) List(ctx context.Context, prefix string) ([]storage.ObjectInfo, error) {
	if prefix != "" && storage.CheckKey(prefix+"x") != nil {
		// S3 would list nothing, hiding the mistake.
		return nil, s.fail("list", prefix, fmt.Errorf("%w: no valid key begins with %q", storage.ErrInvalidKey, prefix))
	}
	// Stopping early must stop minio-go's listing goroutine too.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out []storage.ObjectInfo
	for oi := range s.mc.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if oi.Err != nil {
			return nil, s.fail("list", prefix, oi.Err)
		}
		out = append(out, info(oi))
	}
	// S3 lists in key order already; other servers may not.
	slices.SortFunc(out, func(a, b storage.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// PresignGet implements storage.Presigner. expiry must be between one second
// and seven days, the limits of S3 signatures.
func (s *Store) PresignGet(ctx context.Context, key string, expiry time.Duration) (*url.URL, error) {
	if err := storage.CheckKey(key); err != nil {
		return nil, s.fail("presign", key, err)
	}
	u, err := s.mc.PresignedGetObject(ctx, s.bucket, key, expiry, nil)
	if err != nil {
		return nil, s.fail("presign", key, err)
	}
	return u, nil
}

func (s *Store) fail(op, key string, err error) error {
	return fmt.Errorf("s3: %s %s/%s: %w", op, s.bucket, key, translate(err))
}

func info(oi minio.ObjectInfo) storage.ObjectInfo {
	return storage.ObjectInfo{Key: oi.Key, Size: oi.Size, ContentType: oi.ContentType, ModTime: oi.LastModified}
}
