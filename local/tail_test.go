package local

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
)

// TestTailFollowsTheSpool: lines written before and after Tail starts
// arrive in order, base64 bodies too; a line cut mid-write waits for its
// end; a garbage line is reported and skipped; a replaced file starts over.
func TestTailFollowsTheSpool(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "spool.jsonl")
	s := &Spool{Path: path}
	publish := func(body string) {
		t.Helper()
		if _, err := s.Publish(context.Background(), core.NewMessage([]byte(body), core.Signature{Timestamp: "1"}, time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	publish(`{"type":"a"}`)

	var mu sync.Mutex
	var got []string
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Tail(ctx, path, func(l SpoolLine, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				got = append(got, "error")
				return
			}
			got = append(got, string(l.RawBody()))
		})
	}()
	waitFor := func(n int) {
		t.Helper()
		for i := 0; i < 400; i++ { // up to 20 s on a loaded machine
			mu.Lock()
			k := len(got)
			mu.Unlock()
			if k >= n {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("got %q, want %d lines", got, n)
	}
	waitFor(1)
	publish("\xff\xfe") // not UTF-8: spooled as body_base64

	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"message_id":"m","attributes":{},"bo`)
	time.Sleep(3 * tailPoll)
	f.WriteString("dy\":\"{\\\"type\\\":\\\"c\\\"}\"}\nnot json\n")
	f.Close()
	waitFor(4)

	// A crash tore a line; the restarted server cuts it and appends.
	f, err = os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"message_id":"torn","attributes":{},"body":"{\"type\":\"tor`)
	f.Close()
	time.Sleep(2 * tailPoll)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()-int64(len(`{"message_id":"torn","attributes":{},"body":"{\"type\":\"tor`))); err != nil {
		t.Fatal(err)
	}
	publish(`{"type":"after the tear"}`)
	waitFor(5)

	// make clean removes the file; the server creates it again.
	os.Remove(path)
	publish(`{"type":"d"}`)
	waitFor(6)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []string{`{"type":"a"}`, "\xff\xfe", `{"type":"c"}`, "error", `{"type":"after the tear"}`, `{"type":"d"}`}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}
