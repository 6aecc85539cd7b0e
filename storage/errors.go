package storage

import "errors"

// ErrNotFound is returned (wrapped) when an object does not exist. Backends
// translate their own not-found errors into it before wrapping.
var ErrNotFound = errors.New("storage: object not found")

// ErrInvalidKey is returned (wrapped) for a key that is empty, absolute,
// escapes its bucket or is otherwise unsafe. Object keys in submissions come
// from applicants' uploads, so every backend checks them.
var ErrInvalidKey = errors.New("storage: invalid object key")
