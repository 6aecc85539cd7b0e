// Package clarity says whether a page can be read: it measures a page's
// luminance (Measure) — resolution, sharpness, the brightness of paper and
// ink, their contrast, how much of the page carries writing, how hard a JPEG
// was compressed, and for a phone photo where the sheet is in the frame
// (sheet.go) — and judges the measures against the policy's Thresholds
// (Check), one finding per failing measure. The same pass takes the page's
// PageHash, which finds pages uploaded twice.
//
// It works on a luminance plane and knows nothing of files: package scan
// decodes a page (a JPEG at the reduced scale the measures need) and
// describes it (Source); package policy loads the thresholds. The two hot
// loops have C versions (kernels_cgo.go), used whenever package jpegcodec
// uses libjpeg-turbo, that give the same numbers to the bit. Subpackage
// calibrate tabulates how the check does on a labelled synthetic set, for
// development only.
package clarity
