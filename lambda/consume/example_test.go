package consume_test

import (
	"context"
	"log/slog"
	"os"

	awslambda "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/elevenrelay/elevenrelay/lambda"
	"github.com/elevenrelay/elevenrelay/lambda/consume"
	"github.com/elevenrelay/elevenrelay/webhook"
)

// The main of a consumer Lambda with an SQS trigger on the receiver's queue
// (ReportBatchItemFailures on in its event source mapping).
func ExampleNewSQSHandler() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		panic(err)
	}
	router := &webhook.Router{
		PostCallTranscription: func(ctx context.Context, ev *webhook.PostCallTranscription) error {
			slog.InfoContext(ctx, "call ended", "conversation_id", ev.Data.ConversationID, "summary", ev.Data.Analysis != nil)
			return nil
		},
	}
	h := consume.NewSQSHandler(consume.Options{
		Router:  router,
		Fetcher: lambda.NewS3Fetcher(s3.NewFromConfig(cfg)),
		Logger:  slog.New(slog.NewJSONHandler(os.Stderr, nil)),
	})
	awslambda.Start(h.Handle)
}
