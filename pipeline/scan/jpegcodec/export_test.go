//go:build cgo && !purego

package jpegcodec

import (
	"bytes"
	"errors"
	"image"
)

// Rewrite is CanonicalGray (num 1–8) or Canonical (num 0) with
// libjpeg-turbo, streamed where the file allows it (copying the
// entropy-coded data where it can) or, with whole, from libjpeg's
// whole-image coefficient arrays: the streamed rewrite's oracle. streamed
// says which path it took.
func Rewrite(data []byte, num int, whole bool) (out []byte, g *image.Gray, streamed bool, err error) {
	mode := RewriteStream
	if whole {
		mode = RewriteWhole
	}
	out, g, r, err := RewriteWith(data, num, mode)
	return out, g, r.Streamed, err
}

// RewriteMode is a way RewriteWith can take.
type RewriteMode = rewriteMode

// The ways RewriteWith can take.
const (
	RewriteStream = rewriteStream // streamed where the file allows it, copying where it can
	RewriteEncode = rewriteEncode // streamed where the file allows it, every MCU encoded
	RewriteWhole  = rewriteWhole  // libjpeg's whole-image arrays
)

// Rewritten says which way a rewrite went: Copied is the number of MCUs
// whose entropy-coded data was copied, -1 when the copying path was not
// taken (or gave up).
type Rewritten struct {
	Streamed bool
	Copied   int
}

// RewriteWith is Rewrite the given way.
func RewriteWith(data []byte, num int, mode rewriteMode) (out []byte, g *image.Gray, r Rewritten, err error) {
	var b bytes.Buffer
	var rw rewritten
	if num == 0 {
		rw, err = turboCanonical(&b, data, mode)
	} else {
		g, rw, err = turboCanonicalGray(&b, data, num, nil, nil, mode)
	}
	return b.Bytes(), g, Rewritten{Streamed: rw.streamed, Copied: rw.copied}, err
}

// Unsupported reports an error that sends a file to image/jpeg.
func Unsupported(err error) bool { return errors.Is(err, errUnsupported) }

// Size is a JPEG's size as its frame header declares it.
func Size(data []byte) (w, h int, err error) {
	w, h, _, _, err = turboInfo(data, 8, false)
	return w, h, err
}

// RewriteMasked is CanonicalGrayMasked (num 1–8) the given way.
func RewriteMasked(data []byte, num int, masks []image.Rectangle, mode rewriteMode) (out []byte, g *image.Gray, r Rewritten, err error) {
	var b bytes.Buffer
	g, rw, err := turboCanonicalGray(&b, data, num, nil, masks, mode)
	if errors.Is(err, errUnsupported) {
		err = ErrUnmaskable
	}
	return b.Bytes(), g, Rewritten{Streamed: rw.streamed, Copied: rw.copied}, err
}
