package webhook

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDispatchOnceForgetsAfterPanic: a handler that panics leaves its key
// unrecorded, so the redelivered message is handled, not skipped.
func TestDispatchOnceForgetsAfterPanic(t *testing.T) {
	calls := 0
	r := &Router{Seen: &MemorySeen{}, Fallback: func(context.Context, Event) error {
		calls++
		if calls == 1 {
			panic("handler bug")
		}
		return nil
	}}
	body := []byte(`{"type":"something_new","data":{}}`)
	assert.PanicsWithValue(t, "handler bug", func() { _, _ = r.DispatchOnce(context.Background(), "k1", body) })
	dup, err := r.DispatchOnce(context.Background(), "k1", body)
	require.NoError(t, err)
	assert.False(t, dup, "the redelivery after a panic must be handled")
	assert.Equal(t, 2, calls)
	dup, err = r.DispatchOnce(context.Background(), "k1", body)
	require.NoError(t, err)
	assert.True(t, dup, "after a successful dispatch the key is seen")
}
