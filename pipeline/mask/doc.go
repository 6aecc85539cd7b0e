// Package mask burns the applicant's masking rectangles into page pixels.
//
// A mask is given in fractions of the page as displayed; it is mapped to the
// stored image through the page's placement and orientation, rounded
// outward to whole pixels, and painted solid black in the samples
// themselves, so the original pixels under it no longer exist anywhere in
// the output.
package mask
