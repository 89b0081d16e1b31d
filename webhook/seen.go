package webhook

import (
	"context"
	"sync"
	"time"
)

// Seen remembers idempotency keys, so that a message delivered twice (every
// queue here delivers at least once) is handled once.
//
// SeenBefore must record the key and report whether it was already
// recorded, in one atomic step, or two consumers could both handle the
// same message. In DynamoDB that is a PutItem with the condition
// attribute_not_exists(pk): ConditionalCheckFailedException means seen.
// In Firestore it is a document Create: codes.AlreadyExists means seen.
// Forget is DeleteItem / Delete. Give the records a TTL (DynamoDB's TTL
// attribute, a Firestore TTL policy) a little longer than the queue keeps
// a message.
//
// Router.DispatchOnce forgets the key when the handler fails or panics,
// but a process killed mid-dispatch (a Lambda timeout, an OOM) cannot: its
// key stays recorded and the redelivery would be skipped. Where that
// matters, record the key first as "in progress" with an expiry shorter
// than the queue's visibility timeout or ack deadline, treat an expired
// in-progress record as unseen, and mark it done after a successful
// handler.
type Seen interface {
	SeenBefore(ctx context.Context, key string) (bool, error)
	// Forget removes key, after its message failed, so that the redelivery
	// is handled.
	Forget(ctx context.Context, key string) error
}

// MemorySeen is a Seen in memory, for one process: tests, the local spool
// consumer, a single long-running worker. The zero value is ready; keys
// are kept for TTL (forever when zero).
type MemorySeen struct {
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	keys    map[string]time.Time
	sweepAt int
}

var _ Seen = (*MemorySeen)(nil)

// SeenBefore records key and reports whether it was recorded before.
func (m *MemorySeen) SeenBefore(_ context.Context, key string) (bool, error) {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	t := now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = make(map[string]time.Time)
	}
	if at, ok := m.keys[key]; ok && (m.TTL == 0 || t.Sub(at) < m.TTL) {
		return true, nil
	}
	if m.TTL > 0 && len(m.keys) >= m.sweepAt {
		// Sweep expired keys when the map has doubled since the last
		// sweep: amortised constant time per call.
		for k, at := range m.keys {
			if t.Sub(at) >= m.TTL {
				delete(m.keys, k)
			}
		}
		m.sweepAt = max(1024, 2*len(m.keys))
	}
	m.keys[key] = t
	return false, nil
}

// Forget removes key.
func (m *MemorySeen) Forget(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, key)
	return nil
}
