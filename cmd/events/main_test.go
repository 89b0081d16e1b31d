package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/elevenrelay/elevenrelay/core"
)

// The generated events carry the body unchanged and a signature that
// verifies (or, for the bad ones, fails the way their names say).
func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "bodies"), os.DirFS(filepath.Join("..", "..", "events", "bodies"))); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	names, err := generate(dir, devSecret, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 17 {
		t.Fatalf("wrote %d files: %v", len(names), names)
	}
	v, err := core.NewVerifier([]string{devSecret}, core.VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if name == "env.json" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			var ev events.APIGatewayProxyRequest // the fields shared by every shape
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			body := []byte(ev.Body)
			if ev.IsBase64Encoded {
				body = mustBase64(t, ev.Body)
			}
			header, err := core.HeaderValue(map[string][]string{"h": {ev.Headers["elevenlabs-signature"] + ev.Headers["ElevenLabs-Signature"]}}, "h")
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(body, header)
			switch {
			case strings.HasSuffix(name, "-bad-signature.json"):
				if err != core.ErrSignatureMismatch {
					t.Fatalf("err = %v", err)
				}
			case strings.HasSuffix(name, "-stale.json"):
				if err != core.ErrTimestampTolerance {
					t.Fatalf("err = %v", err)
				}
			case err != nil:
				t.Fatal(err)
			}
		})
	}
}

func mustBase64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
