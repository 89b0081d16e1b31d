// Command send signs a webhook body the way ElevenLabs does and POSTs it, or
// prints the ElevenLabs-Signature header for use with curl. It signs with
// ELEVENLABS_WEBHOOK_SECRET, or with the local server's development secret.
//
//	send -file events/bodies/post_call_transcription.json
//	send -header -file body.json    # prints: ElevenLabs-Signature: t=…,v0=…
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/local"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:8080/webhook", "receiver URL")
	file := fs.String("file", "events/bodies/post_call_transcription.json", "body to sign; - for standard input")
	headerOnly := fs.Bool("header", false, "print the signature header and exit, without sending")
	age := fs.Duration("age", 0, "sign as if sent this long ago (e.g. 31m to test replay protection)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the answer")
	wait := fs.Duration("wait", 0, "while nothing listens at -url, retry for up to this long (for a receiver still starting)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	body, err := readBody(*file)
	if err != nil {
		fmt.Fprintln(stderr, "send:", err)
		return 1
	}
	if len(body) == 0 {
		fmt.Fprintf(stderr, "send: warning: %s is empty (0 bytes); sending an empty body\n", *file)
	}
	secret := strings.TrimSpace(strings.Split(os.Getenv(envvar.Secret), ",")[0])
	if secret == "" {
		secret = local.DevSecret
	}
	sig := core.Sign(secret, time.Now().Add(-*age), body)
	if *headerOnly {
		fmt.Fprintf(stdout, "%s: %s\n", core.SignatureHeader, sig)
		return 0
	}
	res, err := post(*url, body, sig, *timeout, *wait)
	if err != nil {
		fmt.Fprintln(stderr, "send:", err)
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			fmt.Fprintf(stderr, "send: nothing listens at %s; start the local receiver first (make run, in another terminal)\n", *url)
		case errors.Is(err, context.DeadlineExceeded):
			fmt.Fprintln(stderr, "send: no answer in time; is the receiver running (make run)?")
		}
		return 1
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	fmt.Fprintf(stdout, "%s %d bytes -> HTTP %d %s\n", *file, len(body), res.StatusCode, bytes.TrimSpace(answer))
	if res.StatusCode/100 != 2 {
		if bytes.Contains(answer, []byte(core.ErrSignatureMismatch.Error())) {
			fmt.Fprintln(stderr, "send: the receiver has another secret: the sender and the server must share "+envvar.Secret+
				" (send signs with its first secret, or with the development secret when it is unset)")
		}
		return 1
	}
	return 0
}

// post sends body, retrying while the connection is refused for up to wait.
func post(url string, body []byte, sig string, timeout, wait time.Duration) (*http.Response, error) {
	deadline := time.Now().Add(wait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			cancel()
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(core.SignatureHeader, sig)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			// The answer is read before this returns; cancel with its body.
			res.Body = cancelOnClose{res.Body, cancel}
			return res, nil
		}
		cancel()
		if !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

func readBody(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}
