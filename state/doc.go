// Package state keeps the state of each application in Redis: its status,
// how many times it was returned, the deadline for resubmitting, the
// outcome of every submission — and the audit trail of every decision and
// change. It lives in Redis (through go-redis) rather than in a worker, so
// that any number of workers share it and it survives their restarts; with
// Redis persistence (AOF) it survives Redis restarts too.
//
// The rules that read this state (three returns, 48 hours, the campaign
// calendar) are in package pipeline; this package only stores, atomically.
package state
