package api

import "errors"

// ErrTokens is returned (wrapped) for a tokens file that cannot be used.
var ErrTokens = errors.New("api: tokens")

// errNoApplication is returned by resolve for a code no application has.
var errNoApplication = errors.New("api: no application has this anonymous code")

// errUnavailable marks a packet that cannot be handed out now: the
// application is not accepted, or its packet was taken down or is being
// replaced.
var errUnavailable = errors.New("api: packet not available")

// errCopyRefused is the error of a copy the packet verifier objected to.
var errCopyRefused = errors.New("api: personal copy failed verification")
