package core

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// FuzzParseSignatureHeader: no header panics, and the only errors are the
// package's sentinels.
func FuzzParseSignatureHeader(f *testing.F) {
	for _, s := range []string{"t=1,v0=ab", "v0=" + string(make([]byte, 64)), " t = 1 , v0 = x ", "t=1,t=2", ",,,", "="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		p, err := parseSignatureHeader(h)
		if err != nil {
			if !errors.Is(err, ErrMalformedSignature) && !errors.Is(err, ErrNoV0) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if p.nv0 > maxSignatureParts {
			t.Fatalf("kept %d v0 parts", p.nv0)
		}
	})
}

// FuzzVerify: a random header and body never verify, and never panic.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1763859600, 0)
	f.Add([]byte(`{"type":"x"}`), "t=1763859600,v0=00")
	f.Add([]byte(""), Sign("wsec_fuzz", now, []byte("other")))
	v, err := NewVerifier([]string{"wsec_fuzz"}, VerifierOptions{Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		if header == Sign("wsec_fuzz", now, body) {
			return // the fuzzer forged a signature: astronomically unlikely
		}
		if _, err := v.Verify(body, header); err == nil {
			t.Fatalf("random header verified: %q", header)
		}
		// The same body with a real signature always verifies.
		if _, err := v.Verify(body, Sign("wsec_fuzz", now, body)); err != nil {
			t.Fatalf("valid signature refused: %v", err)
		}
	})
}

// FuzzParseEvent: never panics, and agrees with encoding/json on the type of
// every body encoding/json accepts as an object.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{`{"type":"a"}`, `{"type":"a\"b","data":{"conversation_id":"c"}}`, `[1]`, `{"type":1}`, `{"a":"\\"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := parseEvent(body)
		var ref struct {
			Type *string `json:"type"`
		}
		if err := json.Unmarshal(body, &ref); err != nil {
			return // not an object with a string-or-absent type: anything lenient goes
		}
		var generic map[string]any
		if json.Unmarshal(body, &generic) != nil {
			return
		}
		want := UnknownEventType
		if s, ok := generic["type"].(string); ok {
			want = s
		}
		if got.Type != want {
			t.Fatalf("ParseEvent type = %q, encoding/json says %q (body %q)", got.Type, want, body)
		}
	})
}
