// Package workers runs the pipeline behind an asynq queue: the task contract
// (names, payloads, options) in tasks.go, the handler that decodes a task,
// calls the pipeline and publishes what it made, the one function that
// decides what an error means to the queue, and the server setup.
//
// A payload carries ids and object keys only: never file bytes, never the
// applicant's name or employer. The submission document, which holds them,
// stays in the uploads bucket.
package workers
