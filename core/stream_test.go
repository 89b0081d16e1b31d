package core

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/elevenrelay/elevenrelay/internal/jsonscan"
)

// streamBodies are the bodies the streamed classification is held to
// parseEvent on: every sample body in events/, the fuzz corpus, and shapes
// that sit on the edges of the lenient grammar.
func streamBodies(t *testing.T) map[string][]byte {
	t.Helper()
	bodies := map[string][]byte{}
	files, err := filepath.Glob(filepath.Join("..", "events", "bodies", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample bodies in events/bodies: %v", err)
	}
	corpus, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParseEvent", "*"))
	corpus2, _ := filepath.Glob(filepath.Join("..", "internal", "jsonscan", "testdata", "fuzz", "FuzzClassifier", "*"))
	files = append(files, filepath.Join("testdata", "post_call_transcription.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		bodies[f] = b
	}
	for _, f := range append(corpus, corpus2...) {
		for i, b := range readFuzzCorpus(t, f) {
			bodies[f+"#"+strconv.Itoa(i)] = b
		}
	}
	long := strings.Repeat("x", jsonscan.MaxField)
	escLong := strings.Repeat(`\u0041`, 300)
	for i, s := range []string{
		``, ` `, `{}`, ` {} `, `{}x`, `[]`, `"s"`, `{"type":"a"}`, `{"type":"a",}`, `{"type":}`,
		`{"type" : "a" , "data" : { "conversation_id" : "c" } }`,
		`{"type":"a","type":"b"}`, `{"type":"a","type":{"x":1}}`, `{"type":"a","type":1}`,
		`{"type":"a\"b\\"}`, `{"type":"\u0074"}`, `{"\u0074ype":"t"}`, `{"typ\e":"t"}`,
		`{"type":"t","x":nonsense}`, `{"type":"t","x":ab"c{"}`, `{"type":"t","x":[1 2 } }`,
		`{"event_timestamp":1763859600}`, `{"event_timestamp":"17"}`, `{"event_timestamp":null}`,
		`{"event_timestamp":true}`, `{"event_timestamp":{"a":1}}`, `{"event_timestamp":1"2}`,
		`{"event_timestamp":"\x"}`, `{"conversation_id":"top","data":{"conversation_id":"in"}}`,
		`{"data":{"conversation_id":"in"},"conversation_id":"top"}`, `{"data":{"conversation_id":1}}`,
		`{"conversation_id":"a","conversation_id":["b"]}`, `{"data":"x","conversation_id":"c"}`,
		`{"data":{"data":{"conversation_id":"deep"}}}`, `{"data":{"type":"inner"},"type":"outer"}`,
		`{"type":"` + long + `"}`, `{"type":"ok","event_timestamp":"` + long + `"}`,
		`{"event_timestamp":` + long + `}`, `{"conversation_id":"c","data":{"conversation_id":"` + long + `"}}`,
		`{"type":"` + escLong + `"}`, `{"` + long + `":1,"type":"t"}`, `{"` + long + `\q":1,"type":"t"}`,
		`{"` + escLong + `\u00":1,"type":"t"}`, `{"` + escLong + `":1,"type":"t"}`,
		`{"type":"t","a":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`,
		`{"type":"t","a":` + strings.Repeat("[", 256) + strings.Repeat("]", 256) + `}`,
		`{"type":"t","a":"\\\\\\\"","b":"\\"}`, `{"type":"\x01"}`, "{\"type\":\"\xff\"}",
		`{"type":"t"` + "\n\t\r " + `}`, `{"type":"t"`, `{"type":"t`, `{"type":"t","x":1`,
	} {
		bodies["edge#"+strconv.Itoa(i)] = []byte(s)
	}
	return bodies
}

// readFuzzCorpus reads the []byte values of a Go fuzz corpus file.
func readFuzzCorpus(t *testing.T, path string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, line := range strings.Split(string(raw), "\n") {
		lit, ok := strings.CutPrefix(line, "[]byte(")
		if !ok {
			continue
		}
		s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, []byte(s))
	}
	return out
}

// streamEvent feeds body to the classifier VerifyStream uses in pieces of
// the given sizes, as reads from an object deliver it.
func streamEvent(body []byte, sizes func() int) event {
	var c jsonscan.Classifier
	for len(body) > 0 {
		n := min(sizes(), len(body))
		c.Write(body[:n])
		body = body[n:]
	}
	return classified(&c)
}

// TestEventStreamMatchesParseEvent is the differential test: fed in one
// piece, byte by byte or in random pieces, as VerifyStream feeds it, the
// classifier finds what parseEvent finds in the whole body.
func TestEventStreamMatchesParseEvent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, body := range streamBodies(t) {
		want := parseEvent(body)
		splits := map[string]func() int{
			"whole":  func() int { return len(body) + 1 },
			"bytes":  func() int { return 1 },
			"random": func() int { return 1 + rng.IntN(17) },
		}
		for how, sizes := range splits {
			if got := streamEvent(body, sizes); got != want {
				t.Errorf("%s (%s): streamed %+v, parseEvent %+v", name, how, got, want)
			}
		}
	}
}

// TestVerifyStreamMatchesVerify: for every fixture case, the streamed
// verification gives Verify's answer, and a verified body gives
// NewMessage's message.
func TestVerifyStreamMatchesVerify(t *testing.T) {
	f, body := loadVerifyFixture(t)
	now := time.Unix(f.Now, 0)
	for _, tc := range f.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			v, _ := NewVerifier(tc.Secrets, VerifierOptions{Now: func() time.Time { panic("VerifyStream must not read the clock") }})
			m, n, err := v.VerifyStream(iotest.OneByteReader(bytes.NewReader(body)), tc.Header, now)
			if tc.Want == "" {
				if err != nil {
					t.Fatalf("VerifyStream: %v, want success", err)
				}
				if n != int64(len(body)) {
					t.Fatalf("read %d bytes, want %d", n, len(body))
				}
				sig, _ := v.checkHeader(tc.Header, now, new(parsedHeader))
				want := NewMessage(body, sig, now)
				want.Body = nil
				if !equalMessages(m, want) {
					t.Fatalf("message %+v, want %+v", m, want)
				}
				return
			}
			if want := sentinels[tc.Want]; !errors.Is(err, want) {
				t.Fatalf("VerifyStream: err = %v, want %v", err, want)
			}
		})
	}
}

func equalMessages(a, b *Message) bool {
	return bytes.Equal(a.Body, b.Body) && a.EventType == b.EventType && a.EventTimestamp == b.EventTimestamp &&
		a.SignatureTimestamp == b.SignatureTimestamp && a.ContentSHA256 == b.ContentSHA256 &&
		a.ReceivedAt.Equal(b.ReceivedAt) && a.ConversationID == b.ConversationID && a.ClaimCheck == b.ClaimCheck
}

// The tolerance counts from receipt: a body stored in time and verified two
// hours later is accepted; one stale when it arrived is not, however soon
// it is verified.
func TestVerifyStreamToleranceFromReceipt(t *testing.T) {
	body := []byte(`{"type":"post_call_audio","data":{"conversation_id":"c"}}`)
	sent := time.Unix(1763859600, 0)
	now := sent.Add(2 * time.Hour)
	v, _ := NewVerifier([]string{"wsec_old", "wsec_new"}, VerifierOptions{Now: func() time.Time { return now }})
	tests := []struct {
		name     string
		header   string
		received time.Time
		want     error
	}{
		{"verified 2 h after receipt", Sign("wsec_new", sent, body), sent.Add(time.Second), nil},
		{"old secret during rotation", Sign("wsec_old", sent, body), sent, nil},
		{"stale at receipt", Sign("wsec_new", sent, body), sent.Add(31 * time.Minute), ErrTimestampTolerance},
		{"from the future at receipt", Sign("wsec_new", sent, body), sent.Add(-31 * time.Minute), ErrTimestampTolerance},
		{"no header", "", sent, ErrMissingSignature},
		{"other secret", Sign("wsec_other", sent, body), sent, ErrSignatureMismatch},
		{"malformed", "t=x,v0=00", sent, ErrMalformedTimestamp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _, err := v.VerifyStream(bytes.NewReader(body), tc.header, tc.received)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err == nil && (!m.ReceivedAt.Equal(tc.received) || m.EventType != "post_call_audio" || m.ConversationID != "c" || m.Body != nil) {
				t.Fatalf("message %+v", m)
			}
		})
	}
}

// A tampered byte anywhere fails; a reader that breaks is a read error,
// not one of the signature errors (the caller retries it, never rejects).
func TestVerifyStreamTamperedAndBrokenReader(t *testing.T) {
	now := time.Unix(1763859600, 0)
	body := benchBody(200 << 10)
	header := Sign("wsec_k", now, body)
	v, _ := NewVerifier([]string{"wsec_k"}, VerifierOptions{})
	tampered := bytes.Clone(body)
	tampered[150<<10] ^= 1
	if _, _, err := v.VerifyStream(bytes.NewReader(tampered), header, now); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("tampered: err = %v", err)
	}
	broken := io.MultiReader(bytes.NewReader(body[:100<<10]), iotest.ErrReader(io.ErrUnexpectedEOF))
	_, _, err := v.VerifyStream(broken, header, now)
	if !errors.Is(err, io.ErrUnexpectedEOF) || statusOf(err) != 500 {
		t.Fatalf("broken reader: err = %v (status %d)", err, statusOf(err))
	}
	m, n, err := v.VerifyStream(bytes.NewReader(body), header, now)
	if err != nil || n != int64(len(body)) || m.ContentSHA256 != sha256Hex(body) || m.EventTimestamp != "1763859600" {
		t.Fatalf("intact: %v, %d bytes, %+v", err, n, m)
	}
}
