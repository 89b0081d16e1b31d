// Package loadtest drives a receiver over real HTTP with signed requests and
// checks, against what the queue holds afterwards, that nothing was lost and
// nothing appeared that was not acknowledged.
package loadtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
)

// Body is one request body with its idempotency key.
type Body struct {
	Type   string
	Bytes  []byte
	SHA256 string
}

// Mix returns n distinct bodies in a realistic mix of ElevenLabs events:
// mostly transcripts and call failures, some post-call audio from 64 KiB to
// maxAudio bytes (so that the larger ones cross the queue's limit and go
// through the claim check), some speech-to-text results. seed makes the mix
// repeatable.
func Mix(n int, maxAudio int, seed uint64) []Body {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]Body, n)
	for i := range out {
		var typ string
		var size int
		switch p := rng.IntN(100); {
		case p < 45:
			typ, size = "post_call_transcription", 1<<10+rng.IntN(30<<10)
		case p < 65:
			typ, size = "call_initiation_failure", 1<<10+rng.IntN(1<<10)
		case p < 80:
			typ, size = "speech_to_text_transcription", 2<<10+rng.IntN(8<<10)
		default:
			typ, size = "post_call_audio", 64<<10+rng.IntN(max(1, maxAudio-64<<10))
		}
		out[i] = makeBody(i, typ, size, rng)
	}
	return out
}

func makeBody(i int, typ string, size int, rng *rand.Rand) Body {
	head := fmt.Sprintf(`{"type":%q,"event_timestamp":%d,"data":{"agent_id":"agent_load","conversation_id":"conv_load_%06d","payload":"`,
		typ, time.Now().Unix(), i)
	tail := `"}}`
	raw := make([]byte, max(0, (size-len(head)-len(tail))*3/4))
	for j := range raw {
		raw[j] = byte(rng.Uint32())
	}
	b := []byte(head + base64.StdEncoding.EncodeToString(raw) + tail)
	sum := sha256.Sum256(b)
	return Body{Type: typ, Bytes: b, SHA256: hex.EncodeToString(sum[:])}
}

// Result is what one request got.
type Result struct {
	Body    int // index into the bodies
	Status  int
	Answer  string
	Latency time.Duration
	Err     error
}

// Options of a run.
type Options struct {
	URL         string
	Secret      string
	Concurrency int
	Client      *http.Client
	// OnResult, if set, is called with each request's Result as it
	// arrives, from the sending goroutines at once: for progress reports.
	OnResult func(Result)
}

// Run sends every body once, signed, Concurrency at a time, and returns one
// Result per body.
func Run(ctx context.Context, o Options, bodies []Body) []Result {
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency}}
	}
	results := make([]Result, len(bodies))
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, o.Concurrency) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = send(ctx, client, o, i, bodies[i].Bytes)
				if o.OnResult != nil {
					o.OnResult(results[i])
				}
			}
		}()
	}
	for i := range bodies {
		select {
		case next <- i:
		case <-ctx.Done():
			for j := i; j < len(bodies); j++ {
				results[j] = Result{Body: j, Err: ctx.Err()}
			}
			close(next)
			wg.Wait()
			return results
		}
	}
	close(next)
	wg.Wait()
	return results
}

func send(ctx context.Context, client *http.Client, o Options, i int, body []byte) Result {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.URL, bytes.NewReader(body))
	if err != nil {
		return Result{Body: i, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(core.SignatureHeader, core.Sign(o.Secret, time.Now(), body))
	res, err := client.Do(req)
	if err != nil {
		return Result{Body: i, Err: err, Latency: time.Since(start)}
	}
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	res.Body.Close()
	return Result{Body: i, Status: res.StatusCode, Answer: string(answer), Latency: time.Since(start)}
}

// Report sums up a run and its check.
type Report struct {
	Requests   int
	ByStatus   map[int]int
	Errors     int // transport errors (no answer)
	Duration   time.Duration
	P50, P99   time.Duration
	Acked      int // 2xx answers
	Lost       int // acknowledged, not in the queue
	Unexpected int // in the queue, never acknowledged
	// Late counts the unexpected messages whose request was answered 503:
	// the queue accepted them after the publish deadline. The sender
	// retries a 5xx, so consumers see such an event twice and deduplicate
	// it; they are still counted as unexpected, not excused.
	Late       int
	Duplicates int // acknowledged once, in the queue more than once
	Mismatched int // in the queue with other bytes than were sent
	Problems   []string
}

// Check compares the results with the drained queue: queued maps each
// message's content_sha256 to the bodies (resolved through any claim check)
// found under it.
func Check(bodies []Body, results []Result, queued map[string][][]byte, took time.Duration) Report {
	r := Report{Requests: len(results), ByStatus: map[int]int{}, Duration: took}
	lat := make([]time.Duration, 0, len(results))
	acked := map[string]bool{}
	refused := map[string]bool{} // answered 503: the queue failed or was late
	for _, res := range results {
		if res.Err != nil {
			r.Errors++
			continue
		}
		r.ByStatus[res.Status]++
		lat = append(lat, res.Latency)
		if res.Status/100 == 2 {
			r.Acked++
			acked[bodies[res.Body].SHA256] = true
		}
		if res.Status == 503 {
			refused[bodies[res.Body].SHA256] = true
		}
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		r.P50 = lat[len(lat)*50/100]
		r.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	byHash := map[string]Body{}
	for _, b := range bodies {
		byHash[b.SHA256] = b
	}
	for sum := range acked {
		got := queued[sum]
		switch {
		case len(got) == 0:
			r.Lost++
			r.problem("lost: %s (%s)", sum[:12], byHash[sum].Type)
		case len(got) > 1:
			r.Duplicates++
		}
		for _, g := range got {
			if !bytes.Equal(g, byHash[sum].Bytes) {
				r.Mismatched++
				r.problem("bytes differ: %s", sum[:12])
			}
		}
	}
	for sum, got := range queued {
		if !acked[sum] {
			r.Unexpected += len(got)
			if refused[sum] {
				r.Late += len(got)
				r.problem("unexpected: %s (answered 503, queued after the deadline)", sum[:min(12, len(sum))])
				continue
			}
			r.problem("unexpected: %s", sum[:min(12, len(sum))])
		}
	}
	return r
}

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) < 20 {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// OK reports whether nothing was lost, duplicated, altered or unexpected.
func (r Report) OK() bool {
	return r.Lost == 0 && r.Unexpected == 0 && r.Mismatched == 0 && r.Duplicates == 0
}

// String is the summary a person reads.
func (r Report) String() string {
	var sb strings.Builder
	statuses := make([]int, 0, len(r.ByStatus))
	for s := range r.ByStatus {
		statuses = append(statuses, s)
	}
	slices.Sort(statuses)
	fmt.Fprintf(&sb, "requests %d in %s: %.0f req/s, p50 %s, p99 %s\n", r.Requests, r.Duration.Round(time.Millisecond),
		float64(r.Requests)/r.Duration.Seconds(), r.P50.Round(100*time.Microsecond), r.P99.Round(100*time.Microsecond))
	fmt.Fprintf(&sb, "answers:")
	for _, s := range statuses {
		fmt.Fprintf(&sb, " %d×%d", r.ByStatus[s], s)
	}
	if r.Errors > 0 {
		fmt.Fprintf(&sb, " %d×no-answer", r.Errors)
	}
	fmt.Fprintf(&sb, "\nacknowledged %d; lost %d, unexpected %d, duplicates %d, bytes differ %d\n",
		r.Acked, r.Lost, r.Unexpected, r.Duplicates, r.Mismatched)
	if r.Late > 0 {
		fmt.Fprintf(&sb, "of the unexpected, %d were answered 503 and accepted by the queue after the deadline (at least once: deduplicate on content_sha256)\n", r.Late)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&sb, "  %s\n", p)
	}
	return sb.String()
}
