// Package strictjson is blindpack's one decoder of untrusted JSON documents
// into Go values: the submission document the upload service writes and
// every request body of the HTTP API.
//
// It is strict because a lenient decoder lets two readers see two
// different documents: a repeated key (encoding/json keeps the last one),
// a key matching a field only when case is ignored ("Campaign" for
// "campaign"), a member no field knows, or bytes after the value are all
// refused, and so are invalid UTF-8 and arrays of the wrong length. The
// decoding itself is github.com/go-json-experiment/json (what becomes
// encoding/json/v2) with its strict options; this package adds the size
// limit, checked before anything is allocated, and error descriptions that
// never quote the document, which may hold an applicant's name.
package strictjson
