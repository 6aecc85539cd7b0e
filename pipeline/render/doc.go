// Package render draws a PDF page into pixels, and reads its text layer,
// with pdfium compiled to WebAssembly and run under wazero: memory-safe, no
// cgo, and given no network and no file system but a read-only view of the
// fallback fonts that draw a font a PDF does not embed (fonts.go). It is the path for
// every PDF page that is not one scanned image (typed text, vector
// drawing, image bands, MRC masks, clipped images, JBIG2, JPEG 2000).
//
// One pool of pdfium instances serves the process (Default); the module is
// compiled once and the compiled code kept in a cache directory, so a new
// process (or test binary) does not compile the 6 MB module again. Each
// instance has a memory cap, each page a deadline; an instance that traps,
// runs out of memory or passes its deadline is discarded, never reused.
//
// The package knows nothing of findings or pages of a submission: package
// scan calls it and turns its errors into findings.
package render
