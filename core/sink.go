package core

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// Sink is a queue. Publish returns only once the queue has durably accepted
// the message, with the id the queue gave it; the receiver answers 2xx on
// nothing less. Platforms implement it for SQS, Pub/Sub and the local spool.
type Sink interface {
	Publish(ctx context.Context, m *Message) (id string, err error)
}

// ObjectStore is a bucket (S3, GCS). Put returns once the object is durably
// stored. meta holds the message attributes, kept as object metadata.
type ObjectStore interface {
	Put(ctx context.Context, key string, body []byte, meta map[string]string) error
}

// ObjectFetcher reads back an object by its URL (s3://bucket/key,
// gs://bucket/key). Consumers implement it to resolve claim checks.
type ObjectFetcher interface {
	Fetch(ctx context.Context, url string) ([]byte, error)
}

// ClaimCheck is a Sink for queues with a message size limit: a message
// larger than Limit is written to Store first, and the queue gets a small
// pointer to it instead. ElevenLabs' post-call audio is routinely larger
// than SQS's limit.
type ClaimCheck struct {
	// Sink is the queue.
	Sink Sink
	// Limit is the largest message (body plus attributes, as the queue
	// counts them) that goes to the queue directly.
	Limit int
	// Store is the claim-check bucket; nil means none, and a larger message
	// fails, and the Receiver answers 413 saying to configure a bucket.
	Store ObjectStore
	// URLPrefix names the bucket in pointers, e.g. "s3://my-bucket/".
	URLPrefix string
}

var _ Sink = (*ClaimCheck)(nil)

// Publish sends m directly when it fits, else stores it and sends a pointer.
func (c *ClaimCheck) Publish(ctx context.Context, m *Message) (string, error) {
	if len(m.Body)+m.AttributesSize() <= c.Limit {
		return c.Sink.Publish(ctx, m)
	}
	if c.Store == nil {
		return "", errNeedsClaimCheck
	}
	return c.publishPointer(ctx, m, int64(len(m.Body)), func(ctx context.Context, key string, meta map[string]string) error {
		return c.Store.Put(ctx, key, m.Body, meta)
	})
}

// PublishCopy publishes m, whose body of size bytes is already in the
// bucket and was verified there (m.Body unused), as a claim check: store
// puts the body at key with meta as its metadata, by a server-side copy,
// and the queue gets the pointer that Publish would have sent for the same
// bytes. The body never passes through memory.
func (c *ClaimCheck) PublishCopy(ctx context.Context, m *Message, size int64, store func(ctx context.Context, key string, meta map[string]string) error) (string, error) {
	if c.URLPrefix == "" {
		return "", errNeedsClaimCheck
	}
	return c.publishPointer(ctx, m, size, store)
}

func (c *ClaimCheck) publishPointer(ctx context.Context, m *Message, size int64, store func(ctx context.Context, key string, meta map[string]string) error) (string, error) {
	key := objectKey("elevenlabs/", m)
	if err := store(ctx, key, m.Attributes()); err != nil {
		return "", fmt.Errorf("%w: claim-check store: %w", ErrPublish, err)
	}
	ptr := *m
	ptr.ClaimCheck = c.URLPrefix + key
	ptr.Body = claimCheckBody(ptr.ClaimCheck, size, m.ContentSHA256)
	return c.Sink.Publish(ctx, &ptr)
}

// objectKey is where a message's body is stored under prefix:
// <prefix><yyyy>/<mm>/<dd>/<content_sha256>.json, dated by receipt (UTC).
// The same body received the same day gets the same key, so a retry lands
// on the object already there instead of piling up.
func objectKey(prefix string, m *Message) string {
	return prefix + m.ReceivedAt.UTC().Format("2006/01/02/") + m.ContentSHA256 + ".json"
}

type claimCheckPointer struct {
	ClaimCheck struct {
		URL    string `json:"url"`
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	} `json:"claim_check"`
}

func claimCheckBody(url string, size int64, sum string) []byte {
	var p claimCheckPointer
	p.ClaimCheck.URL, p.ClaimCheck.Size, p.ClaimCheck.SHA256 = url, size, sum
	b, _ := json.Marshal(p) // cannot fail: strings and an int
	return b
}

// Resolve returns the original verified bytes of a queued message, whether
// or not it was claim-checked. attrs are the message's attributes; a message
// with a claim_check attribute is fetched through store and checked against
// the size and SHA-256 its pointer promised (ErrClaimCheckMismatch if not).
func Resolve(ctx context.Context, body []byte, attrs map[string]string, store ObjectFetcher) ([]byte, error) {
	if attrs[AttrClaimCheck] == "" {
		return body, nil
	}
	var p claimCheckPointer
	if err := json.Unmarshal(body, &p); err != nil || p.ClaimCheck.URL == "" {
		return nil, fmt.Errorf("%w: pointer body is not a claim check", ErrClaimCheckMismatch)
	}
	if store == nil {
		return nil, fmt.Errorf("resolve %s: no object fetcher given", p.ClaimCheck.URL)
	}
	obj, err := store.Fetch(ctx, p.ClaimCheck.URL)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", p.ClaimCheck.URL, err)
	}
	if int64(len(obj)) != p.ClaimCheck.Size {
		return nil, fmt.Errorf("%w: size %d, want %s", ErrClaimCheckMismatch, len(obj), strconv.FormatInt(p.ClaimCheck.Size, 10))
	}
	if got := sha256Hex(obj); got != p.ClaimCheck.SHA256 || (attrs[AttrContentSHA256] != "" && got != attrs[AttrContentSHA256]) {
		return nil, fmt.Errorf("%w: sha256 %s", ErrClaimCheckMismatch, got)
	}
	return obj, nil
}
