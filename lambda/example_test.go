package lambda_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/elevenrelay/elevenrelay/lambda"
)

// A consumer Lambda with an SQS trigger gets every webhook body back as
// ElevenLabs signed it, whether the receiver queued it directly or, being
// too large for the queue, through the S3 claim-check bucket. Deployed, the
// client is s3.NewFromConfig(cfg), made once at start-up.
func ExampleResolveMessage() {
	var client *s3.Client // used only for claim-checked messages
	fetcher := lambda.NewS3Fetcher(client)
	consume := func(ctx context.Context, e events.SQSEvent) error {
		for _, msg := range e.Records {
			body, err := lambda.ResolveMessage(ctx, fetcher, msg)
			if err != nil {
				return err // the message returns to the queue and is retried
			}
			fmt.Printf("%s: %s\n", *msg.MessageAttributes["event_type"].StringValue, body)
		}
		return nil
	}

	eventType := "call_initiation_failure"
	err := consume(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{
		Body:              `{"type":"call_initiation_failure"}`,
		MessageAttributes: map[string]events.SQSMessageAttribute{"event_type": {DataType: "String", StringValue: &eventType}},
	}}})
	fmt.Println(err)
	// Output:
	// call_initiation_failure: {"type":"call_initiation_failure"}
	// <nil>
}
