package core

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNewMessageAttributes(t *testing.T) {
	at := time.Date(2025, 11, 23, 1, 2, 3, 0, time.FixedZone("CET", 3600))
	m := NewMessage(sampleBody, Signature{Timestamp: "1763859600"}, at)
	want := map[string]string{
		AttrEventType:          "post_call_transcription",
		AttrEventTimestamp:     "1763859600",
		AttrSignatureTimestamp: "1763859600",
		AttrContentSHA256:      sha256Hex(sampleBody),
		AttrReceivedAt:         "2025-11-23T00:02:03Z",
		AttrConversationID:     "conv_9",
	}
	got := m.Attributes()
	if len(got) != len(want) {
		t.Fatalf("attributes = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if !bytes.Equal(m.Body, sampleBody) {
		t.Fatal("body changed")
	}
	if m.GroupID() != "conv_9" || m.DeduplicationID() != sha256Hex(sampleBody) {
		t.Fatalf("group %q dedup %q", m.GroupID(), m.DeduplicationID())
	}
}

func TestMessageUnsafeValuesDropped(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantType  string
		wantConv  string
		wantGroup string
	}{
		{"no conversation: grouped by type", `{"type":"speech_to_text_transcription"}`, "speech_to_text_transcription", "", "speech_to_text_transcription"},
		{"control character in conversation id", `{"type":"t","data":{"conversation_id":"a\u0000b"}}`, "t", "", "t"},
		{"space in conversation id: kept, but not a FIFO group", `{"type":"t","data":{"conversation_id":"a b"}}`, "t", "a b", "t"},
		{"overlong type", `{"type":"` + strings.Repeat("x", 300) + `"}`, UnknownEventType, "", UnknownEventType},
		{"not JSON", `hello`, UnknownEventType, "", UnknownEventType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMessage([]byte(tc.body), Signature{Timestamp: "1"}, testNow)
			if m.EventType != tc.wantType || m.ConversationID != tc.wantConv || m.GroupID() != tc.wantGroup {
				t.Fatalf("type %q conv %q group %q", m.EventType, m.ConversationID, m.GroupID())
			}
			for k, v := range m.Attributes() {
				if v == "" {
					t.Fatalf("empty attribute %s", k)
				}
			}
		})
	}
}

func TestClaimCheck(t *testing.T) {
	big := []byte(`{"type":"post_call_audio","data":{"conversation_id":"c1","full_audio":"` + strings.Repeat("QUJD", 1000) + `"}}`)
	m := NewMessage(big, Signature{Timestamp: "1763859600"}, testNow)
	sink := &memSink{}
	store := &memStore{}
	cc := &ClaimCheck{Sink: sink, Limit: 1024, Store: store, URLPrefix: "s3://bucket/"}
	if _, err := cc.Publish(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	key := "elevenlabs/2025/11/23/" + m.ContentSHA256 + ".json"
	if !bytes.Equal(store.objs[key], big) {
		t.Fatalf("object %s not stored; have %v", key, store.objs)
	}
	got := sink.msgs[0]
	wantPtr := `{"claim_check":{"url":"s3://bucket/` + key + `","size":` + itoa(len(big)) + `,"sha256":"` + m.ContentSHA256 + `"}}`
	if string(got.Body) != wantPtr {
		t.Fatalf("pointer = %s\nwant      %s", got.Body, wantPtr)
	}
	attrs := got.Attributes()
	if attrs[AttrClaimCheck] != "s3://bucket/"+key || attrs[AttrContentSHA256] != m.ContentSHA256 || attrs[AttrEventType] != "post_call_audio" {
		t.Fatalf("pointer attributes = %v", attrs)
	}
	if !bytes.Equal(m.Body, big) {
		t.Fatal("the original message was changed")
	}

	// Consumers get the original bytes back, checked.
	orig, err := Resolve(context.Background(), got.Body, attrs, store)
	if err != nil || !bytes.Equal(orig, big) {
		t.Fatalf("Resolve: %v", err)
	}
	store.objs[key] = append(bytes.Clone(big[:len(big)-1]), 'x')
	if _, err := Resolve(context.Background(), got.Body, attrs, store); !errors.Is(err, ErrClaimCheckMismatch) {
		t.Fatalf("tampered object: err = %v", err)
	}
	store.objs[key] = big[:10]
	if _, err := Resolve(context.Background(), got.Body, attrs, store); !errors.Is(err, ErrClaimCheckMismatch) {
		t.Fatalf("short object: err = %v", err)
	}
	// A message that was not claim-checked resolves to itself.
	small := []byte(`{"type":"t"}`)
	if b, err := Resolve(context.Background(), small, map[string]string{AttrEventType: "t"}, nil); err != nil || !bytes.Equal(b, small) {
		t.Fatalf("plain message: %s %v", b, err)
	}

	// Small messages go straight through.
	cc.Publish(context.Background(), NewMessage(small, Signature{Timestamp: "1"}, testNow))
	if len(sink.msgs) != 2 || !bytes.Equal(sink.msgs[1].Body, small) || sink.msgs[1].ClaimCheck != "" {
		t.Fatal("small message was claim-checked")
	}

	// A store failure is a queue failure: 503, and nothing queued.
	store.err = errors.New("denied")
	if _, err := cc.Publish(context.Background(), m); !errors.Is(err, ErrPublish) || len(sink.msgs) != 2 {
		t.Fatalf("store failure: err = %v, queued %d", err, len(sink.msgs))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// PublishCopy sends the pointer Publish sends for the same bytes, and the
// object it asks for is the one Publish would have written.
func TestClaimCheckPublishCopy(t *testing.T) {
	big := []byte(`{"type":"post_call_audio","data":{"conversation_id":"c1","full_audio":"` + strings.Repeat("QUJD", 1000) + `"}}`)
	sig := Signature{Timestamp: "1763859600"}
	viaPut, viaCopy := &memSink{}, &memSink{}
	store := &memStore{}
	if _, err := (&ClaimCheck{Sink: viaPut, Limit: 1024, Store: store, URLPrefix: "s3://bucket/"}).Publish(context.Background(), NewMessage(big, sig, testNow)); err != nil {
		t.Fatal(err)
	}
	v, _ := NewVerifier([]string{"k"}, VerifierOptions{})
	m, n, err := v.VerifyStream(bytes.NewReader(big), Sign("k", testNow, big), testNow)
	if err != nil {
		t.Fatal(err)
	}
	var copiedKey string
	var copiedMeta map[string]string
	cc := &ClaimCheck{Sink: viaCopy, Limit: 1024, URLPrefix: "s3://bucket/"}
	_, err = cc.PublishCopy(context.Background(), m, n, func(_ context.Context, key string, meta map[string]string) error {
		copiedKey, copiedMeta = key, meta
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want, got := viaPut.msgs[0], viaCopy.msgs[0]
	if !equalMessages(got, want) {
		t.Fatalf("PublishCopy sent %+v\nPublish sent     %+v", got, want)
	}
	if _, ok := store.objs[copiedKey]; !ok || !reflect.DeepEqual(copiedMeta, store.meta[copiedKey]) {
		t.Fatalf("copied to %s with %v; Publish stored %v", copiedKey, copiedMeta, store.meta)
	}
	// A failed copy is a queue failure: retried, nothing queued.
	_, err = cc.PublishCopy(context.Background(), m, n, func(context.Context, string, map[string]string) error { return errors.New("denied") })
	if !errors.Is(err, ErrPublish) || len(viaCopy.msgs) != 1 {
		t.Fatalf("copy failure: err = %v, queued %d", err, len(viaCopy.msgs))
	}
	if _, err := (&ClaimCheck{Sink: viaCopy}).PublishCopy(context.Background(), m, n, nil); !errors.Is(err, errNeedsClaimCheck) {
		t.Fatalf("no bucket: err = %v", err)
	}
}
