package gcf_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/gcf"
)

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestPublishAttributes sends each sample event through the function over
// HTTP to the in-process Pub/Sub fake and checks the queued bytes and
// attributes against docs/spec.md §3.
func TestPublishAttributes(t *testing.T) {
	srv := startPstest(t)
	url, _ := startFunction(t, baseEnv())

	tests := []struct {
		name           string
		body           []byte
		eventType      string
		eventTimestamp string
		conversationID string
	}{
		{"post_call_transcription", readBody(t, "post_call_transcription"), "post_call_transcription", "1763859600", "conv_01jxq5a7w3d9hc6y2b4k8m1n3p"},
		{"post_call_audio", readBody(t, "post_call_audio"), "post_call_audio", "1763859605", "conv_01jxq5a7w3d9hc6y2b4k8m1n3p"},
		{"call_initiation_failure", readBody(t, "call_initiation_failure"), "call_initiation_failure", "1763859720", "conv_01jxq6b2m8k4td3x7c5n9q2w4e"},
		{"speech_to_text_transcription", readBody(t, "speech_to_text_transcription"), "speech_to_text_transcription", "1763859840", ""},
		{"not JSON is still authentic", []byte("not json at all"), "unknown", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now().UTC().Truncate(time.Second)
			a := post(t, url, testSecret, tc.body)
			if a.Status != http.StatusOK || a.Body["status"] != "accepted" {
				t.Fatalf("answer %d %v, want 200 accepted", a.Status, a.Body)
			}
			m := srv.Message(a.Body["message_id"])
			if m == nil {
				t.Fatalf("message %q not in Pub/Sub", a.Body["message_id"])
			}
			if string(m.Data) != string(tc.body) {
				t.Errorf("data differs from the body sent")
			}
			if m.OrderingKey != "" {
				t.Errorf("ordering key %q without PUBSUB_ORDERING", m.OrderingKey)
			}
			want := map[string]string{
				core.AttrEventType:     tc.eventType,
				core.AttrContentSHA256: sha256Hex(tc.body),
			}
			if tc.eventTimestamp != "" {
				want[core.AttrEventTimestamp] = tc.eventTimestamp
			}
			if tc.conversationID != "" {
				want[core.AttrConversationID] = tc.conversationID
			}
			got := m.Attributes
			for k, v := range want {
				if got[k] != v {
					t.Errorf("attribute %s = %q, want %q", k, got[k], v)
				}
			}
			if ts, err := strconv.ParseInt(got[core.AttrSignatureTimestamp], 10, 64); err != nil || ts < before.Unix() {
				t.Errorf("signature_timestamp %q, want the header's t", got[core.AttrSignatureTimestamp])
			}
			received, err := time.Parse(time.RFC3339, got[core.AttrReceivedAt])
			if err != nil || received.Before(before) || received.Location() != time.UTC {
				t.Errorf("received_at %q, want RFC 3339 UTC of now", got[core.AttrReceivedAt])
			}
			if len(got) != len(want)+2 {
				t.Errorf("attributes %v, want exactly %v plus the two timestamps", got, want)
			}
		})
	}
}

// TestOrderingKey checks that PUBSUB_ORDERING=true publishes with the
// conversation as ordering key (the event type when there is none).
func TestOrderingKey(t *testing.T) {
	tests := []struct {
		ordering string
		body     string
		want     string
	}{
		{"true", "post_call_transcription", "conv_01jxq5a7w3d9hc6y2b4k8m1n3p"},
		{"true", "speech_to_text_transcription", "speech_to_text_transcription"},
		{"false", "post_call_transcription", ""},
	}
	for _, tc := range tests {
		t.Run(tc.ordering+"/"+tc.body, func(t *testing.T) {
			srv := startPstest(t)
			e := baseEnv()
			e["PUBSUB_ORDERING"] = tc.ordering
			url, _ := startFunction(t, e)
			a := post(t, url, testSecret, readBody(t, tc.body))
			if a.Status != http.StatusOK {
				t.Fatalf("answer %d %v, want 200", a.Status, a.Body)
			}
			if got := srv.Message(a.Body["message_id"]).OrderingKey; got != tc.want {
				t.Errorf("ordering key %q, want %q", got, tc.want)
			}
		})
	}
}

// failingPublish makes the fake refuse Publish with code while fail is set.
type failingPublish struct {
	fail atomic.Bool
	code codes.Code
}

func (f *failingPublish) React(any) (bool, any, error) {
	if f.fail.Load() {
		return true, nil, status.Error(f.code, "injected failure")
	}
	return false, nil, nil
}

// TestPublishFailure checks that a refused or hanging publish is answered
// 503 with nothing else promised, and that an ordered conversation is not
// stuck after a failure: the retry of the same event goes through.
func TestPublishFailure(t *testing.T) {
	tests := []struct {
		name     string
		code     codes.Code // PermissionDenied is final; Unavailable is retried until PUBLISH_TIMEOUT
		ordering string
	}{
		{"refused", codes.PermissionDenied, "false"},
		{"refused, ordered", codes.PermissionDenied, "true"},
		{"unavailable until the timeout, ordered", codes.Unavailable, "true"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &failingPublish{code: tc.code}
			r.fail.Store(true)
			srv := startPstest(t, pstest.ServerReactorOption{FuncName: "Publish", Reactor: r})
			e := baseEnv()
			e["PUBSUB_ORDERING"] = tc.ordering
			e["PUBLISH_TIMEOUT"] = "1s"
			url, logs := startFunction(t, e)
			body := readBody(t, "post_call_transcription")

			start := time.Now()
			a := post(t, url, testSecret, body)
			if a.Status != http.StatusServiceUnavailable || a.Body["error"] != "queue unavailable: retry later" {
				t.Fatalf("answer %d %v, want 503 queue unavailable: retry later", a.Status, a.Body)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("answered after %s, want within the 1s publish timeout", d)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("%d messages published, want 0", n)
			}
			if !strings.Contains(logs.String(), `"status":503`) {
				t.Errorf("no log line with status 503")
			}

			// The sender retries, as ElevenLabs does. An ordered key stays
			// paused until the failed publish has really finished (its own
			// retries end at the publish timeout), so a retry that comes
			// sooner may still get 503; one shortly after must get 200.
			r.fail.Store(false)
			for try := 0; ; try++ {
				a = post(t, url, testSecret, body)
				if a.Status == http.StatusOK {
					break
				}
				if try == 20 {
					t.Fatalf("retries answered %d %v, want 200 within about 4s", a.Status, a.Body)
				}
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
}

// TestTopicMissing: a topic that does not exist is a queue failure (503),
// never a 2xx.
func TestTopicMissing(t *testing.T) {
	startPstest(t)
	e := baseEnv()
	e["PUBSUB_TOPIC"] = "projects/" + testProject + "/topics/absent"
	url, _ := startFunction(t, e)
	a := post(t, url, testSecret, readBody(t, "post_call_transcription"))
	if a.Status != http.StatusServiceUnavailable {
		t.Fatalf("answer %d %v, want 503", a.Status, a.Body)
	}
}

// TestFailClosed checks that a function without a secret, a topic or a
// usable configuration answers 500 to everything and says why at start.
func TestFailClosed(t *testing.T) {
	tests := []struct {
		name    string
		change  env
		answer  string
		logLine string
	}{
		{"no secret", env{"ELEVENLABS_WEBHOOK_SECRET": ""}, "Webhook secret not configured", "ELEVENLABS_WEBHOOK_SECRET is not set"},
		{"blank secrets", env{"ELEVENLABS_WEBHOOK_SECRET": " , "}, "Webhook secret not configured", "ELEVENLABS_WEBHOOK_SECRET is not set"},
		{"no topic", env{"PUBSUB_TOPIC": ""}, "configuration unusable", "PUBSUB_TOPIC is not set"},
		{"bare topic without project", env{"PUBSUB_TOPIC": "webhooks"}, "configuration unusable", `a bare topic name needs GOOGLE_CLOUD_PROJECT`},
		{"bad timeout", env{"PUBLISH_TIMEOUT": "soon"}, "configuration unusable", `PUBLISH_TIMEOUT=\"soon\"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startPstest(t)
			e := baseEnv()
			for k, v := range tc.change {
				e[k] = v
			}
			url, logs := startFunction(t, e)
			if !strings.Contains(logs.String(), tc.logLine) || !strings.Contains(logs.String(), `"severity":"ERROR"`) {
				t.Errorf("start-up log %s lacks an ERROR line with %q", logs, tc.logLine)
			}
			for _, secret := range []string{testSecret, ""} {
				a := post(t, url, secret, readBody(t, "post_call_transcription"))
				if a.Status != http.StatusInternalServerError || a.Body["error"] != tc.answer {
					t.Errorf("answer %d %v, want 500 %q", a.Status, a.Body, tc.answer)
				}
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("%d messages published, want 0", n)
			}
		})
	}
}

// TestBareTopicName: PUBSUB_TOPIC may be the topic's id with
// GOOGLE_CLOUD_PROJECT.
func TestBareTopicName(t *testing.T) {
	srv := startPstest(t)
	e := baseEnv()
	e["PUBSUB_TOPIC"], e["GOOGLE_CLOUD_PROJECT"] = "webhooks", testProject
	url, _ := startFunction(t, e)
	a := post(t, url, testSecret, readBody(t, "post_call_transcription"))
	if a.Status != http.StatusOK || srv.Message(a.Body["message_id"]) == nil {
		t.Fatalf("answer %d %v, want 200 and the message in %s", a.Status, a.Body, testTopic)
	}
}

// TestNewQueueTopic: NewQueue is exported (cmd/replay calls it) and may
// get a Config built by hand: a topic that is not projects/P/topics/T is a
// configuration error, not a panic.
func TestNewQueueTopic(t *testing.T) {
	startPstest(t)
	tests := []struct {
		name    string
		topic   string
		wantErr error
	}{
		{"full name", testTopic, nil},
		{"empty", "", core.ErrConfig},
		{"bare topic", "webhooks", core.ErrConfig},
		{"no project", "projects//topics/webhooks", core.ErrConfig},
		{"no topic", "projects/" + testProject + "/topics/", core.ErrConfig},
		{"a subscription", "projects/" + testProject + "/subscriptions/webhooks", core.ErrConfig},
		{"a topic's subpath", testTopic + "/extra", core.ErrConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := gcf.NewQueue(context.Background(), core.Config{PubSubTopic: tc.topic}, gcf.Options{})
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("NewQueue(%q) = %v, want %v", tc.topic, err, tc.wantErr)
			}
			if q != nil {
				if err := q.Close(); err != nil {
					t.Error(err)
				}
			} else if !strings.Contains(err.Error(), "PUBSUB_TOPIC") {
				t.Errorf("error %q does not name PUBSUB_TOPIC", err)
			}
		})
	}
}

// TestRejected checks the answers that never reach the queue.
func TestRejected(t *testing.T) {
	srv := startPstest(t)
	e := baseEnv()
	e["SOURCE_ALLOWLIST"] = "203.0.113.7, 198.51.100.0/24"
	e["WEBHOOK_MAX_BODY_BYTES"] = "4096"
	url, _ := startFunction(t, e)
	transcript := readBody(t, "post_call_transcription")
	const allowed = "203.0.113.7, 10.1.2.3"

	tests := []struct {
		name    string
		secret  string
		body    []byte
		headers []string
		status  int
		err     string
	}{
		{"wrong secret", "wsec_wrong", transcript, []string{"X-Forwarded-For", allowed}, 400, core.ErrSignatureMismatch.Error()},
		{"no signature", "", transcript, []string{"X-Forwarded-For", allowed}, 400, core.ErrMissingSignature.Error()},
		{"stale", "", transcript, []string{"X-Forwarded-For", allowed, "ElevenLabs-Signature", core.Sign(testSecret, time.Now().Add(-31*time.Minute), transcript)}, 400, core.ErrTimestampTolerance.Error()},
		{"caller not allowed", testSecret, transcript, []string{"X-Forwarded-For", "192.0.2.1, 203.0.113.7"}, 403, "source address not allowed"},
		{"no forwarded-for: the loopback peer is not allowed", testSecret, transcript, nil, 403, "source address not allowed"},
		{"too large", testSecret, readBody(t, "post_call_audio"), []string{"X-Forwarded-For", "198.51.100.9"}, 413, "request body too large: limit is 4096 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, url, tc.secret, tc.body, tc.headers...)
			if a.Status != tc.status || a.Body["error"] != tc.err {
				t.Errorf("answer %d %v, want %d %q", a.Status, a.Body, tc.status, tc.err)
			}
		})
	}
	t.Run("GET", func(t *testing.T) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
			t.Errorf("GET answered %d Allow %q, want 405 Allow POST", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages published, want 0", n)
	}
	a := post(t, url, testSecret, transcript, "X-Forwarded-For", allowed)
	if a.Status != http.StatusOK {
		t.Errorf("allowed caller answered %d %v, want 200", a.Status, a.Body)
	}
}
