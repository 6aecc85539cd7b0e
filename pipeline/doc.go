// Package pipeline is blindpack's domain: submissions and reports (the
// public JSON contract), the anonymous applicant code, and the sequence of
// stages that turns a submission into a report and, when it is accepted, a
// masked review packet.
//
// It knows nothing of queues, Redis, object stores or HTTP: it reads
// materials through a Source and writes the packet to an io.Writer, so the
// same code runs in `blindpack process` on a laptop and inside a queue
// worker.
package pipeline
