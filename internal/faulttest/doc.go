// Package faulttest holds the fault tests of the September-rush issue: real
// `blindpack worker` processes against a Redis and a versitygw of the
// test's own, which it kills and restarts — workers killed with SIGKILL in
// the middle of packet assembly, Redis killed and restarted from its AOF,
// the S3 server gone for 30 seconds, and the same submission run twice at
// once and run again. Each test prints its counts and `make faults` prints
// the table of them all.
//
// The long tests run only with BLINDPACK_FAULTS=1 (`make faults`); the
// short one (duplicate runs, well under a minute) also runs under
// `make test`.
package faulttest
