package lambda

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/logging"
	"github.com/stretchr/testify/require"
)

const testSecret = "wsec_test_lambda_handler"

// recordingSink keeps what it is given.
type recordingSink struct {
	mu   sync.Mutex
	msgs []*core.Message
}

var _ core.Sink = (*recordingSink)(nil)

func (s *recordingSink) Publish(_ context.Context, m *core.Message) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *m
	c.Body = bytes.Clone(m.Body) // sinks must not keep the body they are given
	s.msgs = append(s.msgs, &c)
	return "msg-1", nil
}

func testHandler(t testing.TB, sink core.Sink, logs *bytes.Buffer) *Handler {
	t.Helper()
	v, err := core.NewVerifier([]string{testSecret}, core.VerifierOptions{})
	require.NoError(t, err)
	return &Handler{Receiver: &core.Receiver{Verifier: v, Sink: sink, Logger: logging.New(logs, 0)}}
}

// v2Event is an HTTP API event carrying body with the given headers.
func v2Event(t testing.TB, body []byte, headers map[string]string, b64 bool) []byte {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "ANY /webhook", Headers: headers, Body: string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-v2",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", SourceIP: "34.67.146.145"}}}
	if b64 {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	return b
}

// v1Event is a REST proxy event.
func v1Event(t testing.TB, method string, body []byte, headers map[string]string, multi map[string][]string, b64 bool) []byte {
	t.Helper()
	ev := events.APIGatewayProxyRequest{Resource: "/webhook", HTTPMethod: method, Headers: headers, MultiValueHeaders: multi, Body: string(body),
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "req-v1", Identity: events.APIGatewayRequestIdentity{SourceIP: "34.67.146.145"}}}
	if b64 {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	return b
}

func TestHandlerInvoke(t *testing.T) {
	body := []byte(mustRead(t, "../events/bodies/post_call_transcription.json"))
	sig := core.Sign(testSecret, time.Now(), body)
	wrong := core.Sign("wsec_other", time.Now(), body)
	stale := core.Sign(testSecret, time.Now().Add(-time.Hour), body)
	accepted := `{"status":"accepted","message_id":"msg-1"}`
	tests := []struct {
		name       string
		event      []byte
		wantStatus int
		wantBody   string
		wantAllow  bool
	}{
		{"v2 lower-case header", v2Event(t, body, map[string]string{"elevenlabs-signature": sig}, false), 200, accepted, false},
		{"v2 base64 body", v2Event(t, body, map[string]string{"elevenlabs-signature": sig}, true), 200, accepted, false},
		{"v2 upper-case header", v2Event(t, body, map[string]string{"ELEVENLABS-SIGNATURE": sig}, false), 200, accepted, false},
		{"v1 sender's case", v1Event(t, "POST", body, map[string]string{"ElevenLabs-Signature": sig}, nil, false), 200, accepted, false},
		{"v1 header in multiValueHeaders only", v1Event(t, "POST", body, nil, map[string][]string{"elevenlabs-signature": {sig}}, false), 200, accepted, false},
		{"v1 header in both maps", v1Event(t, "POST", body, map[string]string{"ElevenLabs-Signature": sig}, map[string][]string{"ElevenLabs-Signature": {sig}}, true), 200, accepted, false},
		{"v1 two different signature values", v1Event(t, "POST", body, map[string]string{"ElevenLabs-Signature": sig}, map[string][]string{"ElevenLabs-Signature": {wrong, sig}}, false),
			400, `{"error":"Conflicting signature headers"}`, false},
		{"v1 GET", v1Event(t, "GET", nil, nil, nil, false), 405, `{"error":"method not allowed: use POST"}`, true},
		{"wrong secret", v2Event(t, body, map[string]string{"elevenlabs-signature": wrong}, false),
			400, `{"error":"Signature hash does not match the expected signature hash for payload"}`, false},
		{"stale", v2Event(t, body, map[string]string{"elevenlabs-signature": stale}, false), 400, `{"error":"Timestamp outside the tolerance zone"}`, false},
		{"no signature", v2Event(t, body, map[string]string{"content-type": "application/json"}, false), 400, `{"error":"Missing signature header"}`, false},
		{"body not base64", []byte(`{"version":"2.0","isBase64Encoded":true,"body":"{not base64}","requestContext":{"http":{"method":"POST"}}}`),
			400, `{"error":"request body could not be read: isBase64Encoded is set but the body is not base64"}`, false},
		{"not JSON", []byte("POST /webhook HTTP/1.1"),
			400, `{"error":"request body could not be read: event is not an API Gateway or Function URL request: invalid JSON at offset 1"}`, false},
		{"empty payload", nil,
			400, `{"error":"request body could not be read: event is not an API Gateway or Function URL request: invalid JSON at offset 0"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recordingSink{}
			var logs bytes.Buffer
			out, err := testHandler(t, sink, &logs).Invoke(context.Background(), tt.event)
			require.NoError(t, err)
			// Both response types must read the answer the same way.
			var v1 events.APIGatewayProxyResponse
			var v2 events.APIGatewayV2HTTPResponse
			require.NoError(t, json.Unmarshal(out, &v1))
			require.NoError(t, json.Unmarshal(out, &v2))
			require.Equal(t, tt.wantStatus, v2.StatusCode)
			require.Equal(t, tt.wantStatus, v1.StatusCode)
			require.Equal(t, tt.wantBody, v2.Body)
			require.False(t, v2.IsBase64Encoded)
			require.Equal(t, "application/json", v2.Headers["Content-Type"])
			if tt.wantAllow {
				require.Equal(t, "POST", v2.Headers["Allow"])
			}
			if tt.wantStatus == 200 {
				require.Len(t, sink.msgs, 1)
				require.Equal(t, body, sink.msgs[0].Body, "queued bytes differ from the signed body")
			} else {
				require.Empty(t, sink.msgs)
			}
			require.Equal(t, 1, strings.Count(logs.String(), "\n"), "want one log line per request: %s", logs.String())
			require.NotContains(t, logs.String(), testSecret)
			require.NotContains(t, logs.String(), sig[strings.Index(sig, "v0="):])
		})
	}
}

// Without a secret or a queue every request gets 500, a broken event too.
func TestHandlerFailsClosed(t *testing.T) {
	body := []byte(`{"type":"post_call_transcription"}`)
	sig := core.Sign(testSecret, time.Now(), body)
	for _, payload := range [][]byte{v2Event(t, body, map[string]string{"elevenlabs-signature": sig}, false), []byte("junk")} {
		var logs bytes.Buffer
		h := &Handler{Receiver: &core.Receiver{Sink: &recordingSink{}, Logger: logging.New(&logs, 0)}}
		out, err := h.Invoke(context.Background(), payload)
		require.NoError(t, err)
		require.JSONEq(t, `{"statusCode":500,"headers":{"Content-Type":"application/json"},"body":"{\"error\":\"Webhook secret not configured\"}","isBase64Encoded":false}`, string(out))
	}
}

// A panic costs the request a 500 and one log line, never the process.
func TestHandlerRecoversPanic(t *testing.T) {
	body := []byte(`{"type":"post_call_transcription"}`)
	sig := core.Sign(testSecret, time.Now(), body)
	sink := &recordingSink{}
	var logs bytes.Buffer
	h := testHandler(t, sink, &logs)
	h.Receiver.Now = func() time.Time { panic("clock broken") }
	out, err := h.Invoke(context.Background(), v2Event(t, body, map[string]string{"elevenlabs-signature": sig}, false))
	require.NoError(t, err)
	require.JSONEq(t, `{"statusCode":500,"headers":{"Content-Type":"application/json"},"body":"{\"error\":\"internal error\"}","isBase64Encoded":false}`, string(out))
	require.Empty(t, sink.msgs)
	require.Equal(t, 1, strings.Count(logs.String(), "\n"), "want one log line: %s", logs.String())
	require.Contains(t, logs.String(), "clock broken")
	require.Contains(t, logs.String(), "req-v2")
}

// The log line names the request by the event's id, or else the invocation's.
func TestHandlerRequestID(t *testing.T) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "aws-req-1"})
	for _, tt := range []struct{ name, event, want string }{
		{"from the event", `{"version":"2.0","requestContext":{"requestId":"req-ev","http":{"method":"GET"}}}`, "req-ev"},
		{"from the invocation", `{"version":"2.0","requestContext":{"http":{"method":"GET"}}}`, "aws-req-1"},
		{"unreadable event", `junk`, "aws-req-1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			_, err := testHandler(t, &recordingSink{}, &logs).Invoke(ctx, []byte(tt.event))
			require.NoError(t, err)
			require.Contains(t, logs.String(), `"`+tt.want+`"`)
			if tt.want == "req-ev" {
				require.NotContains(t, logs.String(), "aws-req-1")
			}
		})
	}
}
