package lambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	awslambda "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/elevenrelay/elevenrelay/core"
)

// Handler is the function's handler: it takes the raw invocation event from
// API Gateway (REST or HTTP API) or a Function URL, hands the request to the
// Receiver, and answers with one encoding that every one of those reads. It
// works on bytes (a raw lambda.Handler) so that a megabyte body is not
// decoded twice.
//
// The same handler processes the storage-first endpoint's stored requests:
// S3 notifications for objects under inbox/, directly or through an SQS
// queue (see Inbox).
type Handler struct {
	Receiver *core.Receiver
	// Inbox processes stored requests; nil when the function has no
	// bucket or secret, and then inbox notifications fail to be retried.
	Inbox *Inbox
}

var _ awslambda.Handler = (*Handler)(nil)

// Invoke answers one invocation. It returns an error only if the answer
// cannot be encoded, which does not happen: every failure, an unreadable
// event included, is an HTTP answer, so that API Gateway passes on our
// status and body instead of its own 502.
func (h *Handler) Invoke(ctx context.Context, payload []byte) (out []byte, err error) {
	if looksLikeRecords(payload) {
		if ev, ok := decodeRecords(payload); ok {
			return h.invokeRecords(ctx, ev)
		}
		return nil, errUnreadableRecords
	}
	req := &core.Request{}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		req.RequestID = lc.AwsRequestID // unless the event names the request
	}
	defer func() {
		// A bug, in the hand-written event scanner as anywhere else, must
		// cost one request a 500, never the process: the runtime would
		// report a function error and API Gateway a bare 502.
		if p := recover(); p != nil {
			res := h.Receiver.Reject(ctx, req, fmt.Errorf("panic: %v", p))
			out, err = encodeResponse(res)
		}
	}()
	ev, derr := decodeEvent(payload)
	req.Method, req.Body, req.SourceIP = ev.method, ev.body, ev.sourceIP
	if ev.requestID != "" {
		req.RequestID = ev.requestID
	}
	if errors.Is(derr, ErrUnsupportedEvent) {
		// Records in an order or spacing the quick look missed.
		if ev, ok := decodeRecords(payload); ok {
			return h.invokeRecords(ctx, ev)
		}
		if hasRecordsKey(payload) {
			return nil, errUnreadableRecords
		}
	}
	if derr != nil {
		// One encoding serves every shape (see response), so an event
		// that could not be read is answered like any other.
		return encodeResponse(h.Receiver.Reject(ctx, req, derr))
	}
	req.Headers = headerMap(ev)
	if ev.isBase64Encoded {
		body, err := decodeBase64(ev.body)
		ev.release()
		if err != nil {
			return encodeResponse(h.Receiver.Reject(ctx, req, err))
		}
		req.Body = body
	}
	res := h.Receiver.Handle(ctx, req)
	// After a 5xx or a spill a timed-out queue call may still be running
	// with the body: its buffer is then left to the garbage collector.
	if res.BodyReleased {
		ev.release()
	}
	return encodeResponse(res)
}

// headerMap merges the single- and multi-value headers. REST APIs send both,
// holding the same values; the Receiver treats a repeat of one value as
// one, and two different signature values as the conflict they are.
func headerMap(ev httpEvent) map[string][]string {
	m := make(map[string][]string, len(ev.headers)+len(ev.multiValueHeaders))
	for k, v := range ev.headers {
		m[k] = append(m[k], v)
	}
	for k, vs := range ev.multiValueHeaders {
		m[k] = append(m[k], vs...)
	}
	return m
}

// decodeBase64 decodes a body that API Gateway or a Function URL encoded
// (binary media types, or any type a REST API lists as binary).
func decodeBase64(b []byte) ([]byte, error) {
	out := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(out, b)
	if err != nil {
		return nil, fmt.Errorf("%w: isBase64Encoded is set but the body is not base64", core.ErrBodyRead)
	}
	return out[:n], nil
}

// response is the answer in the fields that the REST proxy integration,
// HTTP API payload 2.0 and Function URLs all read the same way, so one
// encoding serves every shape (events.APIGatewayProxyResponse and
// events.APIGatewayV2HTTPResponse decode it alike).
type response struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}

func encodeResponse(res core.Response) ([]byte, error) {
	return json.Marshal(response{StatusCode: res.Status, Headers: res.Headers, Body: string(res.Body)})
}
