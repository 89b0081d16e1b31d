package webhook_test

import (
	"context"
	"fmt"
	"os"

	"github.com/elevenrelay/elevenrelay/webhook"
)

// A Router with a handler per event type you care about. The same Router
// runs under every consumer: lambda/consume on SQS, gcf/consume on
// Pub/Sub, local.Tail on the local spool.
func ExampleRouter() {
	router := &webhook.Router{
		PostCallTranscription: func(_ context.Context, ev *webhook.PostCallTranscription) error {
			fmt.Printf("%s: %d turns, %s\n", ev.Data.ConversationID, len(ev.Data.Transcript), ev.Data.Status)
			return nil
		},
		PostCallAudio: func(_ context.Context, ev *webhook.PostCallAudio) error {
			// WriteTo streams the MP3 (to a file, a bucket) without
			// decoding it whole.
			n, err := ev.Data.FullAudio.WriteTo(discard{})
			fmt.Printf("%s: %d bytes of audio\n", ev.Data.ConversationID, n)
			return err
		},
		Fallback: func(_ context.Context, ev webhook.Event) error {
			fmt.Println("not handled here:", ev.EventType())
			return nil
		},
		Seen: &webhook.MemorySeen{}, // or your DynamoDB / Firestore Seen
	}
	for _, name := range []string{"post_call_transcription", "post_call_audio", "call_initiation_failure"} {
		body, err := os.ReadFile("../events/bodies/" + name + ".json")
		if err != nil {
			panic(err)
		}
		// content_sha256 is the message attribute the receiver sets.
		if _, err := router.DispatchOnce(context.Background(), name, body); err != nil {
			fmt.Println("error:", err)
		}
	}
	// Output:
	// conv_01jxq5a7w3d9hc6y2b4k8m1n3p: 4 turns, done
	// conv_01jxq5a7w3d9hc6y2b4k8m1n3p: 5014 bytes of audio
	// not handled here: call_initiation_failure
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
