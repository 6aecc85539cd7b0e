// Package review is the reviewers' portal of `blindpack serve`, under
// /review/: a reviewer signs in (package people) and sees the packets
// assigned to them — anonymous code, series, level, pages, when it was
// assigned, and their progress — opens one as page images drawn on the
// server from their own stamped copy, downloads that copy, and marks the
// packet reviewed.
//
// Only reviewers get in (the people gate, before any handler runs), and a
// reviewer reaches only what is assigned to them: every URL of a packet
// checks the assignment on every request, so a packet taken away stops
// working at once, and a request for a packet not assigned (by URL, by
// guess) is refused and recorded in the audit trail. Pages are drawn from
// the reviewer's personal copy (package stamp), never from the packet
// itself, so the stamp naming the reviewer is on every page they see;
// the copy is streamed through the server, never handed out as a link to
// the object store. Nothing on these pages names an applicant or another
// reviewer.
//
// Drawing a page is behind Renderer (poppler's pdftoppm today, the same
// seam as the OCR check); drawn pages are kept in memory, bounded, keyed by
// the copy's digest, and the copies being drawn from are kept on disk,
// bounded, for as long as they are drawn from.
package review
