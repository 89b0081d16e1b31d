package core_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/elevenrelay/elevenrelay/core"
)

type nopSink struct{}

func (nopSink) Publish(context.Context, *core.Message) (string, error) { return "id", nil }

var _ core.Sink = nopSink{}

func TestReceiverReject(t *testing.T) {
	broken := fmt.Errorf("%w: not an event", core.ErrBodyRead)
	verifier, err := core.NewVerifier([]string{"wsec_test"}, core.VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		receiver    core.Receiver
		wantStatus  int
		wantBody    string
		wantOutcome string
	}{
		{"configured: the platform's error", core.Receiver{Verifier: verifier, Sink: nopSink{}}, 400,
			`{"error":"request body could not be read: not an event"}`, "rejected"},
		{"no secret: fails closed", core.Receiver{Sink: nopSink{}}, 500,
			`{"error":"Webhook secret not configured"}`, "error"},
		{"no queue: fails closed", core.Receiver{Verifier: verifier}, 500,
			`{"error":"configuration unusable"}`, "error"},
		{"configuration error: fails closed", core.Receiver{Verifier: verifier, Sink: nopSink{}, Err: errors.New("bad")}, 500,
			`{"error":"configuration unusable"}`, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			r := tt.receiver
			r.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			res := r.Reject(context.Background(), &core.Request{RequestID: "req-1"}, broken)
			if res.Status != tt.wantStatus || string(res.Body) != tt.wantBody {
				t.Fatalf("Reject = %d %s, want %d %s", res.Status, res.Body, tt.wantStatus, tt.wantBody)
			}
			var line struct {
				RequestID string `json:"request_id"`
				Outcome   string `json:"outcome"`
				Status    int    `json:"status"`
			}
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("log line %q: %v", logs.String(), err)
			}
			if line.RequestID != "req-1" || line.Outcome != tt.wantOutcome || line.Status != tt.wantStatus {
				t.Fatalf("log line %s", logs.String())
			}
		})
	}
}
