// Package scan reads uploaded files — JPEG, PNG or PDF, decided by their
// content — into pages as a person sees them, safely: every size is checked
// before anything is allocated for it, and every way a file can be wrong ends
// in a *finding.Error with a stable code rather than a crash.
//
// A page keeps its image as it was stored (so that an unmasked JPEG can go
// into the packet byte for byte) together with the orientation that turns
// the stored image into the displayed page: EXIF orientation for photos,
// /Rotate and the image matrix for PDF pages.
package scan
