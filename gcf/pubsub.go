package gcf

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"github.com/elevenrelay/elevenrelay/core"
)

// pubSubLimit is the largest publish request Pub/Sub accepts: data,
// attributes, ordering key and topic name together (10 MB).
const pubSubLimit = pubsub.MaxPublishRequestBytes

// requestOverhead is room kept, below pubSubLimit, for the protobuf framing of
// one message in a publish request and its ordering key (at most 128 bytes,
// see core.Message.GroupID). core.Message.AttributesSize already counts more
// per attribute than Pub/Sub does, so this is a margin, not a tight bound.
const requestOverhead = 1024

// topicSink is a core.Sink that publishes to one Pub/Sub topic and returns only
// once Pub/Sub has acknowledged the message.
type topicSink struct {
	p        *pubsub.Publisher
	ordering bool
}

var _ core.Sink = (*topicSink)(nil)

// newTopicSink returns a topicSink publishing to name (projects/P/topics/T) through
// client. With ordering, messages carry core.Message.GroupID as ordering key
// (conversation_id, else event_type), so a conversation's events are
// delivered in the order they arrived. timeout bounds a publish's retries in
// the background; it should match the receiver's PublishTimeout so that a
// message the webhook answered 503 for is not published much later.
func newTopicSink(client *pubsub.Client, name string, ordering bool, timeout time.Duration) *topicSink {
	p := client.Publisher(name)
	p.EnableMessageOrdering = ordering
	// A webhook waits for its one message's acknowledgement before it
	// answers, and Cloud Functions sends an instance one request at a
	// time by default: batching would only add its delay to every answer.
	// CountThreshold 1 sends each message as soon as it is published.
	p.PublishSettings.CountThreshold = 1
	p.PublishSettings.DelayThreshold = time.Millisecond
	if timeout > 0 {
		p.PublishSettings.Timeout = timeout
	}
	return &topicSink{p: p, ordering: ordering}
}

// Limit is the size above which a message must be claim-checked: Pub/Sub's
// limit less the topic name and framing.
func (t *topicSink) Limit() int {
	return pubSubLimit - len(t.p.String()) - requestOverhead
}

// Publish sends m with its attributes and waits for Pub/Sub's message id,
// or for ctx to end.
func (t *topicSink) Publish(ctx context.Context, m *core.Message) (string, error) {
	msg := &pubsub.Message{Data: m.Body, Attributes: m.Attributes()}
	if t.ordering {
		msg.OrderingKey = m.GroupID()
	}
	res := t.p.Publish(ctx, msg)
	id, err := res.Get(ctx)
	if err != nil {
		if msg.OrderingKey != "" {
			t.resumeWhenDone(res, msg.OrderingKey)
		}
		return "", fmt.Errorf("%w: pubsub %s: %w", core.ErrPublish, t.p, err)
	}
	return id, nil
}

// resumeWhenDone resumes key once res has failed. A failed ordered publish
// pauses its key until resumed, and every later event of the conversation
// would fail with it, retries included. Resuming keeps the order Pub/Sub
// saw: the failed message, and any queued behind it, were refused, and
// ElevenLabs sends them again. When we gave up waiting (the receiver's
// timeout) the publish may still be retrying, and it pauses the key when it
// fails; so resume after it is done, which the publisher's own timeout bounds.
func (t *topicSink) resumeWhenDone(res *pubsub.PublishResult, key string) {
	select {
	case <-res.Ready():
		t.p.ResumePublish(key)
	default:
		go func() {
			<-res.Ready()
			t.p.ResumePublish(key)
		}()
	}
}

// Stop sends what is still outstanding and ends the publisher's goroutines.
func (t *topicSink) Stop() { t.p.Stop() }
