package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// SpillSource is the spill bucket as replay sees it.
type SpillSource interface {
	// List returns the keys under prefix.
	List(ctx context.Context, prefix string) ([]string, error)
	// Get returns an object's body and metadata (the message attributes).
	Get(ctx context.Context, key string) (body []byte, meta map[string]string, err error)
	// Delete removes an object.
	Delete(ctx context.Context, key string) error
}

// ReplayStats says what a replay did.
type ReplayStats struct {
	Found, Replayed, Failed, Skipped int
}

// errSpillCorrupt marks a spilled object whose body no longer has the
// SHA-256 recorded when it was spilled; it is left in place for a human.
var errSpillCorrupt = errors.New("spilled object does not match its content_sha256")

// Replay re-publishes every object under SpillPrefix to sink, in the order
// src lists them (S3 and Cloud Storage list keys in lexical order, which
// for spill/<yyyy>/<mm>/<dd>/ is oldest day first), and deletes each only after the queue accepted it. A body is
// published with the attributes it was spilled with, so consumers see the
// same message they would have seen, and can deduplicate on content_sha256
// (FIFO queues do so by themselves). A failure leaves the object for the
// next run; Replay goes on with the others and reports the first error.
func Replay(ctx context.Context, src SpillSource, sink Sink, log *slog.Logger) (ReplayStats, error) {
	if log == nil {
		log = slog.Default()
	}
	var st ReplayStats
	keys, err := src.List(ctx, SpillPrefix)
	if err != nil {
		return st, fmt.Errorf("list %s: %w", SpillPrefix, err)
	}
	st.Found = len(keys)
	var first error
	for _, key := range keys {
		if err := replayOne(ctx, src, sink, key); err != nil {
			if errors.Is(err, errSpillCorrupt) {
				st.Skipped++
			} else {
				st.Failed++
			}
			log.Error("replay failed", "key", key, "error", err.Error())
			if first == nil {
				first = err
			}
			if ctx.Err() != nil {
				break
			}
			continue
		}
		st.Replayed++
		log.Info("replayed", "key", key)
	}
	return st, first
}

func replayOne(ctx context.Context, src SpillSource, sink Sink, key string) error {
	body, meta, err := src.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	m := messageFromAttributes(body, meta)
	if got := sha256Hex(body); m.ContentSHA256 != got {
		return fmt.Errorf("%w: %s has %s", errSpillCorrupt, key, got)
	}
	id, err := sink.Publish(ctx, m)
	if err == nil && id == "" {
		// As in Receiver.publish: no id, no proof the queue has it.
		err = errNoMessageID
	}
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if err := src.Delete(ctx, key); err != nil {
		return fmt.Errorf("delete after publishing (the next replay will publish it again): %w", err)
	}
	return nil
}

// messageFromAttributes rebuilds a message from its body and attributes, as
// kept in spilled objects' metadata. Attribute names are matched as stored;
// object stores lower-case metadata keys, which ours already are.
func messageFromAttributes(body []byte, attrs map[string]string) *Message {
	m := &Message{
		Body:               body,
		EventType:          attrs[AttrEventType],
		EventTimestamp:     attrs[AttrEventTimestamp],
		SignatureTimestamp: attrs[AttrSignatureTimestamp],
		ContentSHA256:      attrs[AttrContentSHA256],
		ConversationID:     attrs[AttrConversationID],
	}
	if t, err := time.Parse(time.RFC3339, attrs[AttrReceivedAt]); err == nil {
		m.ReceivedAt = t
	}
	if m.EventType == "" {
		m.EventType = UnknownEventType
	}
	if m.ReceivedAt.IsZero() {
		m.ReceivedAt = time.Now().UTC()
	}
	return m
}
