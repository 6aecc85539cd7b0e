// Package claritycal runs the clarity check on the labelled synthetic set
// (synth.ClaritySet) and tabulates how well it did: a confusion matrix by
// reason, precision and recall per reason and for "unreadable" as a whole,
// and the range of every measure per variant, which is what the thresholds
// in the policy were chosen from. The calibration test and `blindpack
// calibrate` print the same tables.
package claritycal
