// Package consume runs a webhook.Router on AWS: a Lambda handler for an
// SQS trigger on the queue the receiver fills. It resolves claim-checked
// messages from S3, dispatches each event, and reports only the failed
// messages back (batch item failures), so the others are not redelivered.
//
// The event source mapping must enable ReportBatchItemFailures
// (FunctionResponseTypes: ["ReportBatchItemFailures"]); without it Lambda
// ignores the response and a failed message fails its whole batch.
package consume

import (
	"context"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/webhook"
)

// Options configure a consumer. Zero fields take defaults.
type Options struct {
	// Router handles the events; required.
	Router *webhook.Router
	// Fetcher reads claim-checked bodies: lambda.NewS3Fetcher(s3Client).
	// Nil when the receiver has no claim-check bucket; a claim-checked
	// message then fails.
	Fetcher core.ObjectFetcher
	// Logger gets one line per failed or skipped message; nil discards.
	Logger *slog.Logger
}

// SQSHandler is the Lambda handler: lambda.Start(consume.NewSQSHandler(o).Handle).
type SQSHandler struct {
	o Options
}

// NewSQSHandler returns the handler for o.
func NewSQSHandler(o Options) *SQSHandler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &SQSHandler{o: o}
}

// Handle processes one batch. Messages run in order, one at a time, so that
// a claim-checked body (up to the 10 MB a webhook can be) is held once. A
// message whose content_sha256 already came earlier in the batch is
// skipped: the receiver queues a retried webhook again. The Router's Seen,
// if set, extends that across batches. On a FIFO queue, the first failure
// fails the rest of the batch too, so that no message overtakes an earlier
// one of its group.
func (h *SQSHandler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	seen := make(map[string]bool, len(ev.Records))
	failed := false
	for _, m := range ev.Records {
		log := h.o.Logger.With("message_id", m.MessageId)
		if failed && strings.HasSuffix(m.EventSourceARN, ".fifo") {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			continue
		}
		attrs := attributes(m)
		key := attrs[core.AttrContentSHA256]
		if key != "" && seen[key] {
			log.Info("skipped: content_sha256 repeated in the batch", "event_type", attrs[core.AttrEventType])
			continue
		}
		if err := h.one(ctx, m, attrs, key); err != nil {
			log.Error("event not handled; it returns to the queue", "event_type", attrs[core.AttrEventType], "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			failed = true
			continue
		}
		if key != "" {
			seen[key] = true
		}
	}
	return resp, nil
}

func (h *SQSHandler) one(ctx context.Context, m events.SQSMessage, attrs map[string]string, key string) error {
	body, err := core.Resolve(ctx, []byte(m.Body), attrs, h.o.Fetcher)
	if err != nil {
		return err
	}
	dup, err := h.o.Router.DispatchOnce(ctx, key, body)
	if dup {
		h.o.Logger.Info("skipped: handled before", "message_id", m.MessageId, "event_type", attrs[core.AttrEventType])
	}
	return err
}

// attributes returns the message's String attributes by name.
func attributes(m events.SQSMessage) map[string]string {
	a := make(map[string]string, len(m.MessageAttributes))
	for k, v := range m.MessageAttributes {
		if v.StringValue != nil {
			a[k] = *v.StringValue
		}
	}
	return a
}
