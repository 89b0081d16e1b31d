// Package consume runs a webhook.Router on Google Cloud: Pull receives
// from a Pub/Sub subscription, NewPushHandler serves a push subscription's
// endpoint. Both resolve claim-checked messages from Cloud Storage,
// dispatch each event, and acknowledge only what was handled: a failed
// message is nacked (pull) or answered 500 (push) and Pub/Sub delivers it
// again, to the subscription's dead-letter topic after its maximum
// delivery attempts.
package consume

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"cloud.google.com/go/pubsub/v2"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/webhook"
)

// Options configure a consumer. Zero fields take defaults.
type Options struct {
	// Router handles the events; required. Pull runs handlers for several
	// messages at once (the subscriber's ReceiveSettings), so they must be
	// safe for concurrent use.
	Router *webhook.Router
	// Fetcher reads claim-checked bodies: gcf.Fetcher{Client: gcsClient}.
	// Nil when the receiver has no claim-check bucket; a claim-checked
	// message then fails.
	Fetcher core.ObjectFetcher
	// Logger gets one line per failed or skipped message; nil discards.
	Logger *slog.Logger
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// handle resolves and dispatches one message.
func (o Options) handle(ctx context.Context, id string, data []byte, attrs map[string]string) error {
	log := o.logger().With("message_id", id, "event_type", attrs[core.AttrEventType])
	body, err := core.Resolve(ctx, data, attrs, o.Fetcher)
	if err == nil {
		var dup bool
		dup, err = o.Router.DispatchOnce(ctx, attrs[core.AttrContentSHA256], body)
		if dup {
			log.Info("skipped: handled before")
		}
	}
	if err != nil {
		log.Error("event not handled; Pub/Sub delivers it again", "error", err.Error())
	}
	return err
}

// Pull receives from sub until ctx is done or receiving fails, acking each
// handled message and nacking the others. Limit memory with the
// subscriber's ReceiveSettings: each claim-checked message in flight holds
// its body (up to 10 MB) while it is handled.
func Pull(ctx context.Context, sub *pubsub.Subscriber, o Options) error {
	if o.Router == nil {
		return errors.New("consume: Options.Router is nil")
	}
	return sub.Receive(ctx, func(ctx context.Context, m *pubsub.Message) {
		if o.handle(ctx, m.ID, m.Data, m.Attributes) != nil {
			m.Nack()
			return
		}
		m.Ack()
	})
}

// maxPushBody bounds a push request: Pub/Sub's 10 MB message, base64, in
// its JSON envelope.
const maxPushBody = 14 << 20

// pushRequest is what a push subscription POSTs.
type pushRequest struct {
	Message struct {
		Data       []byte            `json:"data"`
		Attributes map[string]string `json:"attributes"`
		MessageID  string            `json:"messageId"`
	} `json:"message"`
	Subscription string `json:"subscription"`
}

// NewPushHandler returns the endpoint for a push subscription: 204 acks a
// handled message; 500 makes Pub/Sub push it again; a request that is not
// a push envelope gets 400. Authenticate the pushes before this handler
// runs (the subscription's OIDC token, checked by Cloud Run's IAM or by
// your own middleware): it trusts the messages it is given as verified.
func NewPushHandler(o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		req, err := readPush(w, r)
		if err != nil {
			o.logger().Warn("not a Pub/Sub push request", "error", err.Error())
			http.Error(w, "not a Pub/Sub push request", http.StatusBadRequest)
			return
		}
		if err := o.handle(r.Context(), req.Message.MessageID, req.Message.Data, req.Message.Attributes); err != nil {
			http.Error(w, "event not handled", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// readPush decodes the envelope; its base64 text is garbage once Data is
// decoded, before the event is handled.
func readPush(w http.ResponseWriter, r *http.Request) (*pushRequest, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPushBody))
	if err != nil {
		return nil, err
	}
	var req pushRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	if req.Message.MessageID == "" {
		return nil, errors.New("no message.messageId")
	}
	return &req, nil
}
