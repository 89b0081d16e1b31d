package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const testSecret = "wsec_receiver_test_secret_0123456789"

var testNow = time.Unix(1763859600, 0)

// memSink keeps what it is given; err and block let tests make it fail or hang.
type memSink struct {
	mu    sync.Mutex
	msgs  []*Message
	err   error
	block bool // ignore the context and hang until released
	wait  chan struct{}
}

var _ Sink = (*memSink)(nil)

func (s *memSink) Publish(ctx context.Context, m *Message) (string, error) {
	if s.block {
		<-s.wait
	}
	if s.err != nil {
		return "", s.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return "msg-" + m.ContentSHA256[:8], nil
}

// memStore keeps objects by key.
type memStore struct {
	mu   sync.Mutex
	objs map[string][]byte
	meta map[string]map[string]string
	err  error
}

var (
	_ ObjectStore   = (*memStore)(nil)
	_ ObjectFetcher = (*memStore)(nil)
)

func (s *memStore) Put(ctx context.Context, key string, body []byte, meta map[string]string) error {
	if s.err != nil {
		return s.err
	}
	if err := ctx.Err(); err != nil {
		return err // as a real store's client does
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.objs == nil {
		s.objs, s.meta = map[string][]byte{}, map[string]map[string]string{}
	}
	s.objs[key], s.meta[key] = bytes.Clone(body), meta
	return nil
}

func (s *memStore) Fetch(ctx context.Context, url string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := url[strings.Index(url[5:], "/")+6:]
	b, ok := s.objs[key]
	if !ok {
		return nil, errors.New("no such object")
	}
	return b, nil
}

func newTestReceiver(t *testing.T, sink Sink, logs *bytes.Buffer) *Receiver {
	t.Helper()
	v, err := NewVerifier([]string{testSecret}, VerifierOptions{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return &Receiver{
		Verifier:       v,
		Sink:           sink,
		MaxBodyBytes:   1 << 20,
		PublishTimeout: 200 * time.Millisecond,
		Logger:         slog.New(slog.NewJSONHandler(logs, nil)),
		Now:            func() time.Time { return testNow },
	}
}

func signedRequest(body []byte) *Request {
	return &Request{
		Method:    http.MethodPost,
		Headers:   map[string][]string{"elevenlabs-signature": {Sign(testSecret, testNow, body)}},
		Body:      body,
		RequestID: "req-1",
	}
}

var sampleBody = []byte(`{"type":"post_call_transcription","event_timestamp":1763859600,"data":{"conversation_id":"conv_9","transcript":"secret words"}}`)

// TestReceiverAnswers covers every row of docs/spec.md §2.
func TestReceiverAnswers(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(r *Receiver, s *memSink)
		req        func() *Request
		wantStatus int
		wantBody   string // exact, or a prefix ending in "…"
		wantQueued int
	}{
		{"verified and accepted", nil, func() *Request { return signedRequest(sampleBody) },
			200, `{"status":"accepted","message_id":"msg-`, 1},
		{"method other than POST", nil, func() *Request { r := signedRequest(sampleBody); r.Method = "GET"; return r },
			405, `{"error":"method not allowed: use POST"}`, 0},
		{"body larger than the limit", func(r *Receiver, _ *memSink) { r.MaxBodyBytes = 10 }, func() *Request { return signedRequest(sampleBody) },
			413, `{"error":"request body too large: limit is 10 bytes"}`, 0},
		{"signature missing", nil, func() *Request { r := signedRequest(sampleBody); r.Headers = nil; return r },
			400, `{"error":"Missing signature header"}`, 0},
		{"signature malformed", nil, func() *Request {
			r := signedRequest(sampleBody)
			r.Headers = map[string][]string{"ElevenLabs-Signature": {"garbage"}}
			return r
		}, 400, `{"error":"Malformed signature header: part is not key=value"}`, 0},
		{"signature stale", nil, func() *Request {
			r := signedRequest(sampleBody)
			r.Headers = map[string][]string{"ElevenLabs-Signature": {Sign(testSecret, testNow.Add(-31*time.Minute), sampleBody)}}
			return r
		}, 400, `{"error":"Timestamp outside the tolerance zone"}`, 0},
		{"signature from the future", nil, func() *Request {
			r := signedRequest(sampleBody)
			r.Headers = map[string][]string{"ElevenLabs-Signature": {Sign(testSecret, testNow.Add(31*time.Minute), sampleBody)}}
			return r
		}, 400, `{"error":"Timestamp outside the tolerance zone"}`, 0},
		{"signature wrong", nil, func() *Request {
			r := signedRequest(sampleBody)
			r.Body = append(bytes.Clone(sampleBody), ' ')
			return r
		}, 400, `{"error":"Signature hash does not match the expected signature hash for payload"}`, 0},
		{"two different signature headers", nil, func() *Request {
			r := signedRequest(sampleBody)
			r.Headers["ElevenLabs-Signature"] = []string{"t=1,v0=00"}
			return r
		}, 400, `{"error":"Conflicting signature headers"}`, 0},
		{"same signature header twice is one", nil, func() *Request {
			r := signedRequest(sampleBody)
			r.Headers["ElevenLabs-Signature"] = r.Headers["elevenlabs-signature"]
			return r
		}, 200, `{"status":"accepted","message_id":"msg-`, 1},
		{"no secret configured", func(r *Receiver, _ *memSink) { r.Verifier = nil }, func() *Request { return signedRequest(sampleBody) },
			500, `{"error":"Webhook secret not configured"}`, 0},
		{"configuration unusable", func(r *Receiver, _ *memSink) { r.Err = errors.New("SQS_QUEUE_URL unset") }, func() *Request { return signedRequest(sampleBody) },
			500, `{"error":"configuration unusable"}`, 0},
		{"no queue configured", func(r *Receiver, _ *memSink) { r.Sink = nil }, func() *Request { return signedRequest(sampleBody) },
			500, `{"error":"configuration unusable"}`, 0},
		{"queue failed, no spill bucket", func(_ *Receiver, s *memSink) { s.err = errors.New("connection refused") }, func() *Request { return signedRequest(sampleBody) },
			503, `{"error":"queue unavailable: retry later"}`, 0},
		{"queue hangs past the timeout", func(_ *Receiver, s *memSink) { s.block, s.wait = true, make(chan struct{}) }, func() *Request { return signedRequest(sampleBody) },
			503, `{"error":"queue unavailable: retry later"}`, 0},
		{"queue returns no id", nil, nil, 503, `{"error":"queue unavailable: retry later"}`, 0},
		{"body too large for the queue, no claim-check bucket", func(r *Receiver, s *memSink) {
			r.Sink = &ClaimCheck{Sink: s, Limit: 64}
		}, func() *Request { return signedRequest(sampleBody) },
			413, `{"error":"body exceeds the queue's message size limit and no claim-check bucket is configured (set CLAIM_CHECK_BUCKET)"}`, 0},
		{"source not on the allowlist", func(r *Receiver, _ *memSink) { r.Allow, _ = ParseAllowlist("elevenlabs-us") }, func() *Request {
			r := signedRequest(sampleBody)
			r.SourceIP = "203.0.113.9"
			return r
		}, 403, `{"error":"source address not allowed"}`, 0},
		{"source on the allowlist", func(r *Receiver, _ *memSink) { r.Allow, _ = ParseAllowlist("elevenlabs-us") }, func() *Request {
			r := signedRequest(sampleBody)
			r.SourceIP = "34.59.11.47"
			return r
		}, 200, `{"status":"accepted","message_id":"msg-`, 1},
		{"authentic body that is not JSON is still queued", nil, func() *Request { return signedRequest([]byte("not json")) },
			200, `{"status":"accepted","message_id":"msg-`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			sink := &memSink{}
			r := newTestReceiver(t, sink, &logs)
			if tc.setup != nil {
				tc.setup(r, sink)
			}
			if tc.name == "queue returns no id" {
				r.Sink = sinkFunc(func(context.Context, *Message) (string, error) { return "", nil })
			}
			req := signedRequest(sampleBody)
			if tc.req != nil {
				req = tc.req()
			}
			res := r.Handle(context.Background(), req)
			sink.mu.Lock()
			queued := len(sink.msgs)
			sink.mu.Unlock()
			if sink.wait != nil {
				// Let a hung publish finish now: whatever it does after
				// the answer cannot change the answer already given.
				close(sink.wait)
			}
			if res.Status != tc.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", res.Status, tc.wantStatus, res.Body)
			}
			if !bytes.HasPrefix(res.Body, []byte(tc.wantBody)) || (!strings.HasSuffix(tc.wantBody, "-") && string(res.Body) != tc.wantBody) {
				t.Fatalf("body = %s, want %s", res.Body, tc.wantBody)
			}
			if ct := res.Headers["Content-Type"]; ct != "application/json" {
				t.Fatalf("Content-Type = %q", ct)
			}
			if tc.wantStatus == 405 && res.Headers["Allow"] != "POST" {
				t.Fatalf("405 without Allow: POST: %v", res.Headers)
			}
			if queued != tc.wantQueued {
				t.Fatalf("queued %d messages, want %d", queued, tc.wantQueued)
			}
			checkLogLine(t, logs.Bytes(), res.Status)
		})
	}
}

type sinkFunc func(context.Context, *Message) (string, error)

func (f sinkFunc) Publish(ctx context.Context, m *Message) (string, error) { return f(ctx, m) }

// checkLogLine asserts one JSON line with the docs/spec.md §5 fields, and nothing
// secret in it.
func checkLogLine(t *testing.T, logs []byte, status int) {
	t.Helper()
	lines := bytes.Split(bytes.TrimSpace(logs), []byte("\n"))
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1:\n%s", len(lines), logs)
	}
	var line map[string]any
	if err := json.Unmarshal(lines[0], &line); err != nil {
		t.Fatalf("log line not JSON: %v", err)
	}
	for _, k := range []string{"request_id", "event_type", "outcome", "status", "bytes", "duration_ms"} {
		if _, ok := line[k]; !ok {
			t.Fatalf("log line lacks %q: %s", k, lines[0])
		}
	}
	if int(line["status"].(float64)) != status {
		t.Fatalf("logged status %v, answered %d", line["status"], status)
	}
	if status >= 400 {
		if _, ok := line["error"]; !ok {
			t.Fatalf("failure logged without error: %s", lines[0])
		}
	}
	assertNoSecrets(t, logs)
}

func assertNoSecrets(t *testing.T, logs []byte) {
	t.Helper()
	for _, s := range []string{testSecret, "v0=", "secret words", "conv_9\",\"transcript", Sign(testSecret, testNow, sampleBody)[15:]} {
		if bytes.Contains(logs, []byte(s)) {
			t.Fatalf("log contains %q:\n%s", s, logs)
		}
	}
}

func TestReceiverSpillsWhenQueueFails(t *testing.T) {
	tests := []struct {
		name       string
		sinkErr    error
		hang       bool
		storeErr   error
		cancelled  bool // the request's own context is over (the platform's deadline)
		wantStatus int
		wantBody   string
	}{
		{"queue down, spill ok", errors.New("connection refused"), false, nil, false, 200,
			`{"status":"spilled","message_id":"spill/2025/11/23/`},
		{"queue hangs, spill ok", nil, true, nil, false, 200,
			`{"status":"spilled","message_id":"spill/2025/11/23/`},
		{"request context over: the spill has its own budget", nil, true, nil, true, 200,
			`{"status":"spilled","message_id":"spill/2025/11/23/`},
		{"queue down, spill fails too", errors.New("connection refused"), false, errors.New("bucket gone"), false, 503,
			`{"error":"queue unavailable: retry later"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			sink := &memSink{err: tc.sinkErr, block: tc.hang, wait: make(chan struct{})}
			defer close(sink.wait)
			store := &memStore{err: tc.storeErr}
			r := newTestReceiver(t, sink, &logs)
			r.Spill = store
			ctx := context.Background()
			if tc.cancelled {
				c, cancel := context.WithCancel(ctx)
				cancel()
				ctx = c
			}
			res := r.Handle(ctx, signedRequest(sampleBody))
			if res.Status != tc.wantStatus || !bytes.HasPrefix(res.Body, []byte(tc.wantBody)) {
				t.Fatalf("answer %d %s, want %d %s", res.Status, res.Body, tc.wantStatus, tc.wantBody)
			}
			checkLogLine(t, logs.Bytes(), res.Status)
			if tc.wantStatus != 200 {
				return
			}
			var got acceptedBody
			if err := json.Unmarshal(res.Body, &got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(store.objs[got.MessageID], sampleBody) {
				t.Fatalf("spilled object %q is not the body", got.MessageID)
			}
			if m := store.meta[got.MessageID]; m[AttrEventType] != "post_call_transcription" || m[AttrContentSHA256] == "" {
				t.Fatalf("spilled metadata = %v", m)
			}
			if !bytes.Contains(logs.Bytes(), []byte(`"outcome":"spilled"`)) {
				t.Fatalf("spill not logged as outcome spilled: %s", logs.Bytes())
			}
		})
	}
}

func TestServeHTTP(t *testing.T) {
	var logs bytes.Buffer
	sink := &memSink{}
	r := newTestReceiver(t, sink, &logs)
	r.MaxBodyBytes = 1024
	srv := httptest.NewServer(r)
	defer srv.Close()

	post := func(body []byte, sig string, chunked bool) *http.Response {
		t.Helper()
		var rd interface{ Read([]byte) (int, error) } = bytes.NewReader(body)
		if chunked {
			rd = struct{ *bytes.Reader }{bytes.NewReader(body)} // hides Len: sent chunked
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhook", rd)
		if sig != "" {
			req.Header.Set("elevenlabs-signature", sig) // any case
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	tests := []struct {
		name    string
		body    []byte
		sig     string
		chunked bool
		want    int
	}{
		{"signed", sampleBody, Sign(testSecret, testNow, sampleBody), false, 200},
		{"signed, chunked", sampleBody, Sign(testSecret, testNow, sampleBody), true, 200},
		{"unsigned", sampleBody, "", false, 400},
		{"too large by Content-Length", bytes.Repeat([]byte("a"), 2048), "t=1,v0=00", false, 413},
		{"too large, chunked", bytes.Repeat([]byte("a"), 2048), "t=1,v0=00", true, 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if res := post(tc.body, tc.sig, tc.chunked); res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
		})
	}
	res, err := http.Get(srv.URL + "/webhook")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 405 || res.Header.Get("Allow") != "POST" || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET: %d %v", res.StatusCode, res.Header)
	}
	if len(sink.msgs) != 2 || !bytes.Equal(sink.msgs[1].Body, sampleBody) {
		t.Fatalf("queued %d messages", len(sink.msgs))
	}
	assertNoSecrets(t, logs.Bytes())
}

func TestRequestID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc-123", "abc-123"},
		{"Root=1-5f84c7a1-3e1f2a6b", "Root=1-5f84c7a1-3e1f2a6b"},
		{"", ""},
		{"has space", ""},
		{"line\nbreak", ""},
		{"caf\u00e9", ""},
		{strings.Repeat("a", 129), ""},
	}
	for _, tc := range tests {
		if got := requestID(tc.in); got != tc.want {
			t.Errorf("requestID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestErrorResponseOfNilIs500(t *testing.T) {
	if got := errorResponse(nil); got.Status != 500 {
		t.Fatalf("errorResponse(nil) = %d %s", got.Status, got.Body)
	}
}

func TestStatusOfUnknownErrorIs500(t *testing.T) {
	if got := statusOf(errors.New("surprise")); got != 500 {
		t.Fatalf("statusOf = %d", got)
	}
	if got := errorResponse(errors.New("db password is hunter2")); string(got.Body) != `{"error":"internal error"}` {
		t.Fatalf("unexpected error leaked: %s", got.Body)
	}
}
