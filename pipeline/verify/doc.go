// Package verify checks a finished review packet, as bytes, before anyone
// may download it — and fails closed: any doubt is a problem, and a packet
// with a problem is not published.
//
// It reads the file with pdfcpu, not with the writer that made it, and
// checks what the issue lists: one revision, no annotations, forms,
// attachments, scripts, layers or metadata; only images, our font and our
// drawing operators on each page; no JPEG metadata segments; the identity
// (name, employer and reasonable parts of them) nowhere — not in any
// decoded stream, string or name, in UTF-8, UTF-16BE/LE or GB18030, nor in
// the text a reader extracts through the fonts' ToUnicode maps, nor in the
// raw file; and, given the masks, solid black pixels under each of them in
// the embedded image.
//
// What it cannot see: a name that is visible in the pixels outside any mask
// (a photograph of a badge, a signature the applicant did not mask). That is
// what the optional OCR stage is for.
package verify
