package core_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/hostile"
)

type countSink struct{ n int }

func (s *countSink) Publish(context.Context, *core.Message) (string, error) { s.n++; return "m", nil }

// TestHostileCorpus runs every case through the receiver, in process and
// over real HTTP, and checks the answer docs/spec.md §2 gives; nothing is queued unless the
// answer is 200, and nothing secret reaches the log.
func TestHostileCorpus(t *testing.T) {
	cases, err := hostile.Load()
	if err != nil {
		t.Fatal(err)
	}
	const secret = "wsec_hostile_corpus"
	now := time.Now()
	for _, tc := range cases {
		if tc.LambdaOnly {
			continue
		}
		t.Run(tc.Name, func(t *testing.T) {
			var logs bytes.Buffer
			sink := &countSink{}
			v, _ := core.NewVerifier([]string{secret}, core.VerifierOptions{})
			r := &core.Receiver{Verifier: v, Sink: sink, MaxBodyBytes: tc.MaxBodyBytes,
				Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			method, headers, body := tc.Request(secret, now)

			res := r.Handle(context.Background(), &core.Request{Method: method, Headers: headers, Body: body})
			check(t, tc, res.Status, res.Body, sink.n)

			if tc.HTTPUnsendable {
				return
			}
			sink.n = 0
			srv := httptest.NewServer(r)
			defer srv.Close()
			status, got, err := tc.Send(srv.URL, method, headers, body)
			if err != nil {
				t.Fatal(err)
			}
			check(t, tc, status, got, sink.n)
			if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), "v0=") {
				t.Fatalf("log leaks the secret or signature")
			}
		})
	}
}

func check(t *testing.T, tc hostile.Case, status int, body []byte, queued int) {
	t.Helper()
	if status != tc.WantStatus {
		t.Fatalf("status %d, want %d (%s)", status, tc.WantStatus, body)
	}
	if tc.WantError != "" && string(body) != `{"error":"`+tc.WantError+`"}` {
		t.Fatalf("body %s, want error %q", body, tc.WantError)
	}
	if (status == 200) != (queued > 0) {
		t.Fatalf("status %d with %d queued", status, queued)
	}
}

// BenchmarkHostileWorstCase reports what the most expensive hostile header
// costs: it is refused before any hashing.
func BenchmarkHostileWorstCase(b *testing.B) {
	cases, _ := hostile.Load()
	v, _ := core.NewVerifier([]string{"k"}, core.VerifierOptions{})
	r := &core.Receiver{Verifier: v, Sink: &countSink{}, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	for _, tc := range cases {
		if !strings.HasPrefix(tc.Name, "huge") && !strings.HasPrefix(tc.Name, "thousands") {
			continue
		}
		method, headers, body := tc.Request("k", time.Now())
		req := &core.Request{Method: method, Headers: headers, Body: body}
		b.Run(tc.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.Handle(context.Background(), req)
			}
		})
	}
}
