package gcf_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/elevenrelay/elevenrelay/core"
)

// TestEmulator publishes through the function over real HTTP to the real
// Pub/Sub emulator, pulls the messages back through a subscription and
// compares bytes and attributes; then takes the emulator down and checks
// that the function answers 503, never 2xx.
func TestEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the Pub/Sub emulator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	emu, client := startEmulatorTopic(ctx, t)
	const sub = "projects/" + testProject + "/subscriptions/consumer"
	if _, err := client.SubscriptionAdminClient.CreateSubscription(ctx, &pb.Subscription{
		Name: sub, Topic: testTopic, EnableMessageOrdering: true,
	}); err != nil {
		t.Fatal(err)
	}

	e := baseEnv()
	e["PUBSUB_ORDERING"] = "true"
	e["PUBLISH_TIMEOUT"] = "2s"
	url, _ := startFunction(t, e)

	sent := map[string][]byte{} // message id → body
	for _, name := range []string{"post_call_transcription", "post_call_audio", "call_initiation_failure", "speech_to_text_transcription"} {
		body := readBody(t, name)
		a := post(t, url, testSecret, body)
		if a.Status != http.StatusOK || a.Body["status"] != "accepted" {
			t.Fatalf("%s: answer %d %v, want 200 accepted", name, a.Status, a.Body)
		}
		sent[a.Body["message_id"]] = body
	}

	got := map[string]*pb.ReceivedMessage{}
	for len(got) < len(sent) && ctx.Err() == nil {
		res, err := client.SubscriptionAdminClient.Pull(ctx, &pb.PullRequest{Subscription: sub, MaxMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		var acks []string
		for _, m := range res.ReceivedMessages {
			got[m.Message.MessageId] = m
			acks = append(acks, m.AckId)
		}
		if len(acks) > 0 {
			if err := client.SubscriptionAdminClient.Acknowledge(ctx, &pb.AcknowledgeRequest{Subscription: sub, AckIds: acks}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for id, body := range sent {
		m := got[id]
		if m == nil {
			t.Errorf("message %s was answered 200 but never pulled", id)
			continue
		}
		msg := m.Message
		if string(msg.Data) != string(body) {
			t.Errorf("message %s: data differs from the body sent", id)
		}
		want := core.NewMessage(body, core.Signature{}, time.Now())
		for _, k := range []string{core.AttrEventType, core.AttrEventTimestamp, core.AttrContentSHA256, core.AttrConversationID} {
			if msg.Attributes[k] != want.Attributes()[k] {
				t.Errorf("message %s: attribute %s = %q, want %q", id, k, msg.Attributes[k], want.Attributes()[k])
			}
		}
		if msg.Attributes[core.AttrSignatureTimestamp] == "" || msg.Attributes[core.AttrReceivedAt] == "" {
			t.Errorf("message %s: attributes %v lack the timestamps", id, msg.Attributes)
		}
		if msg.OrderingKey != want.GroupID() {
			t.Errorf("message %s: ordering key %q, want %q", id, msg.OrderingKey, want.GroupID())
		}
	}

	emu.Stop()
	start := time.Now()
	a := post(t, url, testSecret, readBody(t, "post_call_transcription"))
	if a.Status != http.StatusServiceUnavailable {
		t.Fatalf("with the emulator down: answer %d %v, want 503", a.Status, a.Body)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("503 after %s, want within the 2s publish timeout", d)
	}
}
