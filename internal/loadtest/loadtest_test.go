package loadtest

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
)

type mapSink struct {
	mu  sync.Mutex
	got map[string][][]byte
}

func (s *mapSink) Publish(ctx context.Context, m *core.Message) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got[m.ContentSHA256] = append(s.got[m.ContentSHA256], m.Body)
	return m.ContentSHA256, nil
}

func TestRunAndCheck(t *testing.T) {
	bodies := Mix(200, 300<<10, 1)
	seen := map[string]bool{}
	for _, b := range bodies {
		if seen[b.SHA256] {
			t.Fatal("Mix made two equal bodies")
		}
		seen[b.SHA256] = true
		if got := core.NewMessage(b.Bytes, core.Signature{}, time.Time{}).EventType; got != b.Type {
			t.Fatalf("body of type %s classified as %s", b.Type, got)
		}
	}
	sink := &mapSink{got: map[string][][]byte{}}
	v, _ := core.NewVerifier([]string{"wsec_load"}, core.VerifierOptions{})
	srv := httptest.NewServer(&core.Receiver{Verifier: v, Sink: sink, Logger: discard()})
	defer srv.Close()
	results := Run(context.Background(), Options{URL: srv.URL, Secret: "wsec_load", Concurrency: 8}, bodies)
	rep := Check(bodies, results, sink.got, 1)
	if !rep.OK() || rep.Acked != len(bodies) || rep.ByStatus[200] != len(bodies) {
		t.Fatalf("report:\n%s", rep)
	}

	// The check finds what is wrong.
	lostOne := map[string][][]byte{}
	for k, v := range sink.got {
		lostOne[k] = v
	}
	delete(lostOne, bodies[0].SHA256)
	lostOne["feedface"] = [][]byte{[]byte("x")}
	lostOne[bodies[1].SHA256] = [][]byte{[]byte("other bytes")}
	lostOne[bodies[2].SHA256] = append(lostOne[bodies[2].SHA256], bodies[2].Bytes)
	rep = Check(bodies, results, lostOne, 1)
	if rep.Lost != 1 || rep.Unexpected != 1 || rep.Late != 0 || rep.Mismatched != 1 || rep.Duplicates != 1 || rep.OK() {
		t.Fatalf("check missed a problem:\n%s", rep)
	}

	// A message queued for a request answered 503 is unexpected, and late.
	results[3].Status = 503
	rep = Check(bodies, results, sink.got, 1)
	if rep.Unexpected != 1 || rep.Late != 1 || rep.Lost != 0 || rep.OK() {
		t.Fatalf("late delivery not reported:\n%s", rep)
	}
}

func discard() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }
