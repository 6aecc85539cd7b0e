// Package workers runs the pipeline behind an asynq queue: the task contract
// (names, payloads, options) in tasks.go, the handler that decodes a task,
// calls the pipeline and publishes what it made, the one function that
// decides what an error means to the queue, and the server setup.
//
// A payload carries ids and object keys only: never file bytes, never the
// applicant's name or employer. The submission document, which holds them,
// stays in the uploads bucket.
//
// Webhooks (webhooks.go): a worker configured with endpoints emits an
// event for every report and result it writes — one webhook:deliver task
// per event and endpoint, whose payload is the event's body (ids, status,
// finding codes, links) and the endpoint's id, never its URL or secrets —
// and delivers them from a server of its own, signed as Standard Webhooks
// says, retried for over a day, then archived.
package workers
