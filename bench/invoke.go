package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/lambda"
)

// InvokeSizes are the body sizes the Lambda invoke cost is timed at: a
// typical transcript, and the largest body SQS takes without a claim check.
var InvokeSizes = []Size{{"5 KiB", 5 << 10}, {"1 MiB", 1 << 20}}

// PrepareInvoke returns one Lambda invocation of the real handler, from the
// raw Function URL event bytes to the response bytes, with a queue that
// accepts at once: what the function itself costs per webhook. Logging is
// on, as deployed, into a handler that discards the lines.
func PrepareInvoke(body []byte) func() error {
	v, err := core.NewVerifier([]string{Secret}, core.VerifierOptions{})
	if err != nil {
		panic(err)
	}
	h := &lambda.Handler{Receiver: &core.Receiver{
		Verifier: v, Sink: acceptSink{}, Logger: slog.New(slog.DiscardHandler),
	}}
	event := FunctionURLEvent(body)
	ctx := context.Background()
	want := []byte(`{"statusCode":200`)
	return func() error {
		out, err := h.Invoke(ctx, event)
		if err != nil {
			return err
		}
		if len(out) < len(want) || string(out[:len(want)]) != string(want) {
			return fmt.Errorf("invoke answered %.200s", out)
		}
		return nil
	}
}

// acceptSink is a queue that takes every message at once.
type acceptSink struct{}

var _ core.Sink = acceptSink{}

func (acceptSink) Publish(_ context.Context, m *core.Message) (string, error) {
	if len(m.Body) == 0 {
		return "", errors.New("empty message")
	}
	return "bench-message", nil
}
