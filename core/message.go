package core

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
	"unicode/utf8"
)

// Attribute names of a queued message (SQS MessageAttributes of type
// String, Pub/Sub attributes). Consumers filter and deduplicate on them.
const (
	AttrEventType          = "event_type"
	AttrEventTimestamp     = "event_timestamp"
	AttrSignatureTimestamp = "signature_timestamp"
	AttrContentSHA256      = "content_sha256"
	AttrReceivedAt         = "received_at"
	AttrConversationID     = "conversation_id"
	AttrClaimCheck         = "claim_check"
)

// maxAttrValue bounds an attribute taken from the body. Queues reject
// oversized or control-character values, and an event must not be refused
// for a field that is only a routing hint.
const maxAttrValue = 256

// Message is one verified webhook on its way to a queue.
type Message struct {
	// Body is the verified raw bytes, unchanged; for a claim-checked message
	// it is the pointer document instead.
	Body []byte

	EventType          string
	EventTimestamp     string
	SignatureTimestamp string
	// ContentSHA256 is the hex SHA-256 of the original raw body: the
	// idempotency key consumers deduplicate on.
	ContentSHA256  string
	ReceivedAt     time.Time
	ConversationID string
	// ClaimCheck is the object URL (s3://… or gs://…) when Body is a pointer.
	ClaimCheck string
}

// NewMessage builds the message for a verified body. It computes every
// attribute once, here, so that all platforms queue the same thing.
func NewMessage(body []byte, sig Signature, receivedAt time.Time) *Message {
	sum := sha256.Sum256(body)
	m := newMessage(parseEvent(body), sig, sum[:], receivedAt)
	m.Body = body
	return m
}

// newMessage is a message without its body, from what was read of it.
func newMessage(ev event, sig Signature, sum []byte, receivedAt time.Time) *Message {
	m := &Message{
		EventType:          ev.Type,
		EventTimestamp:     attrValue(ev.Timestamp),
		SignatureTimestamp: sig.Timestamp,
		ContentSHA256:      hex.EncodeToString(sum),
		ReceivedAt:         receivedAt.UTC(),
		ConversationID:     attrValue(ev.ConversationID),
	}
	if m.EventType = attrValue(m.EventType); m.EventType == "" {
		m.EventType = UnknownEventType
	}
	return m
}

// Attributes returns the message's attributes by name. Empty values are
// left out, since SQS refuses empty attribute values.
func (m *Message) Attributes() map[string]string {
	a := make(map[string]string, 7)
	m.EachAttribute(func(k, v string) { a[k] = v })
	return a
}

// EachAttribute calls fn for every non-empty attribute, in a fixed order,
// without building a map.
func (m *Message) EachAttribute(fn func(name, value string)) {
	put := func(k, v string) {
		if v != "" {
			fn(k, v)
		}
	}
	put(AttrEventType, m.EventType)
	put(AttrEventTimestamp, m.EventTimestamp)
	put(AttrSignatureTimestamp, m.SignatureTimestamp)
	put(AttrContentSHA256, m.ContentSHA256)
	put(AttrReceivedAt, m.ReceivedAt.Format(time.RFC3339))
	put(AttrConversationID, m.ConversationID)
	put(AttrClaimCheck, m.ClaimCheck)
}

// AttributesSize is what the attributes add to the message size the way SQS
// counts it: each name, value and data type ("String").
func (m *Message) AttributesSize() int {
	n := 0
	m.EachAttribute(func(k, v string) { n += len(k) + len(v) + len("String") })
	return n
}

// GroupID is the SQS FIFO MessageGroupId (and the Pub/Sub ordering key): a
// conversation's events stay in order; events without one are grouped by type.
// Only values SQS accepts as a group id are used (ASCII letters, digits and
// punctuation, at most 128 characters).
func (m *Message) GroupID() string {
	for _, id := range []string{m.ConversationID, m.EventType} {
		if groupIDSafe(id) {
			return id
		}
	}
	return UnknownEventType
}

func groupIDSafe(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// DeduplicationID is the SQS FIFO MessageDeduplicationId: the same body
// delivered twice within the dedup window is queued once.
func (m *Message) DeduplicationID() string { return m.ContentSHA256 }

// attrValue keeps s only if every queue can carry it as an attribute:
// printable, valid UTF-8, short. Otherwise it is dropped. (FIFO group ids
// are stricter; groupIDSafe checks those.)
func attrValue(s string) string {
	if len(s) > maxAttrValue || !utf8.ValidString(s) {
		return ""
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0xfffe && r <= 0xffff) {
			return ""
		}
	}
	return s
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
