package core_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
)

func ExampleVerifier_Verify() {
	now := time.Unix(1763859600, 0)
	body := []byte(`{"type":"post_call_transcription","data":{"conversation_id":"conv_1"}}`)
	header := core.Sign("wsec_example", now, body) // what ElevenLabs sends

	v, err := core.NewVerifier([]string{"wsec_example"}, core.VerifierOptions{
		Now: func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	sig, err := v.Verify(body, header)
	fmt.Println(sig.Timestamp, err)

	_, err = v.Verify(append(body, ' '), header)
	fmt.Println(errors.Is(err, core.ErrSignatureMismatch), err)
	// Output:
	// 1763859600 <nil>
	// true Signature hash does not match the expected signature hash for payload
}

// printSink stands in for a queue.
type printSink struct{}

func (printSink) Publish(ctx context.Context, m *core.Message) (string, error) {
	fmt.Println("queued", m.EventType, m.ConversationID, len(m.Body), "bytes")
	return "message-1", nil
}

func ExampleReceiver_Handle() {
	now := time.Unix(1763859600, 0)
	v, _ := core.NewVerifier([]string{"wsec_example"}, core.VerifierOptions{Now: func() time.Time { return now }})
	r := &core.Receiver{
		Verifier: v,
		Sink:     printSink{},
		Now:      func() time.Time { return now },
		// Drop the time so the example's output is stable.
		Logger: slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey || a.Key == "duration_ms" {
					return slog.Attr{}
				}
				return a
			},
		})),
	}
	body := []byte(`{"type":"post_call_transcription","data":{"conversation_id":"conv_1"}}`)
	res := r.Handle(context.Background(), &core.Request{
		Method:    "POST",
		Headers:   map[string][]string{"elevenlabs-signature": {core.Sign("wsec_example", now, body)}},
		Body:      body,
		RequestID: "req-1",
	})
	fmt.Println(res.Status, string(res.Body))

	res = r.Handle(context.Background(), &core.Request{Method: "POST", Body: bytes.Clone(body), RequestID: "req-2"})
	fmt.Println(res.Status, string(res.Body))
	// Output:
	// queued post_call_transcription conv_1 70 bytes
	// {"level":"INFO","msg":"webhook","request_id":"req-1","event_type":"post_call_transcription","outcome":"accepted","status":200,"bytes":70,"message_id":"message-1"}
	// 200 {"status":"accepted","message_id":"message-1"}
	// {"level":"WARN","msg":"webhook","request_id":"req-2","event_type":"","outcome":"rejected","status":400,"bytes":70,"error":"Missing signature header"}
	// 400 {"error":"Missing signature header"}
}

// A body stored on arrival is verified later, streamed from storage: the
// tolerance counts from when it was received, not from now.
func ExampleVerifier_VerifyStream() {
	received := time.Unix(1763859600, 0)
	body := []byte(`{"type":"post_call_audio","data":{"conversation_id":"conv_1","full_audio":"SUQz"}}`)
	header := core.Sign("wsec_example", received, body)

	v, _ := core.NewVerifier([]string{"wsec_example"}, core.VerifierOptions{})
	m, n, err := v.VerifyStream(bytes.NewReader(body), header, received)
	fmt.Println(m.EventType, m.ConversationID, n, m.Body == nil, err)

	// The same request, stored two hours after it was signed: stale.
	_, _, err = v.VerifyStream(bytes.NewReader(body), header, received.Add(2*time.Hour))
	fmt.Println(err)
	// Output:
	// post_call_audio conv_1 82 true <nil>
	// Timestamp outside the tolerance zone
}
