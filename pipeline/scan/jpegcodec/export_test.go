//go:build cgo && !purego

package jpegcodec

import (
	"bytes"
	"errors"
	"image"
)

// Rewrite is CanonicalGray (num 1–8) or Canonical (num 0) with
// libjpeg-turbo, streamed where the file allows it or, with whole, from
// libjpeg's whole-image coefficient arrays: the streamed rewrite's oracle.
// streamed says which path it took.
func Rewrite(data []byte, num int, whole bool) (out []byte, g *image.Gray, streamed bool, err error) {
	mode := rewriteStream
	if whole {
		mode = rewriteWhole
	}
	var b bytes.Buffer
	if num == 0 {
		streamed, err = turboCanonical(&b, data, mode)
	} else {
		g, streamed, err = turboCanonicalGray(&b, data, num, nil, mode)
	}
	return b.Bytes(), g, streamed, err
}

// Unsupported reports an error that sends a file to image/jpeg.
func Unsupported(err error) bool { return errors.Is(err, errUnsupported) }

// Size is a JPEG's size as its frame header declares it.
func Size(data []byte) (w, h int, err error) {
	w, h, _, _, err = turboInfo(data, 8, false)
	return w, h, err
}
