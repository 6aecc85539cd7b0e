// Package console is the administrators' web console of `blindpack
// serve`, under /console/: the applications that need attention (returned,
// refused, abandoned, failed tasks) with counts per finding code; one
// submission's state, returns, deadline, findings, its pages as thumbnails
// of the originals with the failing ones outlined and labelled, and its
// audit trail; one page large with the masks drawn as outlines; and the
// actions — accept flagged pages with a reason and reprocess, reprocess,
// re-run a failed task — each confirmed on a page of its own, audited,
// and followed until the new report arrives.
//
// Only administrators get in. A browser signs in by pasting its bearer
// token once; the server keeps the session in Redis (package state) and
// sets an HttpOnly, Secure, SameSite=Strict cookie scoped to /console/.
// A request carrying another role's token, in a header or in the login
// form, is answered 403 on every console URL. Every state-changing form
// carries a per-session anti-forgery token, checked in constant time, and
// cross-origin requests are refused before that (net/http's
// CrossOriginProtection). Pages are server-rendered with html/template,
// scripts and styles are files (a strict Content-Security-Policy allows
// nothing inline), and nothing is cached.
//
// The console shows originals — the applicant's name and employer are in
// the pixels — so every view of a page image lands in the application's
// audit trail with who, which page and from where; thumbnails are audited
// once per administrator and submission every ten minutes. The identity
// fields of a submission are never put on a page, in a URL or in a log
// line: submissions are named by id and anonymous code only.
//
// The package knows nothing of tokens files: package api gives it an
// Authenticate function and mounts it.
package console
