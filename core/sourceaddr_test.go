package core_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
)

type okSink struct{}

func (okSink) Publish(context.Context, *core.Message) (string, error) { return "m1", nil }

var _ core.Sink = okSink{}

// TestServeHTTPSourceAddr checks that the allowlist sees the address
// SourceAddr names, and the connection's peer when it is nil.
func TestServeHTTPSourceAddr(t *testing.T) {
	const secret = "wsec_test"
	allow, err := core.ParseAllowlist("203.0.113.7")
	if err != nil {
		t.Fatal(err)
	}
	forwarded := func(hr *http.Request) string {
		return strings.TrimSpace(strings.Split(hr.Header.Get("X-Forwarded-For"), ",")[0])
	}
	tests := []struct {
		name       string
		sourceAddr func(*http.Request) string
		remoteAddr string
		xff        string
		want       int
	}{
		{"peer allowed", nil, "203.0.113.7:4711", "", http.StatusOK},
		{"peer refused", nil, "198.51.100.1:4711", "203.0.113.7", http.StatusForbidden},
		{"header allowed", forwarded, "198.51.100.1:4711", "203.0.113.7, 198.51.100.1", http.StatusOK},
		{"header refused", forwarded, "203.0.113.7:4711", "198.51.100.2", http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := core.NewVerifier([]string{secret}, core.VerifierOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r := &core.Receiver{Verifier: v, Sink: okSink{}, Allow: allow, SourceAddr: tc.sourceAddr}
			body := `{"type":"post_call_transcription"}`
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			req.RemoteAddr = tc.remoteAddr
			req.Header.Set(core.SignatureHeader, core.Sign(secret, time.Now(), []byte(body)))
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
		})
	}
}
