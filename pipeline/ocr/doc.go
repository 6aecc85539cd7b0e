// Package ocr looks at a finished review packet the way a reviewer does —
// as pixels — and finds an applicant's name or employer that is still
// legible outside the masks: the one leak the packet verifier cannot see,
// because it is the applicant's own (a signature, a second copy of the
// employer in a letterhead, a certificate page nobody masked).
//
// It is an optional, slow stage. An Engine reads a page image into words
// with boxes; Tesseract runs the tesseract program with the Simplified
// Chinese data as a separate process per page or, as a BatchEngine, per
// batch of pages, killed with its whole process group when its time is
// up. Tesseract's cost follows the characters it reads, so an engine
// marked Screened reads, on a crisp page (Crisp: the page's clarity
// measures as rendered), only what a cheap first pass, the screen,
// picks: the lines where two characters of a form of the identity seem
// to stand side by side (correlated with the characters drawn in Hei,
// Ming and Kai; in C where cgo is built in) and where Tesseract, reading
// each pair with a character either side first, finds the pair, stacked
// into images of like-sized strips, and whatever the screen could not
// make sense of;
// soft and grey pages, where the screen lost names, are read whole. An
// engine not so marked reads every line. A Matcher joins the words into lines
// and looks for the same forms of the identity the verifier searches for
// (the name, the given name of two characters or more, the employer with
// and without its legal form and region), allowing one OCR error in forms
// of three characters or more. A match mostly under a mask is not a leak.
// Check does this for page images; CheckPacket renders packet pages with
// pdftoppm first.
//
// Hits say which page, which kind (name or employer) and where, as a box
// in page fractions; never the text read. A hit becomes the finding
// identity_visible for an administrator to look at: OCR misreads, and the
// forms of an identity may be ordinary words.
//
// What it cannot find: text that Tesseract does not read — handwriting,
// stamps, seals, text in photographs, text at a steep angle, very small
// or very faint print — and a name written in another script.
package ocr
