// Package jpegcodec decodes and encodes the JPEG pages of uploads.
//
// Built with cgo (the default where a C compiler and libjpeg-turbo's
// headers are present: Debian's libjpeg62-turbo-dev), it calls
// libjpeg-turbo, whose SIMD codecs decode about three times and encode
// about four times faster than image/jpeg, and which can decode at a
// reduced scale in the DCT domain (M/8 of the size, for nearly the cost
// of the entropy decoding alone): the clarity check measures pages at
// 150 ppi, so a 300-ppi page is decoded straight to half size.
//
// Built without cgo (CGO_ENABLED=0), or with the purego build tag, it
// uses image/jpeg and resamples in Go; SetPureGo switches a cgo build to
// that path at run time, which is how `blindpack bench` shows the two
// side by side. Both paths refuse the same damaged files: libjpeg's
// warnings (corrupt or truncated entropy data), which it would otherwise
// paper over with grey, are errors here, as they are in image/jpeg.
//
// The two paths do not give the same bytes when they encode: the workers
// of one deployment must all be built the same way for a re-run to
// rewrite an identical packet.
package jpegcodec
