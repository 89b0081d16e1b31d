package bench

import (
	"encoding/json"
	"testing"
)

// TestVerifiersVerify keeps the comparison honest: every verifier timed must
// accept its own valid signature and refuse the same signature over a body
// with one byte changed.
func TestVerifiersVerify(t *testing.T) {
	for _, v := range Verifiers {
		for _, size := range Sizes {
			t.Run(v.Name+"/"+size.Name, func(t *testing.T) {
				body := Body(size.Bytes)
				verify := v.Prepare(body)
				if err := verify(body); err != nil {
					t.Fatalf("valid signature refused: %v", err)
				}
				tampered := append([]byte(nil), body...)
				tampered[len(tampered)/2] ^= 1
				if err := verify(tampered); err == nil {
					t.Fatal("tampered body accepted")
				}
			})
		}
	}
}

func TestBody(t *testing.T) {
	for _, size := range Sizes {
		b := Body(size.Bytes)
		if len(b) != size.Bytes {
			t.Errorf("Body(%d) has %d bytes", size.Bytes, len(b))
		}
		if !json.Valid(b) {
			t.Errorf("Body(%d) is not valid JSON", size.Bytes)
		}
	}
}

// BenchmarkVerify is the same comparison as cmd/report, for benchstat:
//
//	go test -run '^$' -bench Verify -count 10 . | benchstat -
func BenchmarkVerify(b *testing.B) {
	for _, v := range Verifiers {
		for _, size := range Sizes {
			b.Run(v.Name+"/"+size.Name, func(b *testing.B) {
				body := Body(size.Bytes)
				verify := v.Prepare(body)
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if err := verify(body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func TestPrepareInvokeAccepts(t *testing.T) {
	for _, size := range InvokeSizes {
		if err := PrepareInvoke(Body(size.Bytes))(); err != nil {
			t.Errorf("%s: %v", size.Name, err)
		}
	}
}
