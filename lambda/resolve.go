package lambda

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/elevenrelay/elevenrelay/core"
)

// ResolveMessage returns the webhook body exactly as ElevenLabs sent and
// signed it, for a consumer Lambda with an SQS trigger. A claim-checked
// message (one with a claim_check attribute) is fetched through f (an
// [S3Fetcher]) and checked against the size and SHA-256 its pointer gives;
// any other message is its own body, and f may be nil when no claim-check
// bucket is configured. gcf.ResolveMessage takes the same arguments for a
// Pub/Sub message.
func ResolveMessage(ctx context.Context, f core.ObjectFetcher, msg events.SQSMessage) ([]byte, error) {
	attrs := stringAttributes(msg.MessageAttributes, func(v events.SQSMessageAttribute) *string { return v.StringValue })
	return core.Resolve(ctx, []byte(msg.Body), attrs, f)
}

// ResolveReceivedMessage is ResolveMessage for a message read with the
// SDK's ReceiveMessage, which must ask for the attributes
// (MessageAttributeNames: []string{"All"}).
func ResolveReceivedMessage(ctx context.Context, f core.ObjectFetcher, msg types.Message) ([]byte, error) {
	attrs := stringAttributes(msg.MessageAttributes, func(v types.MessageAttributeValue) *string { return v.StringValue })
	var body []byte
	if msg.Body != nil {
		body = []byte(*msg.Body)
	}
	return core.Resolve(ctx, body, attrs, f)
}

// stringAttributes flattens SQS message attributes, in either of the two
// shapes the Lambda event and the SDK give them, to the names and String
// values the receiver set. Attributes of other types are not ours.
func stringAttributes[V any](in map[string]V, str func(V) *string) map[string]string {
	attrs := make(map[string]string, len(in))
	for k, v := range in {
		if s := str(v); s != nil {
			attrs[k] = *s
		}
	}
	return attrs
}
