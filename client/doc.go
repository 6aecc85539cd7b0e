// Package client is the Go client of blindpack's HTTP API (`blindpack
// serve`), for the upload service and administrators' scripts:
//
//	c, err := client.New("https://blindpack.example", token, client.Options{})
//	sub, err := c.Submit(ctx, doc)                 // 202 queued, or 200 already queued
//	if errors.Is(err, client.ErrSubmissionConflict) { … }
//	view, err := c.WaitReport(ctx, sub.SubmissionID, 2*time.Second)
//
// Every error answer becomes an *Error carrying the API's code (package
// wire), its messages in Chinese and English and the request id;
// errors.Is matches it against the sentinel of its code (ErrUnauthenticated,
// ErrSubmissionConflict, …). Answers are the wire types the server writes.
// It depends on the standard library and package wire only, and decodes
// answers leniently, so that fields added by a newer server do not break
// an older client.
//
// Webhooks: Verify checks a delivery's Standard Webhooks signature and
// age with the endpoint's secrets and decodes its event.
package client
