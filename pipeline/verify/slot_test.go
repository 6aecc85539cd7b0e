package verify

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

// TestPacketWaitsForTheSlot: while the slot is held, Packet waits, counted
// as waiting, and gives up when its context ends.
func TestPacketWaitsForTheSlot(t *testing.T) {
	slot <- struct{}{} // another verification is running
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Packet(ctx, bytes.NewReader(nil), 0, Expect{})
		done <- err
	}()
	for i := 0; ; i++ {
		if _, waiting := Load(); waiting == 1 {
			break
		}
		if i > 1000 {
			t.Fatal("Packet does not wait for the slot")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("Packet ran while the slot was held: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	<-slot
	if running, waiting := Load(); running != 0 || waiting != 0 {
		t.Errorf("load after: %d running, %d waiting", running, waiting)
	}
	// With the slot free, the same call runs (and finds the empty file
	// unverifiable).
	probs, err := Packet(context.Background(), bytes.NewReader(nil), 0, Expect{})
	if err != nil || len(probs) == 0 {
		t.Errorf("free slot: %v %v", probs, err)
	}
}
