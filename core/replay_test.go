package core

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// spillBucket is a memStore that replay can list and delete from.
type spillBucket struct {
	memStore
	deleteErr error
}

var _ SpillSource = (*spillBucket)(nil)

func (b *spillBucket) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	for k := range b.objs {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

func (b *spillBucket) Get(ctx context.Context, key string) ([]byte, map[string]string, error) {
	o, ok := b.objs[key]
	if !ok {
		return nil, nil, errors.New("no such key")
	}
	return o, b.meta[key], nil
}

func (b *spillBucket) Delete(ctx context.Context, key string) error {
	if b.deleteErr != nil {
		return b.deleteErr
	}
	delete(b.objs, key)
	return nil
}

// TestSpillThenReplay: queue down → spilled with 200 → queue up → replay →
// every event queued once, with the attributes it had, and the bucket empty.
func TestSpillThenReplay(t *testing.T) {
	var logs bytes.Buffer
	sink := &memSink{err: errors.New("queue down")}
	bucket := &spillBucket{}
	r := newTestReceiver(t, sink, &logs)
	r.Spill = bucket
	bodies := [][]byte{sampleBody, []byte(`{"type":"call_initiation_failure","data":{"conversation_id":"c2"}}`), []byte("not json")}
	want := map[string]map[string]string{}
	for _, b := range bodies {
		res := r.Handle(context.Background(), signedRequest(b))
		if res.Status != 200 || !bytes.Contains(res.Body, []byte(`"spilled"`)) {
			t.Fatalf("queue down: %d %s", res.Status, res.Body)
		}
		want[sha256Hex(b)] = NewMessage(b, Signature{Timestamp: "1763859600"}, testNow).Attributes()
	}
	bucket.objs["elevenlabs/other"] = []byte("not a spill")

	// Replay while the queue is still down: nothing deleted.
	st, err := Replay(context.Background(), bucket, sink, nil)
	if err == nil || st.Failed != 3 || len(bucket.objs) != 4 {
		t.Fatalf("replay with queue down: %+v %v, %d objects", st, err, len(bucket.objs))
	}
	sink.err = nil
	st, err = Replay(context.Background(), bucket, sink, nil)
	if err != nil || st != (ReplayStats{Found: 3, Replayed: 3}) {
		t.Fatalf("replay: %+v %v", st, err)
	}
	if len(sink.msgs) != 3 || len(bucket.objs) != 1 {
		t.Fatalf("queued %d, left %d objects", len(sink.msgs), len(bucket.objs))
	}
	for _, m := range sink.msgs {
		w, ok := want[m.ContentSHA256]
		if !ok {
			t.Fatalf("unexpected message %s", m.ContentSHA256)
		}
		got := m.Attributes()
		for k, v := range w {
			if got[k] != v {
				t.Fatalf("%s: %s = %q, want %q", m.ContentSHA256, k, got[k], v)
			}
		}
		delete(want, m.ContentSHA256)
	}
	// A second replay finds nothing: exactly once.
	if st, err := Replay(context.Background(), bucket, sink, nil); err != nil || st.Found != 0 || len(sink.msgs) != 3 {
		t.Fatalf("second replay: %+v %v", st, err)
	}
}

func TestReplayKeepsWhatItCannotFinish(t *testing.T) {
	tests := []struct {
		name      string
		corrupt   bool
		deleteErr error
		sink      Sink
		want      ReplayStats
		wantErr   error
	}{
		{"corrupt object is skipped and kept", true, nil, &memSink{}, ReplayStats{Found: 1, Skipped: 1}, errSpillCorrupt},
		{"delete fails: reported, kept for the next run", false, errors.New("denied"), &memSink{}, ReplayStats{Found: 1, Failed: 1}, nil},
		{"queue answers without a message id: kept", false, nil, idlessSink{}, ReplayStats{Found: 1, Failed: 1}, ErrPublish},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bucket := &spillBucket{deleteErr: tc.deleteErr}
			m := NewMessage(sampleBody, Signature{Timestamp: "1"}, testNow)
			body := sampleBody
			if tc.corrupt {
				body = []byte("tampered")
			}
			bucket.Put(context.Background(), objectKey(SpillPrefix, m), body, m.Attributes())
			st, err := Replay(context.Background(), bucket, tc.sink, nil)
			if st != tc.want || err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("Replay = %+v, %v", st, err)
			}
			if len(bucket.objs) != 1 {
				t.Fatal("object removed")
			}
		})
	}
}

// idlessSink answers without an error and without a message id.
type idlessSink struct{}

func (idlessSink) Publish(context.Context, *Message) (string, error) { return "", nil }
