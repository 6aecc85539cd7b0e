package s3

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/blindpack/blindpack/storage"
)

// Config says how to reach the S3 server. Only Endpoint is required.
type Config struct {
	// Endpoint is host:port (or a host name alone), without a scheme.
	Endpoint string
	// AccessKey and SecretKey are given together; both empty means
	// anonymous requests.
	AccessKey string
	SecretKey string
	// Secure selects HTTPS.
	Secure bool
	// Region is the region to sign for and to create buckets in. Empty asks
	// the server once per bucket, which suits MinIO and most gateways.
	Region string
}

// Validate reports the first mistake in c.
func (c Config) Validate() error {
	switch {
	case c.Endpoint == "":
		return errors.New("s3: config: Endpoint is required")
	case strings.Contains(c.Endpoint, "/"):
		return fmt.Errorf("s3: config: Endpoint %q must be host:port, without scheme or path (set Secure for https)", c.Endpoint)
	case (c.AccessKey == "") != (c.SecretKey == ""):
		return errors.New("s3: config: AccessKey and SecretKey must be given together")
	}
	return nil
}

// Client is a connection to one S3 server. It is safe for concurrent use.
type Client struct {
	mc     *minio.Client
	region string

	mu     sync.Mutex
	opened []string // buckets given out, which Ping checks
}

// Open returns a Client for cfg. It does not contact the server, so that a
// worker can start before its object store; Ping tells when it is reachable.
func Open(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	mc, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: open %s: %w", cfg.Endpoint, err)
	}
	return &Client{mc: mc, region: cfg.Region}, nil
}

// Bucket returns the Store of bucket name. When the bucket is missing,
// Bucket makes it if create is set and otherwise returns an error wrapping
// storage.ErrNotFound.
func (c *Client) Bucket(ctx context.Context, name string, create bool) (*Store, error) {
	ok, err := c.mc.BucketExists(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("s3: bucket %s: %w", name, translate(err))
	}
	if !ok && !create {
		return nil, fmt.Errorf("s3: bucket %s: %w", name, storage.ErrNotFound)
	}
	if !ok {
		err := c.mc.MakeBucket(ctx, name, minio.MakeBucketOptions{Region: c.region})
		// Workers starting together race to make the bucket; losing the race
		// is fine, whichever error the server chose to say so.
		if err != nil {
			if ok, _ := c.mc.BucketExists(ctx, name); !ok {
				return nil, fmt.Errorf("s3: create bucket %s: %w", name, translate(err))
			}
		}
	}
	c.mu.Lock()
	if !slices.Contains(c.opened, name) {
		c.opened = append(c.opened, name)
	}
	c.mu.Unlock()
	return &Store{mc: c.mc, bucket: name}, nil
}

// BucketNames names the four blindpack buckets. An empty name means the
// default from package storage (storage.UploadsBucket and so on).
type BucketNames struct {
	Uploads string
	Packets string
	Reports string
	Results string
}

// Buckets returns the stores of the four buckets named by names, as Bucket
// does for each.
func (c *Client) Buckets(ctx context.Context, names BucketNames, create bool) (storage.Buckets, error) {
	var b storage.Buckets
	for _, x := range []struct {
		dst  *storage.Store
		name string
	}{
		{&b.Uploads, cmp.Or(names.Uploads, storage.UploadsBucket)},
		{&b.Packets, cmp.Or(names.Packets, storage.PacketsBucket)},
		{&b.Reports, cmp.Or(names.Reports, storage.ReportsBucket)},
		{&b.Results, cmp.Or(names.Results, storage.ResultsBucket)},
	} {
		s, err := c.Bucket(ctx, x.name, create)
		if err != nil {
			return storage.Buckets{}, err
		}
		*x.dst = s
	}
	return b, nil
}

// Ping checks that the server answers and accepts the credentials, for
// readiness probes. It asks about the buckets given out so far, which needs
// no more rights than using them; before any, it lists buckets.
func (c *Client) Ping(ctx context.Context) error {
	c.mu.Lock()
	names := slices.Clone(c.opened)
	c.mu.Unlock()
	if len(names) == 0 {
		if _, err := c.mc.ListBuckets(ctx); err != nil {
			return fmt.Errorf("s3: ping %s: %w", c.mc.EndpointURL().Host, translate(err))
		}
		return nil
	}
	for _, name := range names {
		ok, err := c.mc.BucketExists(ctx, name)
		if err == nil && !ok {
			err = fmt.Errorf("bucket %s: %w", name, storage.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("s3: ping %s: %w", c.mc.EndpointURL().Host, translate(err))
		}
	}
	return nil
}

// translate turns minio-go's not-found codes into storage.ErrNotFound,
// keeping the original error too. It must see err unwrapped: the minio-go
// helper uses a type switch, not errors.As.
func translate(err error) error {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey, minio.NoSuchBucket:
		return fmt.Errorf("%w: %w", storage.ErrNotFound, err)
	}
	return err
}
