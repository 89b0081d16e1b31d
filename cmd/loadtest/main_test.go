package main

import (
	"context"
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
			cfg := Config{
				N: n, Concurrency: 20, SharedHandler: true, Log: logs,
				Setenv: func(k, v string) error { t.Setenv(k, v); return nil },
			}
			res, err := RunTarget(ctx, tc.name, cfg, bodies)
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
