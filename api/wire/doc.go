// Package wire is the vocabulary of blindpack's HTTP API (v1) and its
// webhooks, defined once for everyone who speaks it: the server (package
// api), the workers that emit events (package workers) and the Go client
// (package client).
//
// It holds the error codes, each with its HTTP status and its message in
// Chinese and English; the one shape every error answer has (Error); and
// the webhook events — their types and payloads, which carry ids, statuses,
// finding codes and links, never an applicant's name or employer and never
// file bytes.
//
// It imports nothing beyond the standard library, so that a caller of the
// API can use it without the pipeline.
package wire
