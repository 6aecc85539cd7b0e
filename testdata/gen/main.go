// Command gen regenerates the committed sample submissions:
//
//	go run ./testdata/gen -out testdata/samples
//
// It lives under testdata so that `go test ./...` and `go vet ./...` skip it
// while `go run` with an explicit path still builds it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/blindpack/blindpack/internal/synth"
)

func main() {
	out := flag.String("out", "testdata/samples", "directory to write the sample submissions into")
	flag.Parse()
	if err := synth.WriteSamples(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for _, d := range synth.SampleDirs {
		fmt.Println(*out + "/" + d)
	}
}
