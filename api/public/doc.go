// Package public is what anyone may use in `blindpack serve`, without
// signing in: /results/, the signed result files the authority issued,
// by campaign (title, document number, date, how many persons, download);
// and /verify/, where anyone holding a result file uploads it and is told
// whether it is genuine — the signature is valid, the signer chains to
// the configured authority, nothing was changed or added after signing —
// and what it says. /verify/ calls the same code as `blindpack verify`
// (result.Verify), reads the upload into memory only, bounded, and keeps
// nothing: the file is never written anywhere, nor logged.
package public
