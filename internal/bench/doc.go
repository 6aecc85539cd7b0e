// Package bench is the harness behind `blindpack bench`: it generates a
// deterministic workload of synthetic 300-ppi scans, runs blindpack's own
// pipeline on it, and runs on the same pages what an administrator would
// otherwise script from standard tools (ImageMagick, img2pdf, qpdf) and
// the floor of any such pipeline (libjpeg-turbo's djpeg and cjpeg), so
// that one run gives comparable CPU seconds per page, wall time and peak
// memory of all three.
//
// The tools run as child processes and are measured by their rusage; the
// in-process pipeline is meant to run in a child blindpack process too
// (RunInProcess measures itself with getrusage and /proc), so that its
// peak RSS is that of a worker doing just this work.
package bench
