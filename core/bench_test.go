package core

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchSizes are the body sizes the targets speak of: a transcript is a few
// KiB, post-call audio runs to megabytes.
var benchSizes = []int{1 << 10, 5 << 10, 64 << 10, 1 << 20, 8 << 20}

func benchBody(n int) []byte {
	prefix := `{"type":"post_call_audio","event_timestamp":1763859600,"data":{"conversation_id":"conv_1","full_audio":"`
	suffix := `"}}`
	pad := n - len(prefix) - len(suffix)
	if pad < 0 {
		pad = 0
	}
	return []byte(prefix + strings.Repeat("A", pad) + suffix)
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return strconv.Itoa(n>>20) + "MiB"
	}
	return strconv.Itoa(n>>10) + "KiB"
}

// BenchmarkHMACFloor is the physical floor: one HMAC-SHA256 over "t.body"
// with the keyed state reused, as bare crypto/hmac computes it at best, and
// one 32-byte comparison.
func BenchmarkHMACFloor(b *testing.B) {
	for _, n := range benchSizes {
		body := benchBody(n)
		b.Run(sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			mac := hmac.New(sha256.New, []byte("wsec_benchmark_secret"))
			ts := []byte("1763859600")
			var sum, want [sha256.Size]byte
			for b.Loop() {
				mac.Reset()
				mac.Write(ts)
				mac.Write([]byte{'.'})
				mac.Write(body)
				if hmac.Equal(mac.Sum(sum[:0]), want[:]) {
					b.Fatal("equal")
				}
			}
		})
	}
}

// BenchmarkVerify is our verification over the same bytes.
func BenchmarkVerify(b *testing.B) {
	now := time.Unix(1763859600, 0)
	v, err := NewVerifier([]string{"wsec_benchmark_secret"}, VerifierOptions{Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range benchSizes {
		body := benchBody(n)
		header := Sign("wsec_benchmark_secret", now, body)
		b.Run(sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(body, header); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type nopSink struct{}

func (nopSink) Publish(context.Context, *Message) (string, error) { return "id", nil }

// BenchmarkReceiver is a whole request with a no-op sink: verify, classify,
// hash for content_sha256, answer and log.
func BenchmarkReceiver(b *testing.B) {
	now := time.Unix(1763859600, 0)
	v, _ := NewVerifier([]string{"wsec_benchmark_secret"}, VerifierOptions{Now: func() time.Time { return now }})
	r := &Receiver{Verifier: v, Sink: nopSink{}, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	for _, n := range benchSizes {
		body := benchBody(n)
		req := &Request{Method: "POST", Body: body,
			Headers: map[string][]string{"Elevenlabs-Signature": {Sign("wsec_benchmark_secret", now, body)}}}
		b.Run(sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if res := r.Handle(context.Background(), req); res.Status != 200 {
					b.Fatal(res.Status)
				}
			}
		})
	}
}

// BenchmarkParseEvent shows the classifier skips base64 audio at memory speed.
func BenchmarkParseEvent(b *testing.B) {
	for _, n := range benchSizes {
		body := benchBody(n)
		b.Run(sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if parseEvent(body).Type != "post_call_audio" {
					b.Fatal("misclassified")
				}
			}
		})
	}
}

// streamBenchBytes is the stored body of the streaming benchmarks: 40 MiB,
// post-call audio of a call of well over an hour.
const streamBenchBytes = 40 << 20

// BenchmarkStreamFloor is what streaming verification cannot go below: one
// HMAC-SHA256 and one SHA-256 over the body, read 64 KiB at a time.
func BenchmarkStreamFloor(b *testing.B) {
	body := benchBody(streamBenchBytes)
	buf := make([]byte, streamChunk)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		streamFloor(body, buf)
	}
}

func streamFloor(body, buf []byte) {
	mac := hmac.New(sha256.New, []byte("wsec_benchmark_secret"))
	mac.Write([]byte("1763859600."))
	sha := sha256.New()
	r := bytes.NewReader(body)
	for {
		n, err := r.Read(buf)
		mac.Write(buf[:n])
		sha.Write(buf[:n])
		if err == io.EOF {
			break
		}
	}
	mac.Sum(nil)
	sha.Sum(nil)
}

// BenchmarkVerifyStreamVsFloor alternates the floor and VerifyStream within
// each iteration and reports VerifyStream's time as a multiple of the
// floor's: on a shared machine whose load drifts from one second to the
// next, only measurements taken side by side compare.
func BenchmarkVerifyStreamVsFloor(b *testing.B) {
	now := time.Unix(1763859600, 0)
	v, err := NewVerifier([]string{"wsec_benchmark_secret"}, VerifierOptions{})
	if err != nil {
		b.Fatal(err)
	}
	body := benchBody(streamBenchBytes)
	header := Sign("wsec_benchmark_secret", now, body)
	buf := make([]byte, streamChunk)
	var floor, stream time.Duration
	for b.Loop() {
		t0 := time.Now()
		streamFloor(body, buf)
		t1 := time.Now()
		if _, _, err := v.VerifyStream(bytes.NewReader(body), header, now); err != nil {
			b.Fatal(err)
		}
		floor, stream = floor+t1.Sub(t0), stream+time.Since(t1)
	}
	b.ReportMetric(float64(stream)/float64(floor), "x-floor")
}

// BenchmarkVerifyStream is VerifyStream over the same body: the floor plus
// finding the event's fields. Its allocations do not grow with the body.
func BenchmarkVerifyStream(b *testing.B) {
	now := time.Unix(1763859600, 0)
	v, err := NewVerifier([]string{"wsec_benchmark_secret"}, VerifierOptions{})
	if err != nil {
		b.Fatal(err)
	}
	body := benchBody(streamBenchBytes)
	header := Sign("wsec_benchmark_secret", now, body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		m, _, err := v.VerifyStream(bytes.NewReader(body), header, now)
		if err != nil || m.ConversationID != "conv_1" {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseEventAudio classifies post-call audio bodies of random
// base64 at the sizes the scanner's figures quote.
func BenchmarkParseEventAudio(b *testing.B) {
	for _, n := range []int{1 << 20, 6 << 20} {
		body := audioBody(n)
		b.Run(sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if parseEvent(body).ConversationID != "conv_01jxq5a7w3d9hc6y2b4k8m1n3p" {
					b.Fatal("misclassified")
				}
			}
		})
	}
}

// audioBody is a post_call_audio body of exactly n bytes of which nearly all
// is random base64, as real ones are.
func audioBody(n int) []byte {
	head := `{"type":"post_call_audio","event_timestamp":1763859605,"data":{"agent_id":"agent_01jxq4f3s2e8vb7k9m2n5p6r8t","conversation_id":"conv_01jxq5a7w3d9hc6y2b4k8m1n3p","full_audio":"`
	tail := `"}}`
	raw := make([]byte, (n-len(head)-len(tail))*3/4+3)
	rand.Read(raw)
	return []byte(head + base64.StdEncoding.EncodeToString(raw)[:n-len(head)-len(tail)] + tail)
}
