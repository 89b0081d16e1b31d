package local

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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

// TestSpoolLineSize: whatever the bytes, a line stays within about 1.4×
// its body (JSON escaping of control bytes once made it six times).
func TestSpoolLineSize(t *testing.T) {
	const n = 64 << 10
	tests := []struct {
		name    string
		body    []byte
		wantB64 bool
	}{
		{"control bytes", bytes.Repeat([]byte{1}, n), true},
		{"quotes and backslashes", bytes.Repeat([]byte(`"\`), n/2), true},
		{"line separators", bytes.Repeat([]byte("\u2028"), n/3), true},
		{"html characters stay one byte", bytes.Repeat([]byte("<&>"), n/3), false},
		{"typical JSON", bytes.Repeat([]byte(`{"role":"agent","message":"Hello, how can I help?"},`), n/50), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "spool.jsonl")
			s := &Spool{Path: path}
			defer s.Close()
			if _, err := s.Publish(context.Background(), core.NewMessage(tc.body, core.Signature{Timestamp: "1"}, time.Now())); err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(path)
			if limit := len(tc.body)*14/10 + 1024; len(raw) > limit {
				t.Fatalf("line is %d bytes for a %d-byte body, over %d", len(raw), len(tc.body), limit)
			}
			lines, err := ReadSpool(path)
			if err != nil || len(lines) != 1 || !bytes.Equal(lines[0].RawBody(), tc.body) || (lines[0].BodyBase64 != nil) != tc.wantB64 {
				t.Fatalf("read back: %d lines, %v, base64=%v", len(lines), err, lines[0].BodyBase64 != nil)
			}
		})
	}
}

// TestReadSpoolTornLastLine: a last line without its newline that does not
// parse (a write in progress, or a crash) is left out; a broken line in the
// middle is an error that names it.
func TestReadSpoolTornLastLine(t *testing.T) {
	good := `{"message_id":"a","attributes":{},"body":"x"}` + "\n"
	tests := []struct {
		name    string
		content string
		want    int
		wantErr string
	}{
		{"complete", good + good, 2, ""},
		{"torn last line", good + good[:20], 1, ""},
		{"last line complete but without newline", good + strings.TrimSuffix(good, "\n"), 2, ""},
		{"broken middle line", good + good[:20] + "\n" + good, 1, "line 2"},
		{"empty", "", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "spool.jsonl")
			os.WriteFile(path, []byte(tc.content), 0o600)
			lines, err := ReadSpool(path)
			if len(lines) != tc.want || (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("ReadSpool: %d lines, %v; want %d, error %q", len(lines), err, tc.want, tc.wantErr)
			}
		})
	}
}

// TestSpoolRepairsTornLine: a spool that ends in a torn line is repaired
// when opened: the fragment is moved to a file of its own, byte for byte,
// and the next line starts on a line of its own.
func TestSpoolRepairsTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool.jsonl")
	s := &Spool{Path: path}
	for _, b := range []string{`{"type":"a"}`, `{"type":"b"}`} {
		if _, err := s.Publish(context.Background(), core.NewMessage([]byte(b), core.Signature{Timestamp: "1"}, time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	raw, _ := os.ReadFile(path)
	torn := len(raw) - 40
	os.Truncate(path, int64(torn))
	fragment := raw[bytes.IndexByte(raw, '\n')+1 : torn]

	s = &Spool{Path: path}
	defer s.Close()
	if _, err := s.Publish(context.Background(), core.NewMessage([]byte(`{"type":"c"}`), core.Signature{Timestamp: "1"}, time.Now())); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(path)
	for i, l := range bytes.Split(bytes.TrimSuffix(raw, []byte("\n")), []byte("\n")) {
		if !json.Valid(l) {
			t.Fatalf("line %d is not JSON: %q", i+1, l)
		}
	}
	lines, err := ReadSpool(path)
	if err != nil || len(lines) != 2 || string(lines[0].RawBody()) != `{"type":"a"}` || string(lines[1].RawBody()) != `{"type":"c"}` {
		t.Fatalf("spool after repair: %+v, %v", lines, err)
	}
	moved, _ := filepath.Glob(path + ".torn-*")
	if len(moved) != 1 {
		t.Fatalf("fragment files: %v", moved)
	}
	if got, _ := os.ReadFile(moved[0]); !bytes.Equal(got, fragment) {
		t.Fatalf("fragment = %q, want %q", got, fragment)
	}
}
