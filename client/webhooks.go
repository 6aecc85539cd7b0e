package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/blindpack/blindpack/api/wire"
)

// ErrWebhook is returned (wrapped) for a delivery that is not signed by
// one of the secrets, is older or newer than 5 minutes, or is not an
// event.
var ErrWebhook = errors.New("client: webhook refused")

// Verify checks a webhook delivery as the Standard Webhooks reference
// library does — a signature over "id.timestamp.body" by one of the
// endpoint's secrets (two while they rotate), a timestamp within 5
// minutes of now — and decodes its event. It returns the event's id
// (webhook-id): the same on every attempt, so keep the ids seen and drop
// repeats.
func Verify(secrets []string, header http.Header, body []byte) (string, wire.Event, error) {
	var last error = errors.New("no secret")
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			return "", wire.Event{}, fmt.Errorf("%w: a secret is not whsec_ and base64", ErrWebhook)
		}
		if last = wh.Verify(body, header); last == nil {
			break
		}
	}
	if last != nil {
		return "", wire.Event{}, fmt.Errorf("%w: %w", ErrWebhook, last)
	}
	var ev wire.Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.Type == "" {
		return "", wire.Event{}, fmt.Errorf("%w: not an event", ErrWebhook)
	}
	return header.Get(standardwebhooks.HeaderWebhookID), ev, nil
}
