package lambda

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/jsonscan"
)

// reference decodes payload as the given shape with encoding/json into the
// aws-lambda-go types: what decodeEvent must agree with.
func reference(payload []byte, sh shape) (httpEvent, error) {
	switch sh {
	case shapeV2:
		var v events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(payload, &v); err != nil {
			return httpEvent{}, err
		}
		return httpEvent{shape: shapeV2, method: v.RequestContext.HTTP.Method, headers: v.Headers,
			body: []byte(v.Body), isBase64Encoded: v.IsBase64Encoded,
			requestID: v.RequestContext.RequestID, sourceIP: v.RequestContext.HTTP.SourceIP}, nil
	case shapeV1:
		var v events.APIGatewayProxyRequest
		if err := json.Unmarshal(payload, &v); err != nil {
			return httpEvent{}, err
		}
		method := v.HTTPMethod
		if method == "" {
			method = v.RequestContext.HTTPMethod
		}
		return httpEvent{shape: shapeV1, method: method, headers: v.Headers, multiValueHeaders: v.MultiValueHeaders,
			body: []byte(v.Body), isBase64Encoded: v.IsBase64Encoded,
			requestID: v.RequestContext.RequestID, sourceIP: v.RequestContext.Identity.SourceIP}, nil
	}
	return httpEvent{}, errors.New("no shape")
}

// sameEvent reports how got differs from want, or "".
func sameEvent(got, want httpEvent) string {
	switch {
	case got.shape != want.shape:
		return "shape"
	case got.method != want.method:
		return "method " + got.method + " != " + want.method
	case !reflect.DeepEqual(got.headers, want.headers):
		return "headers"
	case !reflect.DeepEqual(got.multiValueHeaders, want.multiValueHeaders):
		return "multiValueHeaders"
	case string(got.body) != string(want.body):
		return "body"
	case got.isBase64Encoded != want.isBase64Encoded:
		return "isBase64Encoded"
	case got.requestID != want.requestID:
		return "requestId"
	case got.sourceIP != want.sourceIP:
		return "sourceIp"
	}
	return ""
}

func eventFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "events", "*.json"))
	if err != nil || len(files) < 16 {
		t.Fatalf("events/: %v, %d files", err, len(files))
	}
	var out []string
	for _, f := range files {
		if filepath.Base(f) != "env.json" {
			out = append(out, f)
		}
	}
	return out
}

// The committed events must all take the fast path and agree with
// encoding/json.
func TestDecodeEventFiles(t *testing.T) {
	for _, f := range eventFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			payload, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := decodeFast(payload)
			if !ok {
				t.Fatal("fast path refused a sample event")
			}
			wantShape := shapeV2
			if strings.HasPrefix(filepath.Base(f), "apigw-v1-") {
				wantShape = shapeV1
			}
			want, err := reference(payload, wantShape)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameEvent(got, want); d != "" {
				t.Fatalf("differs from encoding/json in %s", d)
			}
		})
	}
}

func TestDecodeEvent(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		fast    bool // whether the fast path takes it
		want    httpEvent
		wantErr string
	}{
		{
			name:    "v2 with every escape",
			payload: `{"version":"2.0","headers":{"a\u0062":"x\ty"},"body":"{\"k\":\"a\\\\b\/c\n\u00e9\ud83d\ude00 \ud800 \udc00x \u2028\"}","requestContext":{"requestId":"r","http":{"method":"POST","sourceIp":"1.2.3.4"}},"isBase64Encoded":false}`,
			fast:    true,
			want: httpEvent{shape: shapeV2, method: "POST", headers: map[string]string{"ab": "x\ty"},
				body: []byte("{\"k\":\"a\\\\b/c\n\u00e9\U0001F600 \uFFFD \uFFFDx \u2028\"}"), requestID: "r", sourceIP: "1.2.3.4"},
		},
		{
			name:    "v1 with multiValueHeaders and the method in requestContext only",
			payload: `{"resource":"/webhook","headers":null,"multiValueHeaders":{"X":["1","2"],"Y":[]},"body":null,"requestContext":{"httpMethod":"POST","identity":{"sourceIp":"5.6.7.8"}}}`,
			fast:    true,
			want: httpEvent{shape: shapeV1, method: "POST", multiValueHeaders: map[string][]string{"X": {"1", "2"}, "Y": {}},
				body: []byte{}, sourceIP: "5.6.7.8"},
		},
		{
			name:    "payload 2.0 ignores multiValueHeaders and identity",
			payload: `{"version":"2.0","multiValueHeaders":{"a":["b"]},"requestContext":{"identity":{"sourceIp":"9.9.9.9"},"http":{"method":"GET"}}}`,
			fast:    true,
			want:    httpEvent{shape: shapeV2, method: "GET", body: []byte{}},
		},
		{
			name:    "repeated header key keeps the last value",
			payload: `{"version":"2.0","headers":{"a":"1","a":"2"}}`,
			fast:    true,
			want:    httpEvent{shape: shapeV2, headers: map[string]string{"a": "2"}, body: []byte{}},
		},
		{
			name:    "repeated top-level key: encoding/json merges",
			payload: `{"version":"2.0","headers":{"a":"1"},"headers":{"b":"2"}}`,
			want:    httpEvent{shape: shapeV2, headers: map[string]string{"a": "1", "b": "2"}, body: []byte{}},
		},
		{
			name:    "differently cased key: encoding/json matches it",
			payload: `{"version":"2.0","BODY":"x"}`,
			want:    httpEvent{shape: shapeV2, body: []byte("x")},
		},
		{
			name:    "null header value",
			payload: `{"version":"2.0","headers":{"a":null}}`,
			want:    httpEvent{shape: shapeV2, headers: map[string]string{"a": ""}, body: []byte{}},
		},
		{
			name:    "invalid UTF-8 becomes U+FFFD",
			payload: "{\"version\":\"2.0\",\"body\":\"a\xffb\"}",
			want:    httpEvent{shape: shapeV2, body: []byte("a\uFFFDb")},
		},
		{
			name:    "nested values skipped",
			payload: ` { "x" : [ {"y":[1,2,{"z":"\"}"}]}, -1.5e3, true, null ] , "httpMethod" : "POST" } `,
			fast:    true,
			want:    httpEvent{shape: shapeV1, method: "POST", body: []byte{}},
		},
		{name: "SQS event", payload: mustRead(t, "testdata/sqs-event.json"), wantErr: ErrUnsupportedEvent.Error()},
		{name: "empty object", payload: `{}`, wantErr: ErrUnsupportedEvent.Error()},
		{name: "not JSON", payload: `{"version":"2.0",`, wantErr: ErrUnsupportedEvent.Error() + ": invalid JSON at offset 17"},
		{name: "trailing data", payload: `{"version":"2.0"} x`, wantErr: ErrUnsupportedEvent.Error() + ": invalid JSON at offset 19"},
		{name: "version of the wrong type", payload: `{"version":2}`, wantErr: ErrUnsupportedEvent.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := decodeFast([]byte(tt.payload)); ok != tt.fast {
				t.Errorf("fast path took it: %v, want %v", ok, tt.fast)
			}
			got, err := decodeEvent([]byte(tt.payload))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, core.ErrBodyRead) {
					t.Fatalf("err = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := sameEvent(got, tt.want); d != "" {
				t.Fatalf("differs in %s: %+v", d, got)
			}
			if want, err := reference([]byte(tt.payload), got.shape); err != nil || sameEvent(got, want) != "" {
				t.Fatalf("differs from encoding/json (%v)", err)
			}
		})
	}
}

func mustRead(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzDecodeEvent holds decodeEvent to encoding/json: for any event that
// encoding/json decodes, the fast path (when it takes the event) and the
// whole decoder give the same method, headers, body and context.
func FuzzDecodeEvent(f *testing.F) {
	for _, file := range eventFiles(f) {
		f.Add([]byte(mustRead(f, file)))
	}
	f.Add([]byte(`{"version":"2.0","body":"\"\\\/\b\f\n\r\t\u0041\ud83d\ude00\ud800\udc00","headers":{"k":"v"}}`))
	f.Add([]byte(`{"httpMethod":"POST","multiValueHeaders":{"a":["1"]},"requestContext":{"identity":{"sourceIp":"1"}}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := decodeEvent(payload)
		if fast, ok := decodeFast(payload); ok {
			if want, err := reference(payload, fast.shape); err == nil {
				if d := sameEvent(fast, want); d != "" {
					t.Fatalf("fast path differs from encoding/json in %s", d)
				}
			}
		}
		if err == nil {
			if want, rerr := reference(payload, got.shape); rerr == nil {
				if d := sameEvent(got, want); d != "" {
					t.Fatalf("decodeEvent differs from encoding/json in %s", d)
				}
			}
		}
		var v2 events.APIGatewayV2HTTPRequest
		if json.Unmarshal(payload, &v2) == nil && v2.Version == "2.0" && (err != nil || got.shape != shapeV2) {
			t.Fatalf("a payload 2.0 event was not read as one: %v", err)
		}
	})
}

// TestDecodeEventDeepNesting: nesting beyond jsonscan.MaxDepth is not walked
// by the fast path; encoding/json, within its own limit, still reads the
// event, and beyond that limit the event is refused.
func TestDecodeEventDeepNesting(t *testing.T) {
	nested := func(n int) []byte {
		return []byte(`{"version":"2.0","body":"b","x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
	}
	if _, ok := decodeFast(nested(jsonscan.MaxDepth)); !ok {
		t.Fatal("fast path refused nesting within the limit")
	}
	if _, ok := decodeFast(nested(jsonscan.MaxDepth + 1)); ok {
		t.Fatal("fast path walked nesting beyond the limit")
	}
	ev, err := decodeEvent(nested(jsonscan.MaxDepth + 1))
	if err != nil || ev.shape != shapeV2 || string(ev.body) != "b" {
		t.Fatalf("decodeEvent = %+v, %v", ev, err)
	}
	if _, err := decodeEvent(nested(20000)); !errors.Is(err, ErrUnsupportedEvent) {
		t.Fatalf("decodeEvent of 20000 levels: %v", err)
	}
}
