//go:build !cgo || purego

package jpegcodec

import (
	"image"
	"io"
)

const haveTurbo = false

func turboDecode([]byte) (image.Image, error) { return nil, errUnsupported }

func turboDecodeGray([]byte, int, []byte, ...[2]int) (*image.Gray, error) {
	return nil, errUnsupported
}

func turboEncode(io.Writer, image.Image, int) error { return errUnsupported }

type rewriteMode int

const (
	rewriteStream rewriteMode = iota
	rewriteWhole
)

func turboCanonical(io.Writer, []byte, rewriteMode) (rewritten, error) {
	return rewritten{copied: -1}, errUnsupported
}

func turboCanonicalGray(io.Writer, []byte, int, []byte, []image.Rectangle, rewriteMode) (*image.Gray, rewritten, error) {
	return nil, rewritten{copied: -1}, errUnsupported
}
