package consume_test

import (
	"context"
	"net/http"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/storage"
	"github.com/elevenrelay/elevenrelay/gcf"
	"github.com/elevenrelay/elevenrelay/gcf/consume"
	"github.com/elevenrelay/elevenrelay/webhook"
)

// A worker pulling from a subscription on the receiver's topic.
func ExamplePull() {
	ctx := context.Background()
	client, err := pubsub.NewClient(ctx, "my-project")
	if err != nil {
		panic(err)
	}
	gcs, err := storage.NewClient(ctx)
	if err != nil {
		panic(err)
	}
	router := &webhook.Router{
		CallInitiationFailure: func(ctx context.Context, ev *webhook.CallInitiationFailure) error {
			return nil // e.g. schedule a call back
		},
	}
	sub := client.Subscriber("projects/my-project/subscriptions/elevenlabs-worker")
	sub.ReceiveSettings.MaxOutstandingMessages = 8 // at most 8 bodies in memory
	if err := consume.Pull(ctx, sub, consume.Options{Router: router, Fetcher: gcf.Fetcher{Client: gcs}}); err != nil {
		panic(err)
	}
}

// The endpoint of a push subscription, behind Cloud Run's authentication.
func ExampleNewPushHandler() {
	router := &webhook.Router{}
	http.Handle("POST /pubsub", consume.NewPushHandler(consume.Options{Router: router}))
	_ = http.ListenAndServe(":8080", nil)
}
