// Package scan reads uploaded files — JPEG, PNG, PDF, TIFF, HEIC, WebP or
// BMP, decided by their content — into pages as a person sees them, safely:
// every size is checked before anything is allocated for it, and every way a
// file can be wrong ends in a *finding.Error with a stable code rather than a
// crash.
//
// A page keeps its image as it was stored (so that an unmasked JPEG can go
// into the packet byte for byte) together with the orientation that turns
// the stored image into the displayed page: EXIF orientation for photos,
// /Rotate and the image matrix for PDF pages, the orientation tag for TIFF.
// TIFF, HEIC (decoded by libheif in the WebAssembly sandbox of package
// heif), WebP and BMP pages exist only as decoded pixels: nothing else of
// those files is kept.
//
// A page is measured for clarity (MeasurePage) by package clarity, to which
// scan hands the page's luminance, decoded no larger than the measures need,
// and what the page is: its size, resolution and orientation.
package scan
