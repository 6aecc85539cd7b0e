package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/blindpack/blindpack/workers"
)

// runWebhooks is `blindpack webhooks`: make a signing secret for an
// endpoint, or check a webhooks file as `worker --webhooks` will read it.
func runWebhooks(_ context.Context, args []string) error {
	fs := newFlagSet("webhooks")
	size := fs.Int("bytes", 32, "random bytes in a new secret (24 to 64)")
	if err := parse(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	usage := exitError{code: 2, err: errors.New("usage: blindpack webhooks secret [--bytes N] | check FILE")}
	args = fs.Args()
	switch {
	case len(args) == 1 && args[0] == "secret":
		s, err := workers.NewSecretOf(*size)
		if err != nil {
			return exitError{code: 2, err: err}
		}
		// Printed once: it goes into the webhooks file and to the receiver.
		fmt.Println(string(s))
		return nil
	case len(args) == 2 && args[0] == "check":
		c, err := workers.LoadWebhooks(args[1])
		if err != nil {
			return exitError{code: 1, err: err}
		}
		for _, e := range c.Endpoints {
			events := "all events"
			if len(e.Events) > 0 {
				events = fmt.Sprint(e.Events)
			}
			fmt.Printf("%s: %d secret(s), %s\n", e.ID, len(e.Secrets), events)
		}
		return nil
	}
	return usage
}
