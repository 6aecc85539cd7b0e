// Package finding is the catalogue of finding codes: the stable snake_case
// words that the upload service and administrators act on, each with a
// sentence in Chinese and English that tells an applicant what to fix.
//
// It is a leaf package so that every stage (scan, mask, packet) can name a
// code without importing the pipeline that runs it.
package finding
