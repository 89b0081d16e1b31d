package gcf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
)

// TestFaults takes the real Pub/Sub emulator (and the bucket) away from the
// function over real HTTP, through loopback proxies the test cuts, slows
// and restores, so the emulator keeps its topic and messages. No spill
// bucket unless said: an outage gives 503, never a 2xx for a lost event.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the Pub/Sub emulator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	emu, admin := startEmulatorTopic(ctx, t)
	subs := 0
	// subscribe makes a fresh subscription: it sees what is published from
	// now on, so each case counts only its own messages.
	subscribe := func(t *testing.T) string {
		subs++
		name := fmt.Sprintf("projects/%s/subscriptions/faults-%d", testProject, subs)
		if _, err := admin.SubscriptionAdminClient.CreateSubscription(ctx, &pb.Subscription{Name: name, Topic: testTopic}); err != nil {
			t.Fatal(err)
		}
		return name
	}
	// pull returns message id → data of everything on sub.
	pull := func(t *testing.T, sub string) map[string]string {
		got := map[string]string{}
		for quiet := 0; quiet < 2 && ctx.Err() == nil; {
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			res, err := admin.SubscriptionAdminClient.Pull(pctx, &pb.PullRequest{Subscription: sub, MaxMessages: 100})
			pcancel()
			if err != nil || len(res.ReceivedMessages) == 0 {
				quiet++
				continue
			}
			var acks []string
			for _, m := range res.ReceivedMessages {
				got[m.Message.MessageId] = string(m.Message.Data)
				acks = append(acks, m.AckId)
			}
			if err := admin.SubscriptionAdminClient.Acknowledge(ctx, &pb.AcknowledgeRequest{Subscription: sub, AckIds: acks}); err != nil {
				t.Fatal(err)
			}
		}
		return got
	}
	// function serves the function with Pub/Sub behind a new proxy.
	function := func(t *testing.T, e env) (string, *testenv.Proxy) {
		proxy := testenv.StartProxy(t, emu.Endpoint)
		t.Setenv("PUBSUB_EMULATOR_HOST", proxy.Addr)
		url, _ := startFunction(t, e)
		return url, proxy
	}
	transcription := readBody(t, "post_call_transcription")

	t.Run("emulator unreachable in the middle of concurrent requests", func(t *testing.T) {
		sub := subscribe(t)
		e := baseEnv()
		e["PUBLISH_TIMEOUT"] = "2s"
		url, proxy := function(t, e)
		const n, workers = 30, 5
		type result struct {
			a    answer
			body string
		}
		results := make([]result, n)
		proxy.Outage(n, workers, func(i int) {
			body := fmt.Sprintf(`{"type":"post_call_transcription","data":{"conversation_id":"conv_%d"}}`, i)
			results[i] = result{postAsync(url, []byte(body)), body}
		})
		got := pull(t, sub)
		ok, unavailable := 0, 0
		for i, r := range results {
			switch r.a.Status {
			case http.StatusOK:
				ok++
				if got[r.a.Body["message_id"]] != r.body {
					t.Errorf("request %d answered 200 (%v) but not in Pub/Sub", i, r.a.Body)
				}
			case http.StatusServiceUnavailable:
				unavailable++
			default:
				t.Errorf("request %d: answer %d %v, want 200 or 503", i, r.a.Status, r.a.Body)
			}
		}
		if unavailable == 0 || ok == 0 {
			t.Errorf("%d accepted, %d answered 503: want both", ok, unavailable)
		}
		t.Logf("%d accepted and queued, %d answered 503", ok, unavailable)
	})

	t.Run("emulator slower than PUBLISH_TIMEOUT: 503 within about the timeout", func(t *testing.T) {
		e := baseEnv()
		e["PUBLISH_TIMEOUT"] = "1s"
		url, proxy := function(t, e)
		if a := post(t, url, testSecret, transcription); a.Status != http.StatusOK {
			t.Fatalf("before: answer %d %v", a.Status, a.Body)
		}
		proxy.Slow(3 * time.Second)
		defer proxy.Slow(0)
		start := time.Now()
		a := post(t, url, testSecret, transcription)
		if a.Status != http.StatusServiceUnavailable {
			t.Errorf("slow: answer %d %v, want 503", a.Status, a.Body)
		}
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("slow: answered after %s, want about the 1s PUBLISH_TIMEOUT", d)
		}
	})

	t.Run("claim-check store down: large bodies 503, small ones still 200", func(t *testing.T) {
		gcs := testenv.StartGCS(t, testBucket)
		gcsProxy := testenv.StartProxy(t, strings.TrimPrefix(gcs.URL(), "http://"))
		t.Setenv("STORAGE_EMULATOR_HOST", "http://"+gcsProxy.Addr)
		sub := subscribe(t)
		e := baseEnv()
		e["CLAIM_CHECK_BUCKET"] = testBucket
		e["CLAIM_CHECK_THRESHOLD_BYTES"] = "4096"
		e["PUBLISH_TIMEOUT"] = "2s"
		url, _ := function(t, e)
		gcsProxy.Down()
		if a := post(t, url, testSecret, readBody(t, "post_call_audio")); a.Status != http.StatusServiceUnavailable {
			t.Errorf("large body: answer %d %v, want 503", a.Status, a.Body)
		}
		a := post(t, url, testSecret, transcription)
		if a.Status != http.StatusOK {
			t.Fatalf("small body: answer %d %v, want 200", a.Status, a.Body)
		}
		if got := pull(t, sub); len(got) != 1 || got[a.Body["message_id"]] != string(transcription) {
			t.Errorf("queued %d messages, want only the small body", len(got))
		}
	})

	t.Run("retry after recovery is queued", func(t *testing.T) {
		// Pub/Sub has no publish-side deduplication (no FIFO queue's
		// MessageDeduplicationId): consumers deduplicate on content_sha256.
		sub := subscribe(t)
		e := baseEnv()
		e["PUBLISH_TIMEOUT"] = "2s"
		url, proxy := function(t, e)
		proxy.Down()
		if a := post(t, url, testSecret, transcription); a.Status != http.StatusServiceUnavailable {
			t.Fatalf("down: answer %d %v, want 503", a.Status, a.Body)
		}
		proxy.Up()
		// gRPC reconnects with backoff: ElevenLabs' retries come later.
		var a answer
		for try := 0; try < 10; try++ {
			if a = post(t, url, testSecret, transcription); a.Status == http.StatusOK {
				break
			}
			time.Sleep(time.Second)
		}
		if a.Status != http.StatusOK {
			t.Fatalf("after recovery: answer %d %v, want 200", a.Status, a.Body)
		}
		if got := pull(t, sub); got[a.Body["message_id"]] != string(transcription) {
			t.Errorf("the retry is not in Pub/Sub (%d messages)", len(got))
		}
	})
}

// postAsync is post for any goroutine: a transport failure is status 0.
func postAsync(url string, body []byte) answer {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return answer{}
	}
	req.Header.Set(core.SignatureHeader, core.Sign(testSecret, time.Now(), body))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return answer{}
	}
	defer resp.Body.Close()
	a := answer{Status: resp.StatusCode}
	json.NewDecoder(resp.Body).Decode(&a.Body)
	return a
}
