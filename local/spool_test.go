package local

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
)

func TestSpoolKeepsEveryByte(t *testing.T) {
	tests := []struct {
		name     string
		body     []byte
		wantB64  bool
		wantType string
	}{
		{"json", []byte(`{"type":"post_call_transcription","data":{"conversation_id":"c"}}`), false, "post_call_transcription"},
		{"newlines and unicode", []byte("{\"type\":\"t\",\n\"text\":\"caf\u00e9 \u2014 \\\"quoted\\\"\"}\n"), false, "t"},
		{"invalid utf-8", []byte{'{', 0xff, 0xfe, '}'}, true, core.UnknownEventType},
		{"null bytes", []byte("a\x00b"), true, core.UnknownEventType}, // \u0000 costs more than base64
	}
	path := filepath.Join(t.TempDir(), "sub", "spool.jsonl")
	s := &Spool{Path: path}
	for _, tc := range tests {
		if _, err := s.Publish(context.Background(), core.NewMessage(tc.body, core.Signature{Timestamp: "1"}, time.Now())); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	lines, err := ReadSpool(path)
	if err != nil || len(lines) != len(tests) {
		t.Fatalf("ReadSpool: %d lines, %v", len(lines), err)
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := lines[i]
			if !bytes.Equal(l.RawBody(), tc.body) || (l.BodyBase64 != nil) != tc.wantB64 || l.Attributes[core.AttrEventType] != tc.wantType || l.MessageID == "" {
				t.Fatalf("line = %+v", l)
			}
		})
	}
}
