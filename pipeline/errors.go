package pipeline

import "errors"

// ErrFileNotFound is returned (wrapped) by a Source when a material's file
// does not exist. The pipeline reports it as a finding; any other Source
// error is treated as transient and fails the run, so that a queue retries.
var ErrFileNotFound = errors.New("pipeline: file not found")

// ErrInvalidFile is returned (wrapped) by a Source for a file reference that
// is not a valid key or path (e.g. one that tries to leave its bucket).
var ErrInvalidFile = errors.New("pipeline: invalid file reference")

// ErrConfig is returned (wrapped) for an unusable Config.
var ErrConfig = errors.New("pipeline: invalid configuration")
