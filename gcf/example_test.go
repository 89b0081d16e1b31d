package gcf_test

import (
	"context"
	"fmt"
	"log"

	"cloud.google.com/go/pubsub/v2"
	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/elevenrelay/elevenrelay/gcf"
)

// A consumer of the topic gets the webhook's bytes from every message,
// claim-checked or not, with ResolveMessage. In a subscriber:
//
//	gcs, _ := storage.NewClient(ctx)
//	fetcher := gcf.Fetcher{Client: gcs}
//	err := sub.Receive(ctx, func(ctx context.Context, m *pubsub.Message) {
//		body, err := gcf.ResolveMessage(ctx, fetcher, m)
//		if err != nil {
//			m.Nack()
//			return
//		}
//		// handle body, deduplicating on m.Attributes["content_sha256"]
//		m.Ack()
//	})
//
// Here a fake bucket holds the object a claim-checked message points to.
func ExampleResolveMessage() {
	body := `{"type":"post_call_audio","data":{"full_audio":"..."}}`
	const sum = "516fd335486501e0a3fd54494b4bb4167926399aa7aeedfffd431fe4166fc537"
	url := "gs://claims/elevenlabs/2026/11/23/" + sum + ".json"
	bucket := fakestorage.NewServer([]fakestorage.Object{{
		ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "claims", Name: "elevenlabs/2026/11/23/" + sum + ".json"},
		Content:     []byte(body),
	}})
	defer bucket.Stop()

	m := &pubsub.Message{
		Data: []byte(fmt.Sprintf(`{"claim_check":{"url":%q,"size":%d,"sha256":%q}}`, url, len(body), sum)),
		Attributes: map[string]string{
			"event_type":     "post_call_audio",
			"content_sha256": sum,
			"claim_check":    url,
		},
	}
	got, err := gcf.ResolveMessage(context.Background(), gcf.Fetcher{Client: bucket.Client()}, m)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(got))
	// Output: {"type":"post_call_audio","data":{"full_audio":"..."}}
}
