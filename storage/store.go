package storage

import (
	"context"
	"io"
	"net/url"
	"time"
)

// Store is one bucket of objects addressed by slash-separated keys.
//
// Put is atomic: a reader sees either the previous object or the whole new
// one, never a partial write. This is what lets a killed worker leave no half
// packet behind.
type Store interface {
	// Get opens the object at key. It returns an error wrapping ErrNotFound
	// when there is none. The caller closes the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error)
	// Stat describes the object at key, or returns an error wrapping ErrNotFound.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// Put stores size bytes read from r at key, replacing any object there.
	// size may be -1 when unknown.
	Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) error
	// Delete removes the object at key. Deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the objects whose keys start with prefix, in key order.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
}

// Presigner is implemented by stores that can hand out time-limited URLs, so
// that large downloads go straight from the object store to the client.
type Presigner interface {
	PresignGet(ctx context.Context, key string, expiry time.Duration) (*url.URL, error)
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key         string
	Size        int64
	ContentType string
	ModTime     time.Time
}

// PutOptions are optional attributes of a stored object.
type PutOptions struct {
	// ContentType defaults to application/octet-stream.
	ContentType string
}

// Buckets groups the stores blindpack uses. Each is a separate bucket in S3
// and a separate directory locally.
type Buckets struct {
	// Uploads holds the applicants' original files and the submission
	// documents. Only workers and administrators read it.
	Uploads Store
	// Packets holds masked review packets, the only thing reviewers receive.
	Packets Store
	// Reports holds one report per submission, read by the upload service.
	Reports Store
	// Results holds signed result files, which are public.
	Results Store
}

// Default bucket names; a deployment may choose others.
const (
	UploadsBucket = "uploads"
	PacketsBucket = "packets"
	ReportsBucket = "reports"
	ResultsBucket = "results"
)
