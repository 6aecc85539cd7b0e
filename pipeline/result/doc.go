// Package result issues the approval file that ends a title evaluation: the
// red-header document (红头文件) naming the approved persons, with the
// issuing authority's round seal, signed so that anyone can check it.
//
// The pieces, in the order Issue runs them:
//
//   - batch.go parses and validates a blindpack/batch@1 document and lists
//     every problem at once, in Chinese and English, because the person who
//     fixes a batch is an administrator editing JSON by hand.
//   - layout.go sets the document after GB/T 9704-2012 (党政机关公文格式):
//     A4, the standard's margins and line grid, the red issuing-office mark,
//     document number and rule, the title, body, the table of approved
//     persons (header repeated on every page), the issuer and date, and page
//     numbers. Text is real text in embedded fonts, so names can be searched
//     and extracted.
//   - seal.go draws the round seal from the authority's name: ring,
//     five-pointed star, name on an arc, optional code. It is drawn as paths
//     (never as text, so it does not pollute extraction) in the page and, the
//     same shapes rasterised, as the signature's visible appearance.
//   - sign.go signs the finished file (PAdES-style adbe.pkcs7.detached,
//     SHA-256, chain embedded) as the very last step: any later rewrite of
//     the file, even one that changes nothing visible, breaks the signature.
//   - verify.go checks a signed file independently: signature, coverage of
//     the whole file, chain to a given root.
//   - keys.go makes a development root CA and signing certificate.
//
// The package knows nothing of queues or object stores: Issue writes to an
// io.Writer, so the same code runs in `blindpack result issue` and in the
// result:issue worker.
package result
