package lambda

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
)

// defaultQueueLimit is the message size assumed when the queue's own
// MaximumMessageSize cannot be read: 256 KiB, what SQS queues made before
// August 2025 (and by Terraform's AWS provider 5.x) still say.
const defaultQueueLimit = 256 << 10

// SQSSendMessageAPI is the part of the SQS client that SQSSink uses.
type SQSSendMessageAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SQSSink publishes messages to one SQS queue, each attribute as a String
// MessageAttribute. On a FIFO queue (its URL ends in ".fifo") the message
// is deduplicated on its content SHA-256 and grouped by conversation.
type SQSSink struct {
	client   SQSSendMessageAPI
	queueURL string
	fifo     bool
}

var _ core.Sink = (*SQSSink)(nil)

// NewSQSSink returns a sink for the queue at queueURL. client is made once
// at start-up and shared by every invocation.
func NewSQSSink(client SQSSendMessageAPI, queueURL string) *SQSSink {
	return &SQSSink{client: client, queueURL: queueURL, fifo: envvar.FIFOQueue(queueURL)}
}

// Publish sends m and returns the id SQS gave it. Every failure, throttling
// included, wraps core.ErrPublish: the sender should retry (503), or the
// receiver spills the body.
func (s *SQSSink) Publish(ctx context.Context, m *core.Message) (string, error) {
	in := &sqs.SendMessageInput{
		QueueUrl:          aws.String(s.queueURL),
		MessageBody:       aws.String(string(m.Body)),
		MessageAttributes: make(map[string]types.MessageAttributeValue, 7),
	}
	m.EachAttribute(func(name, value string) {
		in.MessageAttributes[name] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(value)}
	})
	if s.fifo {
		in.MessageDeduplicationId = aws.String(m.DeduplicationID())
		in.MessageGroupId = aws.String(m.GroupID())
	}
	out, err := s.client.SendMessage(ctx, in)
	if err != nil {
		return "", fmt.Errorf("%w: sqs SendMessage: %w", core.ErrPublish, err)
	}
	if out.MessageId == nil || *out.MessageId == "" {
		return "", fmt.Errorf("%w: sqs SendMessage returned no message id", core.ErrPublish)
	}
	return *out.MessageId, nil
}

// queueAttributesAPI is the part of the SQS client that queueLimit uses.
type queueAttributesAPI interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// queueLimit reads the queue's MaximumMessageSize: the largest message
// (body plus attributes) it takes, 1 MiB for queues made since August 2025.
func queueLimit(ctx context.Context, client queueAttributesAPI, queueURL string) (int, error) {
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(queueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameMaximumMessageSize},
	})
	if err != nil {
		return 0, fmt.Errorf("sqs GetQueueAttributes: %w", err)
	}
	v := out.Attributes[string(types.QueueAttributeNameMaximumMessageSize)]
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, errors.New("sqs GetQueueAttributes: no MaximumMessageSize in the answer")
	}
	return n, nil
}
