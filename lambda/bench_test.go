package lambda

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
)

type nopSink struct{}

var _ core.Sink = nopSink{}

func (nopSink) Publish(context.Context, *core.Message) (string, error) { return "id", nil }

// audioBody is a post_call_audio body of exactly n bytes: mostly base64, as
// the real ones are.
func audioBody(n int) []byte {
	head := `{"type":"post_call_audio","event_timestamp":1763859605,"data":{"agent_id":"agent_01jxq4f3s2e8vb7k9m2n5p6r8t","conversation_id":"conv_01jxq5a7w3d9hc6y2b4k8m1n3p","full_audio":"`
	tail := `"}}`
	raw := make([]byte, (n-len(head)-len(tail))*3/4+3)
	rand.Read(raw)
	audio := base64.StdEncoding.EncodeToString(raw)[:n-len(head)-len(tail)]
	return []byte(head + audio + tail)
}

var benchSizes = []struct {
	name string
	n    int
}{{"5KiB", 5 << 10}, {"1MiB", 1 << 20}}

// BenchmarkInvoke is one invocation, from the raw event bytes to the
// response bytes, with a sink that does nothing: what the function itself
// costs per webhook.
func BenchmarkInvoke(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			body := audioBody(size.n)
			event := v2Event(b, body, map[string]string{"content-type": "application/json", "elevenlabs-signature": core.Sign(testSecret, time.Now(), body)}, false)
			v, err := core.NewVerifier([]string{testSecret}, core.VerifierOptions{})
			if err != nil {
				b.Fatal(err)
			}
			h := &Handler{Receiver: &core.Receiver{Verifier: v, Sink: nopSink{}, Logger: slog.New(slog.DiscardHandler)}}
			ctx := context.Background()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				out, err := h.Invoke(ctx, event)
				if err != nil || len(out) < 20 || string(out[:16]) != `{"statusCode":20` {
					b.Fatalf("%s %v", out, err)
				}
			}
		})
	}
}

// BenchmarkHMAC is the bare signature computation over the same bodies: the
// least any verifying receiver must spend.
func BenchmarkHMAC(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			body := audioBody(size.n)
			ts := []byte(strconv.FormatInt(time.Now().Unix(), 10))
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var sum [sha256.Size]byte
			for b.Loop() {
				mac := hmac.New(sha256.New, []byte(testSecret))
				mac.Write(ts)
				mac.Write([]byte{'.'})
				mac.Write(body)
				mac.Sum(sum[:0])
			}
		})
	}
}

// BenchmarkDecodeEvent is the event decode alone on post-call audio bodies
// inside a payload 2.0 event, the body as JSON text (its quotes escaped) and
// base64-encoded: the part of an invocation the JSON scanner costs.
func BenchmarkDecodeEvent(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1MiB", 1 << 20}, {"6MiB", 6 << 20}} {
		body := audioBody(size.n)
		for _, b64 := range []bool{false, true} {
			name := size.name + "/text"
			if b64 {
				name = size.name + "/base64"
			}
			event := v2Event(b, body, map[string]string{"content-type": "application/json"}, b64)
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(len(event)))
				b.ReportAllocs()
				for b.Loop() {
					ev, err := decodeEvent(event)
					if err != nil || ev.shape != shapeV2 {
						b.Fatal(err)
					}
					ev.release()
				}
			})
		}
	}
}
