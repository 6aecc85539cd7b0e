//go:build dev

package main

// devBuild says whether this binary has the development commands (demo,
// bench, calibrate): this one, built with -tags dev, does.
const devBuild = true
