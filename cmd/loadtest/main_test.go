package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/internal/loadtest"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
)

// TestLoad is `make loadtest` in small: a few hundred signed requests over
// loopback into each real emulator, then the check that every 2xx has
// exactly one message with the bytes sent and that nothing else was queued.
// The SQS target shares one Handler among all concurrent requests, so that
// the race detector sees concurrent Invoke calls.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server and the Pub/Sub emulator")
	}
	const n = 300
	// Bodies up to 600 KiB: enough to cross the 256 KiB claim-check limit,
	// small enough to stay quick under the race detector.
	bodies := loadtest.Mix(n, 600<<10, 7)
	for _, tc := range []struct {
		name, tool, hint string
	}{
		{"sqs", "moto_server", testenv.MotoHint},
		{"pubsub", "gcloud", testenv.PubSubHint},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.RequireTool(t, tc.tool, tc.hint)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			logs := &limitedLog{}
			cfg := runConfig{
				N: n, Concurrency: 20, SharedHandler: true, MotoConns: defaultMotoConns, Log: logs,
				Setenv: func(k, v string) error { t.Setenv(k, v); return nil },
			}
			res, err := runTarget(ctx, tc.name, cfg, bodies)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s:\n%s", tc.name, res)
			if !res.OK() || res.Acked != n || res.Messages != n {
				t.Errorf("want %d acknowledged and %d messages, nothing lost, duplicated, altered or unexpected; got\n%s\nreceiver log:\n%s", n, n, res, logs)
			}
			if res.ClaimChecked == 0 {
				t.Error("no message was claim-checked: the claim check did not run")
			}
			if tc.name == "sqs" && (res.Base64Events == 0 || res.Base64Events == n) {
				t.Errorf("%d of %d events base64-encoded, want some of each", res.Base64Events, n)
			}
		})
	}
}

// limitedLog keeps the start of the receivers' log, for failure messages.
type limitedLog struct {
	mu sync.Mutex
	b  []byte
}

func (l *limitedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.b) < 64<<10 {
		l.b = append(l.b, p...)
	}
	return len(p), nil
}

func (l *limitedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// TestProgress checks that a long run reports how far it has got.
func TestProgress(t *testing.T) {
	bodies := loadtest.Mix(3, 64<<10, 1)
	c := newCollector(bodies)
	c.add("m1", bodies[0].SHA256, bodies[0].Bytes, false, nil)
	var out syncBuffer
	onResult, stop := progress(&out, 5*time.Millisecond, len(bodies), time.Now(), c)
	onResult(loadtest.Result{Status: 200})
	onResult(loadtest.Result{Status: 503})
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "answered") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	got := out.String()
	if !strings.Contains(got, "2/3 answered, 1 with 2xx; 1 messages read") {
		t.Errorf("progress wrote %q, want a line with 2/3 answered, 1 with 2xx, 1 message read", got)
	}
	lines := strings.Count(got, "\n")
	time.Sleep(20 * time.Millisecond)
	if n := strings.Count(out.String(), "\n"); n != lines {
		t.Errorf("progress went on writing after stop: %d lines, then %d", lines, n)
	}
}

// syncBuffer is a bytes.Buffer safe for the progress goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
