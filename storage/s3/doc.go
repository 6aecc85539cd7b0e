// Package s3 is the storage.Store of a deployment: one bucket of MinIO, or
// of any S3-compatible server, through minio-go.
//
// A Client holds the connection settings; Client.Bucket (or Client.Buckets
// for all four blindpack buckets) gives the stores. S3 makes every Put
// atomic by itself: an object becomes visible only once its upload, single
// or multipart, is complete. Stores also implement storage.Presigner, so
// that reviewers can download packets straight from the object store.
package s3
