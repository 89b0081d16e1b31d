// Package bench times elevenrelay's signature verification beside the bare
// HMAC-SHA256 it cannot beat and beside other webhook verifiers, each on its
// own scheme but on the same bodies and the same key.
//
// It is a module of its own so that the product never depends on the peers.
package bench

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v85/webhook"
	svix "github.com/svix/svix-webhooks/go"
)

// Secret is the key every verifier gets: the same 32 bytes, as a string where
// the scheme takes one (ElevenLabs, Stripe) and as raw bytes where it takes
// base64 (Standard Webhooks, Svix), so that no verifier hashes a longer key.
const Secret = "wsec_bench0123456789abcdef012345"

// Sizes are the body sizes every verifier is timed on.
var Sizes = []Size{{"1 KiB", 1 << 10}, {"64 KiB", 64 << 10}, {"1 MiB", 1 << 20}}

// Size names a body size.
type Size struct {
	Name  string
	Bytes int
}

// Body returns a JSON object of exactly n bytes shaped like an ElevenLabs
// event (the JS SDK parses what it verifies, so it must be valid JSON).
func Body(n int) []byte {
	head := `{"type":"post_call_transcription","event_timestamp":1739537297,"data":{"agent_id":"agent_bench","conversation_id":"conv_bench","transcript":"`
	tail := `"}}`
	if n < len(head)+len(tail) {
		panic(fmt.Sprintf("bench: body of %d bytes is too small", n))
	}
	b := make([]byte, 0, n)
	b = append(b, head...)
	const text = "The quick brown fox jumps over the lazy dog. "
	for i := 0; len(b) < n-len(tail); i++ {
		b = append(b, text[i%len(text)])
	}
	return append(b, tail...)
}

// A Verifier is one way of checking a signed webhook.
type Verifier struct {
	// Name is what the table calls it.
	Name string
	// Scheme says what is signed and how the signature is sent.
	Scheme string
	// Prepare signs body as the scheme's sender would, at the current time,
	// and returns a function that verifies a body against that signature, as
	// a receiver does for each request. The returned function is what is timed.
	Prepare func(body []byte) (verify func(body []byte) error)
}

// Floor is the name of the bare HMAC, the floor of every row.
const Floor = "HMAC-SHA256 floor"

// Verifiers are the Go verifiers compared, the floor first.
var Verifiers = []Verifier{
	{
		Name:   Floor,
		Scheme: "HMAC-SHA256 of t.body with a reused keyed hash, one 32-byte compare",
		Prepare: func(body []byte) func([]byte) error {
			// Everything but the hash itself is done once, here: the prefix
			// and the output buffer are reused so that the floor allocates
			// nothing and times only the HMAC and one compare.
			prefix := []byte(strconv.FormatInt(time.Now().Unix(), 10) + ".")
			mac := hmac.New(sha256.New, []byte(Secret))
			var got, want [sha256.Size]byte
			sum := func(body []byte, out *[sha256.Size]byte) {
				mac.Reset()
				mac.Write(prefix)
				mac.Write(body)
				mac.Sum(out[:0])
			}
			sum(body, &want)
			return func(body []byte) error {
				sum(body, &got)
				if !hmac.Equal(got[:], want[:]) {
					return errors.New("floor: mismatch")
				}
				return nil
			}
		},
	},
	{
		Name:   "elevenrelay core.Verifier",
		Scheme: "ElevenLabs-Signature: t=…,v0=<hex HMAC of t.body>",
		Prepare: func(body []byte) func([]byte) error {
			v, err := core.NewVerifier([]string{Secret}, core.VerifierOptions{})
			if err != nil {
				panic(err)
			}
			header := core.Sign(Secret, time.Now(), body)
			return func(body []byte) error {
				_, err := v.Verify(body, header)
				return err
			}
		},
	},
	{
		Name:   "stripe-go v85 webhook.ValidatePayload",
		Scheme: "Stripe-Signature: t=…,v1=<hex HMAC of t.body>",
		Prepare: func(body []byte) func([]byte) error {
			header := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
				Payload: body, Secret: Secret, Timestamp: time.Now(),
			}).Header
			return func(body []byte) error {
				return webhook.ValidatePayloadWithTolerance(body, header, Secret, webhook.DefaultTolerance)
			}
		},
	},
	{
		Name:   "standard-webhooks Go (Webhook.Verify)",
		Scheme: "webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC of id.t.body>",
		Prepare: func(body []byte) func([]byte) error {
			wh, err := standardwebhooks.NewWebhookRaw([]byte(Secret))
			if err != nil {
				panic(err)
			}
			h := standardHeaders(body, "webhook-")
			return func(body []byte) error { return wh.Verify(body, h) }
		},
	},
	{
		Name:   "svix Go (Webhook.Verify)",
		Scheme: "svix-id, svix-timestamp, svix-signature: v1,<base64 HMAC of id.t.body>",
		Prepare: func(body []byte) func([]byte) error {
			wh, err := svix.NewWebhookRaw([]byte(Secret))
			if err != nil {
				panic(err)
			}
			h := standardHeaders(body, "svix-")
			return func(body []byte) error { return wh.Verify(body, h) }
		},
	},
}

// standardHeaders signs body as a Standard Webhooks (or Svix) sender does,
// by hand so that neither library signs for itself.
func standardHeaders(body []byte, prefix string) http.Header {
	const id = "msg_2LJmzHdaOZl3ZdKZsN4ZSeKJk4U"
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(Secret))
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	h := http.Header{}
	h.Set(prefix+"id", id)
	h.Set(prefix+"timestamp", ts)
	h.Set(prefix+"signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return h
}

// ElevenLabsHeader returns the ElevenLabs-Signature header for body signed
// now, for the Node benchmark and the cold-start event.
func ElevenLabsHeader(body []byte) string { return core.Sign(Secret, time.Now(), body) }
