package core

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// BodyReleased tells a platform when it may reuse the request's buffer:
// only when no queue call can still be reading it.
func TestResponseBodyReleased(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(r *Receiver, s *memSink)
		req    func() *Request
		status int
		want   bool
	}{
		{"accepted", func(*Receiver, *memSink) {}, func() *Request { return signedRequest(sampleBody) }, 200, true},
		{"refused before the queue", func(*Receiver, *memSink) {}, func() *Request {
			req := signedRequest(sampleBody)
			req.Headers = nil
			return req
		}, 400, true},
		{"queue failed", func(_ *Receiver, s *memSink) { s.err = errors.New("down") }, func() *Request { return signedRequest(sampleBody) }, 503, false},
		{"spilled", func(r *Receiver, s *memSink) { s.err = errors.New("down"); r.Spill = &memStore{} }, func() *Request { return signedRequest(sampleBody) }, 200, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := &memSink{}
			r := newTestReceiver(t, sink, &bytes.Buffer{})
			tc.setup(r, sink)
			res := r.Handle(context.Background(), tc.req())
			if res.Status != tc.status || res.BodyReleased != tc.want {
				t.Fatalf("Handle = %d released=%v, want %d released=%v (%s)", res.Status, res.BodyReleased, tc.status, tc.want, res.Body)
			}
		})
	}
	if res := (&Receiver{}).Reject(context.Background(), &Request{}, ErrBodyRead); !res.BodyReleased {
		t.Fatal("Reject made no queue call: the body is released")
	}
}
