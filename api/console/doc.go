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
// Only administrators get in: the console is mounted behind package
// people's administrators' gate, which finds the signed-in account's
// session (server-side, in Redis), answers another role 403 on every
// console URL, sends a visitor who is not signed in to the sign-in page,
// and checks every POST's anti-forgery token and origin before any
// console handler runs. Pages are server-rendered with html/template
// inside people's shared layout; scripts and styles are files (a strict
// Content-Security-Policy allows nothing inline), and nothing is cached.
//
// The console shows originals — the applicant's name and employer are in
// the pixels — so every view of a page image lands in the application's
// audit trail with who, which page and from where; thumbnails are audited
// once per administrator and submission every ten minutes. The identity
// fields of a submission are never put on a page, in a URL or in a log
// line: submissions are named by id and anonymous code only.
//
// The package knows nothing of accounts or tokens: package api mounts it
// with people's site.
package console
