package client

import (
	"fmt"

	"github.com/blindpack/blindpack/api/wire"
)

// Error is an error answer of the API.
type Error struct {
	// Status is the HTTP status.
	Status int
	// Code is the API's error code; empty for an answer that was not in
	// the API's error shape (a proxy's page, say).
	Code      wire.Code
	MessageZH string
	MessageEN string
	Detail    string
	// RequestID is the id of the request in the server's log.
	RequestID string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("blindpack api: %d %s: %s", e.Status, e.Code, e.MessageEN)
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	if e.RequestID != "" {
		s += " [request " + e.RequestID + "]"
	}
	return s
}

// Is reports whether target is the sentinel of e's code, so that
// errors.Is(err, client.ErrSubmissionConflict) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && t.Code == e.Code
}

func sentinel(c wire.Code) *Error { return &Error{Status: c.Status(), Code: c} }

// Sentinels, one per error code, for errors.Is.
var (
	ErrUnauthenticated      = sentinel(wire.CodeUnauthenticated)
	ErrForbidden            = sentinel(wire.CodeForbidden)
	ErrNotAssigned          = sentinel(wire.CodeNotAssigned)
	ErrNotFound             = sentinel(wire.CodeNotFound)
	ErrMethodNotAllowed     = sentinel(wire.CodeMethodNotAllowed)
	ErrUnknownSubmission    = sentinel(wire.CodeUnknownSubmission)
	ErrUnknownAnonCode      = sentinel(wire.CodeUnknownAnonCode)
	ErrUnknownAssignment    = sentinel(wire.CodeUnknownAssignment)
	ErrPacketUnavailable    = sentinel(wire.CodePacketUnavailable)
	ErrInvalidParameter     = sentinel(wire.CodeInvalidParameter)
	ErrMalformedJSON        = sentinel(wire.CodeMalformedJSON)
	ErrUnsupportedMediaType = sentinel(wire.CodeUnsupportedMediaType)
	ErrBodyTooLarge         = sentinel(wire.CodeBodyTooLarge)
	ErrInvalidSubmission    = sentinel(wire.CodeInvalidSubmission)
	ErrSubmissionConflict   = sentinel(wire.CodeSubmissionConflict)
	ErrInvalidOverride      = sentinel(wire.CodeInvalidOverride)
	ErrInvalidReason        = sentinel(wire.CodeInvalidReason)
	ErrInvalidBatch         = sentinel(wire.CodeInvalidBatch)
	ErrInternal             = sentinel(wire.CodeInternal)
	ErrNotHeld              = sentinel(wire.CodeNotHeld)
	ErrInvalidFile          = sentinel(wire.CodeInvalidFile)
)

// Sentinels maps every code to its sentinel.
var Sentinels = map[wire.Code]*Error{}

func init() {
	for _, e := range []*Error{ErrUnauthenticated, ErrForbidden, ErrNotAssigned, ErrNotFound, ErrMethodNotAllowed,
		ErrUnknownSubmission, ErrUnknownAnonCode, ErrUnknownAssignment, ErrPacketUnavailable, ErrInvalidParameter,
		ErrMalformedJSON, ErrUnsupportedMediaType, ErrBodyTooLarge, ErrInvalidSubmission, ErrSubmissionConflict,
		ErrInvalidOverride, ErrInvalidReason, ErrInvalidBatch, ErrInternal, ErrNotHeld, ErrInvalidFile} {
		Sentinels[e.Code] = e
	}
}
