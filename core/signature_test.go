package core

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sentinels names the errors a fixture may expect.
var sentinels = map[string]error{
	"ErrMissingSignature":   ErrMissingSignature,
	"ErrNoSecret":           ErrNoSecret,
	"ErrNoV0":               ErrNoV0,
	"ErrMalformedTimestamp": ErrMalformedTimestamp,
	"ErrTimestampTolerance": ErrTimestampTolerance,
	"ErrSignatureMismatch":  ErrSignatureMismatch,
	"ErrMalformedSignature": ErrMalformedSignature,
}

type verifyFixture struct {
	Now      int64  `json:"now"`
	BodyFile string `json:"body_file"`
	Cases    []struct {
		Name    string   `json:"name"`
		Header  string   `json:"header"`
		Secrets []string `json:"secrets"`
		Want    string   `json:"want"`
	} `json:"cases"`
}

func loadVerifyFixture(t testing.TB) (verifyFixture, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "verify_cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f verifyFixture
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join("testdata", f.BodyFile))
	if err != nil {
		t.Fatal(err)
	}
	return f, body
}

// TestVerifyFixtures runs the signature cases in testdata/verify_cases.json,
// whose headers were computed independently of this package.
func TestVerifyFixtures(t *testing.T) {
	f, body := loadVerifyFixture(t)
	now := time.Unix(f.Now, 0)
	for _, tc := range f.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			v, err := NewVerifier(tc.Secrets, VerifierOptions{Now: func() time.Time { return now }})
			if len(tc.Secrets) == 0 {
				if !errors.Is(err, ErrNoSecret) {
					t.Fatalf("NewVerifier with no secret: err = %v, want ErrNoSecret", err)
				}
				// A nil Verifier must fail closed the same way.
			}
			_, err = v.Verify(body, tc.Header)
			if tc.Want == "" {
				if err != nil {
					t.Fatalf("Verify: %v, want success", err)
				}
				return
			}
			want, ok := sentinels[tc.Want]
			if !ok {
				t.Fatalf("fixture names unknown error %q", tc.Want)
			}
			if !errors.Is(err, want) {
				t.Fatalf("Verify: err = %v, want %v", err, want)
			}
		})
	}
}

func TestVerifyCapsHostileHeaders(t *testing.T) {
	now := time.Unix(1763859600, 0)
	body := []byte(`{"type":"x"}`)
	good := Sign("wsec_k", now, body)
	v, err := NewVerifier([]string{"wsec_k"}, VerifierOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header string
		want   error
	}{
		{"huge header", good + "," + strings.Repeat("x=y,", 2000), ErrMalformedSignature},
		{"thousands of v0", "t=1763859600," + strings.Repeat("v0="+strings.Repeat("0", 64)+",", 1000), ErrMalformedSignature},
		{"just under the part cap still verifies", strings.Repeat("v0="+strings.Repeat("0", 64)+",", maxSignatureParts-2) + good, nil},
		{"one part over the cap", strings.Repeat("v0="+strings.Repeat("0", 64)+",", maxSignatureParts-1) + good, ErrMalformedSignature},
		{"null bytes", "t=1763859600\x00,v0=00", ErrMalformedTimestamp},
		{"invalid utf-8", "t=\xff\xfe,v0=00", ErrMalformedTimestamp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(body, tc.header)
			if !errors.Is(err, tc.want) { // errors.Is(nil, nil) is true
				t.Fatalf("Verify: err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVerifyReturnsTimestamp(t *testing.T) {
	now := time.Unix(1763859600, 0)
	v, _ := NewVerifier([]string{"wsec_k"}, VerifierOptions{Now: func() time.Time { return now }})
	sig, err := v.Verify([]byte("b"), Sign("wsec_k", now.Add(-time.Minute), []byte("b")))
	if err != nil {
		t.Fatal(err)
	}
	if sig.Timestamp != "1763859540" || !sig.Time.Equal(now.Add(-time.Minute)) {
		t.Fatalf("Signature = %+v", sig)
	}
}

func TestToleranceOption(t *testing.T) {
	now := time.Unix(1763859600, 0)
	body := []byte("b")
	v, _ := NewVerifier([]string{"k"}, VerifierOptions{Tolerance: 5 * time.Minute, Now: func() time.Time { return now }})
	if _, err := v.Verify(body, Sign("k", now.Add(-4*time.Minute), body)); err != nil {
		t.Fatalf("4m old with 5m tolerance: %v", err)
	}
	if _, err := v.Verify(body, Sign("k", now.Add(-6*time.Minute), body)); !errors.Is(err, ErrTimestampTolerance) {
		t.Fatalf("6m old with 5m tolerance: err = %v", err)
	}
}

func TestNewVerifierSkipsEmptySecrets(t *testing.T) {
	if _, err := NewVerifier([]string{"", ""}, VerifierOptions{}); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("err = %v, want ErrNoSecret", err)
	}
}

func TestSignMatchesFixture(t *testing.T) {
	// The fixture's first header was computed outside Go; Sign must agree.
	f, body := loadVerifyFixture(t)
	got := Sign(f.Cases[0].Secrets[0], time.Unix(f.Now-60, 0), body)
	if got != f.Cases[0].Header {
		t.Fatalf("Sign = %q, want %q", got, f.Cases[0].Header)
	}
}

// TestHeaderSizeBoundary holds the cap at exactly maxSignatureHeaderBytes:
// a valid header padded with an unknown part to the cap verifies, one byte
// more is refused before any HMAC is computed.
func TestHeaderSizeBoundary(t *testing.T) {
	now := time.Unix(1763859600, 0)
	body := []byte(`{"type":"post_call_transcription"}`)
	v, err := NewVerifier([]string{"k"}, VerifierOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	sig := Sign("k", now, body)
	pad := func(n int) string {
		h := sig + ",x="
		return h + strings.Repeat("a", n-len(h))
	}
	for _, tc := range []struct {
		size int
		want error
	}{
		{maxSignatureHeaderBytes, nil},
		{maxSignatureHeaderBytes + 1, ErrMalformedSignature},
	} {
		h := pad(tc.size)
		if len(h) != tc.size {
			t.Fatalf("padded header is %d bytes, want %d", len(h), tc.size)
		}
		if _, err := v.Verify(body, h); !errors.Is(err, tc.want) { // errors.Is(nil, nil) is true
			t.Errorf("%d-byte header: err = %v, want %v", tc.size, err, tc.want)
		}
	}
}
