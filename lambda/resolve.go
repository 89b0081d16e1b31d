package lambda

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/elevenrelay/elevenrelay/core"
)

// ResolveSQSMessage returns the webhook body exactly as ElevenLabs sent and
// signed it, for a consumer Lambda with an SQS trigger. A claim-checked
// message (one with a claim_check attribute) is fetched from S3 through
// client (an *s3.Client) and checked against the size and SHA-256 its
// pointer gives; any other message is its own body. client may be nil when
// no claim-check bucket is configured.
func ResolveSQSMessage(ctx context.Context, client S3GetObjectAPI, msg events.SQSMessage) ([]byte, error) {
	attrs := make(map[string]string, len(msg.MessageAttributes))
	for k, v := range msg.MessageAttributes {
		if v.StringValue != nil {
			attrs[k] = *v.StringValue
		}
	}
	return core.Resolve(ctx, []byte(msg.Body), attrs, fetcher(client))
}

// ResolveMessage is ResolveSQSMessage for a message read with the SDK's
// ReceiveMessage, which must ask for the attributes
// (MessageAttributeNames: []string{"All"}).
func ResolveMessage(ctx context.Context, client S3GetObjectAPI, msg types.Message) ([]byte, error) {
	attrs := make(map[string]string, len(msg.MessageAttributes))
	for k, v := range msg.MessageAttributes {
		if v.StringValue != nil {
			attrs[k] = *v.StringValue
		}
	}
	var body []byte
	if msg.Body != nil {
		body = []byte(*msg.Body)
	}
	return core.Resolve(ctx, body, attrs, fetcher(client))
}

func fetcher(client S3GetObjectAPI) core.ObjectFetcher {
	if c, ok := client.(*s3.Client); client == nil || ok && c == nil {
		return nil // core.Resolve then says that no fetcher was given
	}
	return NewS3Fetcher(client)
}
