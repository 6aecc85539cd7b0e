// Package api is blindpack's HTTP front (`blindpack serve`): the upload
// service enqueues submissions and reads their reports, administrators
// assign reviewers, reprocess, list failures, issue result files and read
// audit trails, and reviewers download their personal, stamped copies of
// the packets assigned to them.
//
// Machines authenticate with bearer tokens from a YAML file that holds
// only each token's SHA-256 (see Tokens), re-read when it changes and on
// SIGHUP (WatchTokens); a token carries one role — upload service,
// reviewer or administrator — and a subject (the reviewer's code, the
// administrator's name). A request to /v1 without a valid token is
// answered 401 before the router may answer anything else (405, a
// redirect), one whose role may not use the route 403. Every answer
// carries a request id (X-Request-Id, also in the log line), every error
// has one shape (package wire), every JSON body is decoded by one strict
// decoder, and api/openapi.yaml — served at /v1/openapi.json — describes
// every route (middleware.go, respond.go, openapi.go). A reviewer is only ever
// named by their token: no route takes a reviewer code from a reviewer, so
// no request of theirs can reach another reviewer's copy, a report, an
// upload, or a packet not assigned to them.
//
// A packet download streams the reviewer's personal copy (package stamp)
// through the server, with the assignment checked on that request; the
// copy is made on the first download, checked by the fail-closed packet
// verifier before it is stored, and reused afterwards. Every download,
// refused download, assignment and override lands in an audit trail with
// who, what, when and from which address.
//
// People — administrators, reviewers, the public — use pages mounted
// here (web.go): package people (accounts, sign-in, sessions, the shared
// layout) and, each under its own prefix and rule, packages console,
// review and public. The reviewers' portal reaches packets through the
// same code as the /v1 routes (reviewers.go).
//
// The package sits beside workers: it calls workers (Submitter, Reprocess,
// ResultSubmitter), state and storage, and pipeline only for the packet's
// schema, the stamp and the verifier. Logs are structured (log/slog,
// passed in) and never hold a submission body, a name or an employer.
package api
