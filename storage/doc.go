// Package storage holds the small object-store interface that the rest of
// blindpack programs against, the key scheme of every object blindpack reads
// or writes, and the errors a backend translates its own errors into.
//
// Backends live in sub-packages: storage/s3 (minio-go, for MinIO or any S3
// store) and storage/localdir (a directory on disk, for `blindpack process`
// and `blindpack demo`). storage/storagetest is the one conformance suite
// every backend must pass.
package storage
