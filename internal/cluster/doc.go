// Package cluster runs a private blindpack deployment on loopback: a Redis
// with AOF, a versitygw S3 server and real `blindpack worker` processes,
// each of which can be killed (SIGKILL) and started again on the same port,
// directory or queue. The load run (deploy/load) and the fault tests
// (internal/faulttest) are built on it.
//
// It is a test and operations helper: nothing in production imports it.
// Everything it starts lives under one directory and is stopped by Close;
// the child processes also die with the process that started them
// (Linux parent-death signal).
package cluster
