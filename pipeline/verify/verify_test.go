package verify_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/blindpack/blindpack/internal/samplepacket"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/verify"
)

// packet builds the packet of a committed sample.
var packet = samplepacket.Build

// expect is what the verifier is told of a sample's packet.
func expect(sub *pipeline.Submission, rep *pipeline.Report) verify.Expect {
	return pipeline.Expectation(sub, rep.Packet)
}

func TestGoodPacketsPass(t *testing.T) {
	for _, name := range synth.SampleDirs {
		t.Run(name, func(t *testing.T) {
			sub, rep, pdf := packet(t, name)
			if probs, err := verify.Packet(context.Background(), bytes.NewReader(pdf), int64(len(pdf)), expect(sub, rep)); err != nil || len(probs) > 0 {
				t.Fatalf("problems: %v", probs)
			}
		})
	}
}
