package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// errNoInbox answers inbox notifications that this function cannot process
// (no bucket, or no secret): they fail, so that they are retried once it
// can, and never get rejected for our own configuration.
var errNoInbox = errors.New("inbox notification, but the function has no usable secret, queue or CLAIM_CHECK_BUCKET: left for a retry")

// recordsEvent is an invocation carrying records instead of an HTTP
// request: S3 event notifications, directly or inside SQS messages.
type recordsEvent struct {
	Records []struct {
		EventSource string `json:"eventSource"`
		// SQS
		MessageID string `json:"messageId"`
		Body      string `json:"body"`
		// S3
		EventName string    `json:"eventName"`
		S3        *s3Entity `json:"s3"`
	} `json:"Records"`
}

// s3Notification is the body of an SQS message that S3 sent: an S3 event,
// or the test event S3 sends when the notification is configured.
type s3Notification struct {
	Records []struct {
		EventName string   `json:"eventName"`
		S3        s3Entity `json:"s3"`
	} `json:"Records"`
	Event string `json:"Event"`
}

// s3Entity is the part of an S3 event record that names the object. Only
// what is used is decoded (events.S3EventRecord also decodes eventTime,
// and refuses the whole record if its format ever differs).
type s3Entity struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key string `json:"key"`
	} `json:"object"`
}

// looksLikeRecords is a cheap look at whether an invocation is an S3 or SQS
// event, which AWS sends as {"Records":[…]}; the HTTP path is not slowed.
func looksLikeRecords(payload []byte) bool {
	p := bytes.TrimLeft(payload, " \t\r\n")
	if len(p) == 0 || p[0] != '{' {
		return false
	}
	return bytes.HasPrefix(bytes.TrimLeft(p[1:], " \t\r\n"), []byte(`"Records"`))
}

// errUnreadableRecords fails an invocation whose Records this function
// does not understand (another event source, S3 through SNS, a field of an
// unexpected type). An HTTP-shaped answer would pass for success: the SQS
// event source mapping would delete the whole batch and S3 would not
// retry, so the notifications would vanish without a dead letter.
var errUnreadableRecords = errors.New("records event not understood (only S3 notifications, directly or through SQS): failing it so that the platform retries and dead-letters it")

// hasRecordsKey reports whether payload is a JSON object with a top-level
// Records member. It is only asked on the error path.
func hasRecordsKey(payload []byte) bool {
	var probe struct {
		Records json.RawMessage `json:"Records"`
	}
	return json.Unmarshal(payload, &probe) == nil && probe.Records != nil
}

// decodeRecords reads an S3 or SQS event; ok is false for anything else.
func decodeRecords(payload []byte) (recordsEvent, bool) {
	var ev recordsEvent
	if err := json.Unmarshal(payload, &ev); err != nil || len(ev.Records) == 0 {
		return ev, false
	}
	for _, r := range ev.Records {
		if r.EventSource != "aws:sqs" && r.EventSource != "aws:s3" {
			return ev, false
		}
	}
	return ev, true
}

// invokeRecords processes each inbox object named by the event. Through
// SQS, a record whose object could not be processed is reported in
// batchItemFailures (the queue redelivers it, later its dead-letter queue
// takes it); directly from S3, any failure fails the invocation, so that
// Lambda retries it. Records already processed are no-ops on a retry.
func (h *Handler) invokeRecords(ctx context.Context, ev recordsEvent) (out []byte, err error) {
	defer func() {
		// A panic must fail the records, never pass for success.
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("panic processing inbox records: %v", p)
		}
	}()
	var failures []events.SQSBatchItemFailure
	var errs []error
	for _, r := range ev.Records {
		switch r.EventSource {
		case "aws:sqs":
			if err := h.sqsRecord(ctx, r.Body); err != nil {
				h.logger().Error("inbox: SQS message failed; it will be redelivered", "message_id", r.MessageID, "error", err.Error())
				failures = append(failures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageID})
			}
		case "aws:s3":
			if err := h.s3Record(ctx, r.EventName, r.S3); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if failures == nil {
		failures = []events.SQSBatchItemFailure{}
	}
	return json.Marshal(events.SQSEventResponse{BatchItemFailures: failures})
}

// sqsRecord processes the S3 notification in one SQS message's body.
func (h *Handler) sqsRecord(ctx context.Context, body string) error {
	var n s3Notification
	if err := json.Unmarshal([]byte(body), &n); err != nil {
		return fmt.Errorf("message is not an S3 notification: %w", err)
	}
	if n.Event == "s3:TestEvent" {
		return nil // sent once when the notification is configured
	}
	if len(n.Records) == 0 {
		return errors.New("message is not an S3 notification: no Records")
	}
	var errs []error
	for _, r := range n.Records {
		if err := h.s3Record(ctx, r.EventName, &r.S3); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// s3Record processes one S3 event record: ObjectCreated under inbox/.
func (h *Handler) s3Record(ctx context.Context, eventName string, e *s3Entity) error {
	if e == nil {
		return errors.New("S3 record without s3")
	}
	key, err := inboxKey(e.Object.Key)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(eventName, "ObjectCreated:") || !strings.HasPrefix(key, InboxPrefix) {
		h.logger().Debug("inbox: record ignored", "event_name", eventName, "key", key)
		return nil
	}
	if h.Inbox == nil {
		h.logger().Error("inbox: "+errNoInbox.Error(), "key", key)
		return errNoInbox
	}
	return h.Inbox.Process(ctx, e.Bucket.Name, key)
}

func (h *Handler) logger() *slog.Logger {
	if h.Receiver != nil && h.Receiver.Logger != nil {
		return h.Receiver.Logger
	}
	return slog.Default()
}
