// Package pdfwrite writes the PDF files blindpack produces: review packets
// made of page images, and result documents with CJK text.
//
// It is a small, streaming writer rather than pdfcpu's document model, for
// three reasons that matter to blind review and to the September rush:
//
//   - Nothing reaches the file that the caller did not put there. There is no
//     Info dictionary, no XMP, no producer timestamp.
//   - The same input gives the same bytes: object numbers, the font subset
//     tag and the file identifier derive from the content, never from the
//     clock or a random source. A re-run of a task therefore rewrites an
//     identical packet.
//   - Each image stream is written as soon as it is added, so a 200-page
//     packet never sits in memory as a whole.
//
// Text uses embedded TrueType fonts (Type0/CIDFontType2, Identity-H), subset
// by emptying unused glyphs, with a complete ToUnicode map so that text stays
// extractable. pdfcpu's own font embedding is not used: its ToUnicode map
// miscounts after 100 glyphs and its subset tag is random (see font.go).
package pdfwrite
