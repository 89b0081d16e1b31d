// Command smoke checks a deployed stack from the outside, as ElevenLabs
// would reach it: it sends a signed post-call transcription and a post-call
// audio event of about 9 MB (more than Lambda's 6 MB invocation limit, so
// only the storage-first endpoint takes it) and reports each answer.
//
//	ELEVENLABS_WEBHOOK_SECRET=wsec_… smoke -url https://…/webhook
//
// It exits 0 when both answers are 2xx, 1 otherwise. The audio is random
// bytes: a consumer sees a well-formed event whose audio does not play.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "the deployed webhook URL (a stack output)")
	file := fs.String("file", "events/bodies/post_call_transcription.json", "the transcription body to send")
	audioBytes := fs.Int("audio-bytes", 9<<20, "size of the post-call audio event")
	timeout := fs.Duration("timeout", 60*time.Second, "how long to wait for each answer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	secret := strings.TrimSpace(strings.Split(getenv(envvar.Secret), ",")[0])
	if *url == "" || secret == "" {
		fmt.Fprintf(stderr, "smoke: set -url to the deployed webhook URL and %s to its secret\n", envvar.Secret)
		return 2
	}
	transcript, err := os.ReadFile(*file)
	if err != nil {
		fmt.Fprintln(stderr, "smoke:", err)
		return 2
	}
	code := 0
	for _, ev := range []struct {
		name string
		body []byte
	}{
		{"post_call_transcription", transcript},
		{"post_call_audio", audioEvent(*audioBytes)},
	} {
		status, answer, err := send(*url, secret, ev.body, *timeout)
		if err != nil {
			fmt.Fprintf(stdout, "%s %d bytes -> %v\n", ev.name, len(ev.body), err)
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%s %d bytes -> HTTP %d %s\n", ev.name, len(ev.body), status, answer)
		if status/100 != 2 {
			code = 1
		}
	}
	return code
}

// send POSTs body signed now and returns the answer.
func send(url, secret string, body []byte, timeout time.Duration) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(core.SignatureHeader, core.Sign(secret, time.Now(), body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, "", fmt.Errorf("no answer within %s", timeout)
		}
		return 0, "", err
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
	return res.StatusCode, string(bytes.TrimSpace(answer)), nil
}

// audioEvent is a post_call_audio body of about n bytes, base64 audio
// inside JSON as ElevenLabs sends it.
func audioEvent(n int) []byte {
	prefix := fmt.Sprintf(`{"type":"post_call_audio","event_timestamp":%d,"data":{"agent_id":"agent_smoke","conversation_id":"conv_smoke_%d","full_audio":"`,
		time.Now().Unix(), time.Now().UnixNano())
	suffix := `"}}`
	raw := make([]byte, max(0, n-len(prefix)-len(suffix))*3/4)
	rand.Read(raw)
	return []byte(prefix + base64.StdEncoding.EncodeToString(raw) + suffix)
}
