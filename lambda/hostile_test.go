package lambda

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/hostile"
	"github.com/elevenrelay/elevenrelay/internal/logging"
	"github.com/stretchr/testify/require"
)

// hostileEvents turns a corpus case into the events API Gateway would
// deliver: an HTTP API (payload 2.0) event and a REST (v1) event with
// headers and multiValueHeaders. Bodies go base64-encoded with
// isBase64Encoded when they are not valid UTF-8 (as API Gateway sends
// binary) and, to cover both paths, for every other case.
func hostileEvents(t testing.TB, tc hostile.Case, i int, now time.Time) map[string][]byte {
	t.Helper()
	method, headers, body := tc.Request(testSecret, now)
	raw, b64 := string(body), i%2 == 1 || !utf8.Valid(body)
	if tc.LambdaOnly {
		raw, b64 = tc.LambdaBody, tc.LambdaBase64
	} else if b64 {
		raw = base64.StdEncoding.EncodeToString(body)
	}
	single, joined := map[string]string{}, map[string]string{}
	for k, vs := range headers {
		single[k] = vs[len(vs)-1]
		joined[k] = strings.Join(vs, ",") // HTTP API joins repeated headers
	}
	v2, err := json.Marshal(events.APIGatewayV2HTTPRequest{Version: "2.0", Headers: joined, Body: raw, IsBase64Encoded: b64,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-v2", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method}}})
	require.NoError(t, err)
	v1, err := json.Marshal(events.APIGatewayProxyRequest{HTTPMethod: method, Headers: single, MultiValueHeaders: headers, Body: raw, IsBase64Encoded: b64,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "req-v1"}})
	require.NoError(t, err)
	return map[string][]byte{"v2": v2, "v1": v1}
}

// TestHostileCorpus runs every corpus case through the Lambda handler as
// HTTP API and REST events and checks the answer of docs/spec.md §2, that nothing is
// queued unless the answer is 200, and that the log holds neither the
// secret, nor the signature, nor the body.
func TestHostileCorpus(t *testing.T) {
	cases, err := hostile.Load()
	require.NoError(t, err)
	now := time.Now()
	for i, tc := range cases {
		_, headers, body := tc.Request(testSecret, now)
		for shape, event := range hostileEvents(t, tc, i, now) {
			t.Run(tc.Name+"/"+shape, func(t *testing.T) {
				sink := &recordingSink{}
				var logs bytes.Buffer
				h := testHandler(t, sink, &logs)
				h.Receiver.MaxBodyBytes = tc.MaxBodyBytes
				out, err := h.Invoke(context.Background(), event)
				require.NoError(t, err)
				var res events.APIGatewayV2HTTPResponse
				require.NoError(t, json.Unmarshal(out, &res))
				require.Equal(t, tc.WantStatus, res.StatusCode, res.Body)
				if tc.WantError != "" {
					require.JSONEq(t, `{"error":`+jsonString(tc.WantError)+`}`, res.Body)
				}
				require.Equal(t, res.StatusCode == 200, len(sink.msgs) == 1, "status %d with %d queued", res.StatusCode, len(sink.msgs))
				if res.StatusCode == 200 {
					require.Equal(t, body, sink.msgs[0].Body, "queued bytes differ from those signed")
				}
				noLeak(t, logs.String(), headers, body)
			})
		}
	}
}

// noLeak fails if the log holds the secret, a signature or the body.
func noLeak(t *testing.T, logs string, headers map[string][]string, body []byte) {
	t.Helper()
	require.NotContains(t, logs, testSecret)
	require.NotContains(t, logs, "v0=")
	for _, vs := range headers {
		for _, v := range vs {
			if _, sig, ok := strings.Cut(v, "v0="); ok && len(sig) >= 16 {
				require.NotContains(t, logs, sig[:16], "log holds a signature")
			}
		}
	}
	if len(body) >= 12 {
		require.NotContains(t, logs, string(body), "log holds the body")
	}
}

// TestConflictingMultiValueHeaders: a REST event whose multiValueHeaders
// hold a second, different signature beside the one in headers is refused,
// whichever of them is valid.
func TestConflictingMultiValueHeaders(t *testing.T) {
	body := []byte(`{"type":"post_call_transcription"}`)
	good := core.Sign(testSecret, time.Now(), body)
	bad := core.Sign("wsec_other", time.Now(), body)
	for name, multi := range map[string][]string{"valid first": {good, bad}, "valid last": {bad, good}} {
		t.Run(name, func(t *testing.T) {
			sink := &recordingSink{}
			h := testHandler(t, sink, &bytes.Buffer{})
			ev := v1Event(t, "POST", body, map[string]string{"ElevenLabs-Signature": multi[len(multi)-1]},
				map[string][]string{"ElevenLabs-Signature": multi}, false)
			a := invoke(t, h, ev)
			require.Equal(t, 400, a.Status)
			require.Equal(t, core.ErrConflictingSignature.Error(), a.Body["error"])
			require.Empty(t, sink.msgs)
		})
	}
}

// BenchmarkHostileInvoke reports what the worst hostile events cost through
// the whole handler, event decoding included: a 100 KB signature header,
// thousands of v0 parts, hundreds of headers.
func BenchmarkHostileInvoke(b *testing.B) {
	cases, err := hostile.Load()
	require.NoError(b, err)
	for i, tc := range cases {
		if !strings.HasPrefix(tc.Name, "huge") && !strings.HasPrefix(tc.Name, "thousands") && tc.Name != "many headers" {
			continue
		}
		for shape, event := range hostileEvents(b, tc, i, time.Now()) {
			b.Run(tc.Name+"/"+shape, func(b *testing.B) {
				h := testHandler(b, nopSink{}, &bytes.Buffer{})
				h.Receiver.Logger = logging.New(io.Discard, 0)
				b.SetBytes(int64(len(event)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := h.Invoke(context.Background(), event); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestNullBodyAndHeaders runs events with "body": null and "headers": null
// through the handler end to end: a null body is the empty body (queued
// when its signature verifies), null headers are no signature (400).
func TestNullBodyAndHeaders(t *testing.T) {
	now := time.Now()
	sig := core.Sign(testSecret, now, nil)
	tests := []struct {
		name, event string
		wantStatus  int
		wantError   string
	}{
		{"v2 null body, signed empty", `{"version":"2.0","headers":{"elevenlabs-signature":"` + sig + `"},"body":null,"requestContext":{"http":{"method":"POST"}}}`, 200, ""},
		{"v2 null headers", `{"version":"2.0","headers":null,"body":"{}","requestContext":{"http":{"method":"POST"}}}`, 400, "Missing signature header"},
		{"v2 null headers and body", `{"version":"2.0","headers":null,"body":null,"requestContext":{"http":{"method":"POST"}}}`, 400, "Missing signature header"},
		{"v1 null body, signed empty", `{"resource":"/webhook","httpMethod":"POST","headers":{"ElevenLabs-Signature":"` + sig + `"},"multiValueHeaders":null,"body":null,"requestContext":{"httpMethod":"POST"}}`, 200, ""},
		{"v1 null headers", `{"resource":"/webhook","httpMethod":"POST","headers":null,"multiValueHeaders":null,"body":"{}","requestContext":{"httpMethod":"POST"}}`, 400, "Missing signature header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := &recordingSink{}
			var logs bytes.Buffer
			h := testHandler(t, sink, &logs)
			out, err := h.Invoke(context.Background(), []byte(tc.event))
			require.NoError(t, err)
			var res events.APIGatewayV2HTTPResponse
			require.NoError(t, json.Unmarshal(out, &res))
			require.Equal(t, tc.wantStatus, res.StatusCode, res.Body)
			if tc.wantError != "" {
				require.JSONEq(t, `{"error":`+jsonString(tc.wantError)+`}`, res.Body)
			}
			require.Equal(t, tc.wantStatus == 200, len(sink.msgs) == 1)
			if tc.wantStatus == 200 {
				require.Empty(t, sink.msgs[0].Body)
				require.Equal(t, core.UnknownEventType, sink.msgs[0].EventType)
			}
		})
	}
}
