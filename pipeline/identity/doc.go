// Package identity answers one question for every caller: where is the
// applicant's identity in this text? It owns the forms an identity is
// looked for in — the whole name, the given name of two characters or
// more, the whole employer, the employer without its legal form, and
// that without its region — and the rules for matching them: letters and
// digits only, NFKC-folded and lower-cased, so that spaces, punctuation,
// full-width Latin and compatibility ideographs do not hide a name.
//
// The packet verifier searches bytes for the forms (Forms); the text-layer
// check and mask suggestions search a page's glyphs exactly (Matcher.Find);
// OCR searches what Tesseract read allowing one error (Matcher.Spans with
// a tolerance). An Identity is held in memory only: its String and
// GoString hide it, and nothing here logs or writes it.
package identity
