//go:build !race

// The race detector makes sync.Pool drop items on purpose, so allocation
// counts only mean something without it.

package core

import (
	"testing"
	"time"
)

// TestVerifyDoesNotAllocate guards the fixed cost of a verification, which
// is what separates it from the bare HMAC at small bodies.
func TestVerifyDoesNotAllocate(t *testing.T) {
	now := time.Unix(1739537297, 0)
	v, err := NewVerifier([]string{"wsec_old", "wsec_new"}, VerifierOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"post_call_transcription","data":{"conversation_id":"c1"}}`)
	header := Sign("wsec_new", now, body)
	if _, err := v.Verify(body, header); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { v.Verify(body, header) }); n != 0 {
		t.Errorf("Verify allocates %v times per call; want 0", n)
	}
}

func BenchmarkVerifyNoAlloc1KiB(b *testing.B) {
	v, err := NewVerifier([]string{"wsec_bench"}, VerifierOptions{})
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 1<<10)
	header := Sign("wsec_bench", time.Now(), body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(body, header); err != nil {
			b.Fatal(err)
		}
	}
}
