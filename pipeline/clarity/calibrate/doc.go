// Package calibrate runs the clarity check on the labelled synthetic sets
// (synth.ClaritySet, synth.PhotoSet), each page read as an upload is read
// (package scan), and tabulates how well it did: a confusion matrix by
// reason, precision and recall per reason and for "unreadable" as a whole,
// and the range of every measure per variant, which is what the thresholds
// in the policy were chosen from. The calibration test and `blindpack
// calibrate` print the same tables. It is development code: only the
// development build of blindpack links it.
package calibrate
