package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/local"
)

// TestHints: the three ways a first try goes wrong each get a hint.
func TestHints(t *testing.T) {
	t.Setenv(envvar.Secret, "")
	dir := t.TempDir()
	body := filepath.Join(dir, "body.json")
	empty := filepath.Join(dir, "empty.json")
	os.WriteFile(body, []byte(`{"type":"post_call_transcription"}`), 0o600)
	os.WriteFile(empty, nil, 0o600)

	// A receiver with another secret, as the local server answers it.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"`+core.ErrSignatureMismatch.Error()+`"}`)
	}))
	defer other.Close()
	// A receiver that takes the development secret.
	v, _ := core.NewVerifier([]string{local.DevSecret}, core.VerifierOptions{})
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if _, err := v.Verify(b, r.Header.Get(core.SignatureHeader)); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		io.WriteString(w, `{"status":"accepted","message_id":"m"}`)
	}))
	defer ok.Close()
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/webhook"
	ln.Close()

	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"connection refused", []string{"-url", closed, "-file", body}, 1, "start the local receiver first (make run"},
		{"signature mismatch", []string{"-url", other.URL, "-file", body}, 1, "the sender and the server must share ELEVENLABS_WEBHOOK_SECRET"},
		{"empty file", []string{"-url", ok.URL, "-file", empty}, 0, "is empty (0 bytes)"},
		{"accepted, no hint", []string{"-url", ok.URL, "-file", body}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			code := run(tc.args, &out, &errs)
			if code != tc.wantCode || !strings.Contains(errs.String(), tc.want) || (tc.want == "" && errs.Len() > 0) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant stderr with %q", code, tc.wantCode, out.String(), errs.String(), tc.want)
			}
		})
	}
}
