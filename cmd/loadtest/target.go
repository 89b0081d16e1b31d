package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elevenrelay/elevenrelay/internal/loadtest"
)

// secret signs every request; the receivers are configured with it alone.
const secret = "wsec_loadtest_not_a_real_secret"

// claimCheckLimit is where the claim check starts on both targets: the SQS
// queue is created with this MaximumMessageSize, and the function gets it as
// CLAIM_CHECK_THRESHOLD_BYTES (Pub/Sub's own limit, 10 MB, is above every
// body of the mix, so without it the GCS claim check would never run).
const claimCheckLimit = 256 << 10

// runConfig is one run's settings.
type runConfig struct {
	N, Concurrency int
	MaxAudio       int
	Seed           uint64
	// SharedHandler serves every concurrent request with one lambda
	// Handler; otherwise each concurrent request has a Handler of its own,
	// as each concurrent request has a Lambda instance of its own.
	SharedHandler bool
	// MotoConns caps the connections the sqs target's handlers share to
	// moto_server (0: no cap); the consumer has connections of its own.
	MotoConns int
	// Progress, if set, receives a line on the run's progress every
	// ProgressEvery.
	Progress      io.Writer
	ProgressEvery time.Duration
	// Log receives the receivers' log lines.
	Log io.Writer
	// Setenv sets the variables the Google clients read
	// (PUBSUB_EMULATOR_HOST, STORAGE_EMULATOR_HOST): os.Setenv, or
	// t.Setenv in tests.
	Setenv func(key, value string) error
}

// drainTimeout bounds reading the queue back.
const drainTimeout = 15 * time.Minute

// env is a receiver's environment, as getenv.
type env map[string]string

func (e env) getenv(k string) string { return e[k] }

// target is a receiver serving on loopback in front of a queue.
type target struct {
	url string
	// drain reads every message the queue holds into c, deleting or
	// acknowledging each, until the queue stays empty.
	drain func(ctx context.Context, c *collector) error
	stop  func()
}

// targetResult is one target's report with what the drain saw besides.
type targetResult struct {
	loadtest.Report
	Setup, Drain     time.Duration // Drain: from the end of the run to an empty queue
	DrainedDuringRun int
	Messages         int // distinct messages drained (by message id)
	Redelivered      int // deliveries of a message already drained, not counted again
	ClaimChecked     int // of which claim-checked
	ResolveErrors    int // messages whose body could not be resolved
	Base64Events     int // sqs: events sent with isBase64Encoded
	Notes            []string
}

// OK reports whether the check passed and every message resolved.
func (r targetResult) OK() bool { return r.Report.OK() && r.ResolveErrors == 0 && r.Errors == 0 }

func (r targetResult) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "setup %s; queue read during the run (%d messages) and %s after it: %d messages, %d of them claim-checked",
		r.Setup.Round(time.Millisecond), r.DrainedDuringRun, r.Drain.Round(time.Millisecond), r.Messages, r.ClaimChecked)
	if r.Base64Events > 0 {
		fmt.Fprintf(&sb, "; %d events sent base64-encoded", r.Base64Events)
	}
	if r.Redelivered > 0 {
		fmt.Fprintf(&sb, "; %d delivered again under the same message id (counted once)", r.Redelivered)
	}
	if r.ResolveErrors > 0 {
		fmt.Fprintf(&sb, "; %d could not be resolved", r.ResolveErrors)
	}
	sb.WriteString("\n")
	sb.WriteString(r.Report.String())
	for _, n := range r.Notes {
		fmt.Fprintf(&sb, "  %s\n", n)
	}
	return sb.String()
}

// runTarget starts the emulator and the receiver for name ("sqs" or
// "pubsub"), sends bodies, drains the queue, checks, and stops everything.
func runTarget(ctx context.Context, name string, cfg runConfig, bodies []loadtest.Body) (targetResult, error) {
	var res targetResult
	start := time.Now()
	var t *target
	var sqsStats *sqsAdapter
	var err error
	switch name {
	case "sqs":
		t, sqsStats, err = startSQS(ctx, cfg)
	case "pubsub":
		t, err = startPubSub(ctx, cfg)
	default:
		return res, fmt.Errorf("unknown target %q", name)
	}
	if err != nil {
		return res, err
	}
	defer t.stop()
	res.Setup = time.Since(start)

	// The consumer reads while the load runs, as consumers do; it also
	// keeps the queue short, which moto needs: its ReceiveMessage walks
	// the whole queue, so a drain of 20,000 messages after the run would
	// take hours.
	c := newCollector(bodies)
	dctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()
	drained := make(chan error, 1)
	go func() { drained <- t.drain(dctx, c) }()

	start = time.Now()
	opts := loadtest.Options{URL: t.url, Secret: secret, Concurrency: cfg.Concurrency}
	stopProgress := func() {}
	if cfg.Progress != nil && cfg.ProgressEvery > 0 {
		opts.OnResult, stopProgress = progress(cfg.Progress, cfg.ProgressEvery, len(bodies), start, c)
	}
	results := loadtest.Run(ctx, opts, bodies)
	took := time.Since(start)
	stopProgress()
	if sqsStats != nil {
		res.Base64Events = int(sqsStats.base64.Load())
	}
	acked := 0
	for _, r := range results {
		if r.Err == nil && r.Status/100 == 2 {
			acked++
		}
	}
	c.runDone(acked)
	start = time.Now()
	if err := <-drained; err != nil {
		return res, fmt.Errorf("drain: %w", err)
	}
	res.Drain = time.Since(start)
	res.DrainedDuringRun = c.duringRun
	res.Report = loadtest.Check(bodies, results, c.got, took)
	res.Messages, res.ClaimChecked, res.ResolveErrors, res.Redelivered = c.messages, c.claimChecked, c.resolveErrors, c.redelivered
	res.Notes = append(res.Notes, c.errs...)
	for sum, ids := range c.ids {
		if len(ids) > 1 {
			res.Notes = append(res.Notes, fmt.Sprintf("%s queued %d times: message ids %v", sum[:min(12, len(sum))], len(ids), ids))
		}
	}
	return res, nil
}

// collector gathers the drained messages by content_sha256. A body equal to
// the one sent is kept as that same slice, so a run of many megabytes does
// not hold every body twice; Check still compares it.
type collector struct {
	sent map[string][]byte

	mu            sync.Mutex
	done          bool // the run is over
	want          int  // 2xx answers: the drain goes on at least until it has these
	duringRun     int  // messages drained before the run was over
	got           map[string][][]byte
	ids           map[string][]string // message ids by content_sha256
	seen          map[string]bool     // message ids
	redelivered   int
	messages      int
	claimChecked  int
	resolveErrors int
	errs          []string
}

func newCollector(bodies []loadtest.Body) *collector {
	c := &collector{sent: make(map[string][]byte, len(bodies)), got: map[string][][]byte{}, ids: map[string][]string{}, seen: map[string]bool{}}
	for _, b := range bodies {
		c.sent[b.SHA256] = b.Bytes
	}
	return c
}

// add records one message: its id, its content_sha256 attribute, the resolved body
// (or the error resolving it), and whether it was claim-checked.
func (c *collector) add(id, sum string, body []byte, claimChecked bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[id] {
		// The same message again: a delivery, not a second message. SQS
		// and Pub/Sub deliver at least once; moto's ReceiveMessage does
		// it under concurrent receives.
		c.redelivered++
		return
	}
	c.seen[id] = true
	c.messages++
	c.ids[sum] = append(c.ids[sum], id)
	if claimChecked {
		c.claimChecked++
	}
	if err != nil {
		c.resolveErrors++
		if len(c.errs) < 10 {
			c.errs = append(c.errs, err.Error())
		}
		return
	}
	if sent, ok := c.sent[sum]; ok && bytes.Equal(sent, body) {
		body = sent
	}
	c.got[sum] = append(c.got[sum], body)
}

// read reports how many distinct messages have been drained so far.
func (c *collector) read() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.messages
}

// progress counts the answers as they arrive and writes a line to w every
// period until stop is called: a run of 20,000 requests takes minutes, and
// whether the consumer keeps up with the senders is worth seeing on the way.
func progress(w io.Writer, period time.Duration, n int, start time.Time, c *collector) (onResult func(loadtest.Result), stop func()) {
	var answered, acked atomic.Int64
	onResult = func(r loadtest.Result) {
		answered.Add(1)
		if r.Err == nil && r.Status/100 == 2 {
			acked.Add(1)
		}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				a, ok := answered.Load(), acked.Load()
				fmt.Fprintf(w, "  %s: %d/%d answered, %d with 2xx; %d messages read\n",
					time.Since(start).Round(time.Second), a, n, ok, c.read())
			}
		}
	}()
	return onResult, func() { close(done); <-finished }
}

// runDone says that the run is over with acked 2xx answers.
func (c *collector) runDone(acked int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done, c.want, c.duringRun = true, acked, c.messages
}

// state reports whether the run is over, and whether every acknowledged
// message has been drained.
func (c *collector) state() (done, complete bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done, c.done && c.messages >= c.want
}

// drainLoop runs workers that each call receive until, after the run, the
// queue has been quiet long enough: quiet empty receives in a row once every
// acknowledged message is in (to catch any extra), patience in a row before
// (the queue may still be settling, or a message is lost, which the check
// then reports).
func drainLoop(ctx context.Context, c *collector, workers, quiet, patience int, receive func(context.Context) (int, error)) error {
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			empty := 0
			for ctx.Err() == nil {
				n, err := receive(ctx)
				if err != nil {
					errs <- err
					return
				}
				if n > 0 {
					empty = 0
					continue
				}
				empty++
				done, complete := c.state()
				if complete && empty >= quiet || done && empty >= patience {
					return
				}
			}
			errs <- ctx.Err()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// probe posts an unsigned body: a receiver that started answers 400, one
// that failed closed 500. It queues nothing either way.
func probe(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"type":"probe"}`))
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		return fmt.Errorf("receiver not ready: an unsigned request got %d %s, want 400", res.StatusCode, answer)
	}
	return nil
}
