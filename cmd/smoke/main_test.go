package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
)

const secret = "wsec_smoke_test"

// A stand-in for the deployed endpoint: it verifies as the stack does and
// answers as the storage-first API does, so the test sees what smoke sends
// and how it reports.
func TestSmoke(t *testing.T) {
	v, err := core.NewVerifier([]string{secret}, core.VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var types []string
	var sizes []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, err := v.Verify(body, r.Header.Get(core.SignatureHeader)); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		var ev struct {
			Type string `json:"type"`
		}
		json.Unmarshal(body, &ev)
		mu.Lock()
		types, sizes = append(types, ev.Type), append(sizes, len(body))
		mu.Unlock()
		w.Write([]byte(`{"status":"stored"}`))
	}))
	defer srv.Close()
	transcript := filepath.Join("..", "..", "events", "bodies", "post_call_transcription.json")

	var out, errs bytes.Buffer
	getenv := func(k string) string { return map[string]string{envvar.Secret: secret + ",wsec_next"}[k] }
	// A smaller audio event than the default 9 MiB keeps the race-detector
	// run short; TestAudioEventSize checks the default's size.
	if code := run([]string{"-url", srv.URL, "-file", transcript, "-audio-bytes", "300000"}, getenv, &out, &errs); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errs.String())
	}
	if strings.Join(types, ",") != "post_call_transcription,post_call_audio" {
		t.Fatalf("the endpoint got %v", types)
	}
	if sizes[1] < 300000-8 || sizes[1] > 300000 {
		t.Fatalf("audio event of %d bytes, want about 300000", sizes[1])
	}
	for _, want := range []string{"post_call_transcription " + strconv.Itoa(sizes[0]) + ` bytes -> HTTP 200 {"status":"stored"}`, "post_call_audio " + strconv.Itoa(sizes[1]) + ` bytes -> HTTP 200 {"status":"stored"}`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}

	// A wrong secret is reported, and fails.
	out.Reset()
	wrong := func(k string) string { return map[string]string{envvar.Secret: "wsec_wrong"}[k] }
	if code := run([]string{"-url", srv.URL, "-file", transcript, "-audio-bytes", "1000"}, wrong, &out, &errs); code != 1 ||
		!strings.Contains(out.String(), "HTTP 400") {
		t.Fatalf("wrong secret: exit %d\n%s", code, out.String())
	}
	// No URL or no secret: a usage error, nothing sent.
	if code := run([]string{"-file", transcript}, getenv, &out, &errs); code != 2 {
		t.Fatalf("no URL: exit %d", code)
	}
	// An endpoint that never answers is reported within the timeout.
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(time.Second) }))
	defer stuck.Close()
	out.Reset()
	if code := run([]string{"-url", stuck.URL, "-file", transcript, "-audio-bytes", "1000", "-timeout", "200ms"}, getenv, &out, &errs); code != 1 ||
		!strings.Contains(out.String(), "no answer within 200ms") {
		t.Fatalf("stuck endpoint: exit %d\n%s", code, out.String())
	}
}

// The default audio event is about 9 MiB (more than Lambda's 6 MB
// invocation limit): post_call_audio with the audio as base64. (The
// end-to-end run above decodes a smaller one as JSON.)
func TestAudioEventSize(t *testing.T) {
	b := audioEvent(9 << 20)
	if len(b) < 9<<20-8 || len(b) > 9<<20 {
		t.Fatalf("audio event of %d bytes, want about 9 MiB", len(b))
	}
	if !bytes.HasPrefix(b, []byte(`{"type":"post_call_audio",`)) || !bytes.HasSuffix(b, []byte(`"}}`)) {
		t.Fatalf("not a post_call_audio event: %.80s…", b)
	}
}
