package main

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The event is the one API Gateway's HTTP API sends with the payload
// format 2.0.
func TestToEvent(t *testing.T) {
	now := time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		contentType string
		body        []byte
		wantBase64  bool
	}{
		{"json", "application/json", []byte(`{"type":"x"}`), false},
		{"json with charset", "application/json; charset=utf-8", []byte(`{}`), false},
		{"text", "text/plain", []byte("hello"), false},
		{"problem json", "application/problem+json", []byte(`{}`), false},
		{"binary", "application/octet-stream", []byte{0, 1, 2, 0xff}, true},
		{"audio", "audio/mpeg", []byte("ID3"), true},
		{"no content type", "", []byte("x"), true},
		{"invalid utf-8 in json", "application/json", []byte{'"', 0xff, '"'}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:3000/webhook?a=1&a=2&b=3", strings.NewReader(string(tc.body)))
			r.RemoteAddr = "127.0.0.1:54321"
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			r.Header.Add("ElevenLabs-Signature", "t=1,v0=ab")
			r.Header.Add("X-Repeated", "one")
			r.Header.Add("X-Repeated", "two")
			r.Header.Add("Cookie", "a=1; b=2")
			ev := toEvent(r, tc.body, now)

			require.Equal(t, "2.0", ev.Version)
			require.Equal(t, "$default", ev.RouteKey)
			require.Equal(t, "/webhook", ev.RawPath)
			require.Equal(t, "a=1&a=2&b=3", ev.RawQueryString)
			require.Equal(t, map[string]string{"a": "1,2", "b": "3"}, ev.QueryStringParameters)
			require.Equal(t, "t=1,v0=ab", ev.Headers["elevenlabs-signature"])
			require.Equal(t, "one,two", ev.Headers["x-repeated"])
			require.Equal(t, "127.0.0.1:3000", ev.Headers["host"])
			require.NotContains(t, ev.Headers, "cookie")
			require.Equal(t, []string{"a=1", "b=2"}, ev.Cookies)
			for name := range ev.Headers {
				require.Equal(t, strings.ToLower(name), name)
			}
			rc := ev.RequestContext
			require.Equal(t, "POST", rc.HTTP.Method)
			require.Equal(t, "/webhook", rc.HTTP.Path)
			require.Equal(t, "127.0.0.1", rc.HTTP.SourceIP)
			require.NotEmpty(t, rc.RequestID)
			require.Equal(t, now.UnixMilli(), rc.TimeEpoch)
			require.Equal(t, "27/Nov/2026:18:00:00 +0000", rc.Time)

			require.Equal(t, tc.wantBase64, ev.IsBase64Encoded)
			if tc.wantBase64 {
				got, err := base64.StdEncoding.DecodeString(ev.Body)
				require.NoError(t, err)
				require.Equal(t, tc.body, got)
			} else {
				require.Equal(t, string(tc.body), ev.Body)
			}
		})
	}
}

// The function's answer becomes the HTTP response as API Gateway makes it.
func TestWriteAnswer(t *testing.T) {
	tests := []struct {
		name       string
		answer     string
		wantStatus int
		wantHeader http.Header
		wantBody   string
	}{
		{"proxy response", `{"statusCode":405,"headers":{"Allow":"POST","Content-Type":"application/json"},"body":"{\"error\":\"x\"}"}`,
			405, http.Header{"Allow": {"POST"}, "Content-Type": {"application/json"}}, `{"error":"x"}`},
		{"base64 body", `{"statusCode":200,"headers":{"Content-Type":"application/octet-stream"},"body":"AAEC","isBase64Encoded":true}`,
			200, http.Header{"Content-Type": {"application/octet-stream"}}, "\x00\x01\x02"},
		{"multi-value headers and cookies", `{"statusCode":201,"multiValueHeaders":{"X-A":["1","2"]},"cookies":["c=1"],"body":""}`,
			201, http.Header{"X-A": {"1", "2"}, "Set-Cookie": {"c=1"}, "Content-Type": {"application/json"}}, ""},
		{"not a response: the answer is the body", `{"ok":true}`,
			200, http.Header{"Content-Type": {"application/json"}}, `{"ok":true}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			writeAnswer(w, []byte(tc.answer))
			require.Equal(t, tc.wantStatus, w.Code)
			for k, v := range tc.wantHeader {
				require.Equal(t, v, w.Header().Values(k), k)
			}
			require.Equal(t, tc.wantBody, w.Body.String())
		})
	}
}
