package consume_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/storage"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/gcf"
	"github.com/elevenrelay/elevenrelay/gcf/consume"
	"github.com/elevenrelay/elevenrelay/internal/logging"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/elevenrelay/elevenrelay/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	project = "consume-test"
	topic   = "projects/" + project + "/topics/events"
	subName = "projects/" + project + "/subscriptions/worker"
)

// recorder is a Router whose call_initiation_failure handler fails the
// first time, so that the test sees a nack and the redelivery.
type recorder struct {
	mu       sync.Mutex
	got      map[string]int // conversation or request id → times handled
	failOnce bool
}

func (r *recorder) router() *webhook.Router {
	count := func(id string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got[id]++
	}
	return &webhook.Router{
		PostCallTranscription: func(_ context.Context, e *webhook.PostCallTranscription) error {
			count(e.Data.ConversationID)
			return nil
		},
		PostCallAudio: func(_ context.Context, e *webhook.PostCallAudio) error {
			b, err := e.Data.FullAudio.Bytes()
			if err != nil {
				return err
			}
			count(e.Data.ConversationID + ".mp3:" + string(b[:3]))
			return nil
		},
		CallInitiationFailure: func(_ context.Context, e *webhook.CallInitiationFailure) error {
			r.mu.Lock()
			fail := !r.failOnce
			r.failOnce = true
			r.mu.Unlock()
			if fail {
				return errors.New("the CRM is down")
			}
			count(e.Data.ConversationID)
			return nil
		},
		Fallback: func(_ context.Context, e webhook.Event) error {
			count(e.EventType())
			return nil
		},
		Seen: &webhook.MemorySeen{},
	}
}

func (r *recorder) snapshot() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.got {
		out[k] = v
	}
	return out
}

func body(t *testing.T, name string) []byte {
	b, err := os.ReadFile("../../events/bodies/" + name + ".json")
	require.NoError(t, err)
	return b
}

// TestPullOnEmulator publishes the sample events the way the receiver
// does (the audio claim-checked to a GCS bucket, the transcript twice),
// and Pull dispatches them from the Pub/Sub emulator: each event once, the
// failing one after its redelivery.
func TestPullOnEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the Pub/Sub emulator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	emu := testenv.StartPubSub(t)
	t.Setenv("PUBSUB_EMULATOR_HOST", emu.Endpoint)
	client, err := pubsub.NewClient(ctx, project)
	require.NoError(t, err)
	defer client.Close()
	_, err = client.TopicAdminClient.CreateTopic(ctx, &pb.Topic{Name: topic})
	require.NoError(t, err)
	_, err = client.SubscriptionAdminClient.CreateSubscription(ctx, &pb.Subscription{Name: subName, Topic: topic, AckDeadlineSeconds: 10})
	require.NoError(t, err)

	testenv.StartGCS(t, "claims")
	gcs, err := storage.NewClient(ctx)
	require.NoError(t, err)
	defer gcs.Close()
	// The receiver's own wiring; a low threshold claim-checks the audio
	// body, as a long call's would be.
	queue, err := gcf.NewQueue(ctx, core.Config{
		PubSubTopic: topic, ClaimCheckBucket: "claims", ClaimCheckThreshold: 4 << 10, PublishTimeout: 10 * time.Second,
	}, gcf.Options{})
	require.NoError(t, err)
	defer queue.Close()
	for _, name := range []string{"post_call_transcription", "post_call_audio", "call_initiation_failure", "speech_to_text_transcription", "post_call_transcription"} {
		_, err := queue.Sink.Publish(ctx, core.NewMessage(body(t, name), core.Signature{Timestamp: "1"}, time.Now()))
		require.NoError(t, err, name)
	}

	claimed, err := queue.Bucket.List(ctx, "elevenlabs/")
	require.NoError(t, err)
	require.Len(t, claimed, 1, "the audio body is claim-checked")

	rec := &recorder{got: map[string]int{}}
	want := map[string]int{
		"conv_01jxq5a7w3d9hc6y2b4k8m1n3p":         1,
		"conv_01jxq5a7w3d9hc6y2b4k8m1n3p.mp3:ID3": 1,
		"conv_01jxq6b2m8k4td3x7c5n9q2w4e":         1,
		"speech_to_text_transcription":            1,
	}
	pullCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	sub := client.Subscriber(subName)
	var logs testenv.Buffer
	go func() {
		done <- consume.Pull(pullCtx, sub, consume.Options{Router: rec.router(), Fetcher: gcf.Fetcher{Client: gcs}, Logger: logging.New(&logs, slog.LevelDebug)})
	}()
	for ctx.Err() == nil && len(rec.snapshot()) < len(want) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a second copy would show up now
	stop()
	require.NoError(t, <-done)
	assert.Equal(t, want, rec.snapshot())
	assert.Contains(t, logs.String(), "the CRM is down")
	assert.Contains(t, logs.String(), "skipped: handled before")
}

// TestPushHandler posts push envelopes as a push subscription does.
func TestPushHandler(t *testing.T) {
	rec := &recorder{got: map[string]int{}}
	srv := httptest.NewServer(consume.NewPushHandler(consume.Options{Router: rec.router()}))
	defer srv.Close()
	push := func(b []byte, id string) int {
		msg := core.NewMessage(b, core.Signature{Timestamp: "1"}, time.Now())
		env, err := json.Marshal(map[string]any{
			"message":      map[string]any{"data": b, "attributes": msg.Attributes(), "messageId": id},
			"subscription": subName,
		})
		require.NoError(t, err)
		resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(env))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusNoContent, push(body(t, "post_call_audio"), "1"))
	assert.Equal(t, http.StatusInternalServerError, push(body(t, "call_initiation_failure"), "2"), "a failure asks for redelivery")
	assert.Equal(t, http.StatusNoContent, push(body(t, "call_initiation_failure"), "3"))
	assert.Equal(t, http.StatusNoContent, push(body(t, "call_initiation_failure"), "4"), "a repeat is acked")
	assert.Equal(t, map[string]int{"conv_01jxq5a7w3d9hc6y2b4k8m1n3p.mp3:ID3": 1, "conv_01jxq6b2m8k4td3x7c5n9q2w4e": 1}, rec.snapshot())

	resp, err := http.Post(srv.URL, "application/json", bytes.NewReader([]byte(`{"hello":1}`)))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, err = http.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
