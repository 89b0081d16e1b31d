package core

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SignatureHeader is the header ElevenLabs signs every webhook with.
const SignatureHeader = "ElevenLabs-Signature"

// DefaultTolerance is how far a signature's timestamp may be from now, in
// either direction, before it is refused as a replay (or a forged future).
const DefaultTolerance = 30 * time.Minute

// Limits that bound what a hostile header can make us do. ElevenLabs sends
// one t and one v0 (about 80 bytes); rotation adds a v0 per secret.
const (
	maxSignatureHeaderBytes = 4096
	maxSignatureParts       = 32
)

// VerifierOptions tunes a Verifier. The zero value means the defaults.
type VerifierOptions struct {
	// Tolerance is the accepted clock difference; zero means DefaultTolerance.
	Tolerance time.Duration
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time
}

// Verifier checks ElevenLabs-Signature headers against one or more secrets.
// It is safe for concurrent use.
type Verifier struct {
	secrets   [][]byte
	pools     []*sync.Pool // one pool of *keyedMAC per secret
	tolerance int64        // seconds
	now       func() time.Time
}

// Signature is what a verified header said.
type Signature struct {
	// Timestamp is the header's t, in Unix seconds, exactly as sent.
	Timestamp string
	// Time is Timestamp as a time.
	Time time.Time
}

// NewVerifier returns a Verifier that accepts a signature made with any of
// secrets (old and new side by side during rotation). Secrets are used as
// given: the "wsec_" prefix is part of the key and is never decoded.
// It returns ErrNoSecret when no non-empty secret is given.
func NewVerifier(secrets []string, opts VerifierOptions) (*Verifier, error) {
	v := &Verifier{now: opts.Now, tolerance: int64(DefaultTolerance / time.Second)}
	if v.now == nil {
		v.now = time.Now
	}
	if opts.Tolerance > 0 {
		v.tolerance = int64(opts.Tolerance / time.Second)
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		key := []byte(s)
		v.secrets = append(v.secrets, key)
		// Keyed HMACs are reused: hmac.New hashes the padded key twice,
		// which at small bodies costs as much as the body itself.
		v.pools = append(v.pools, &sync.Pool{New: func() any { return &keyedMAC{h: hmac.New(sha256.New, key)} }})
	}
	if len(v.secrets) == 0 {
		return nil, ErrNoSecret
	}
	return v, nil
}

// Verify checks header (the value of the ElevenLabs-Signature header) against
// body, the exact bytes that arrived. It returns nil error only when the
// timestamp is within the tolerance and some v0 equals the HMAC of
// "t.body" under some secret. Errors wrap the package's sentinels.
func (v *Verifier) Verify(body []byte, header string) (Signature, error) {
	if v == nil || len(v.secrets) == 0 {
		return Signature{}, ErrNoSecret
	}
	// The parsed header lives on the stack: at small bodies a heap copy of
	// its 1 KiB of v0 slots cost as much as the HMAC's fixed work.
	var p parsedHeader
	sig, err := v.checkHeader(header, v.now(), &p)
	if err != nil {
		return Signature{}, err
	}

	// One HMAC per secret, whatever the number of v0 parts, so extra parts
	// cost a 32-byte comparison each and never another pass over the body.
	matched := false
	for i := range v.secrets {
		mac := v.pools[i].Get().(*keyedMAC)
		sum := mac.sum(p.t, body)
		v.pools[i].Put(mac)
		for _, want := range p.v0[:p.nv0] {
			// Every candidate is compared, without an early exit, so the
			// time taken does not tell which one came close.
			if hmac.Equal(sum[:], want[:]) {
				matched = true
			}
		}
	}
	if !matched {
		return Signature{}, ErrSignatureMismatch
	}
	return sig, nil
}

// checkHeader parses header into p and checks its timestamp against now:
// everything Verify does before it reads the body.
func (v *Verifier) checkHeader(header string, now time.Time, p *parsedHeader) (Signature, error) {
	if header == "" {
		return Signature{}, ErrMissingSignature
	}
	if err := parseSignatureHeaderInto(header, p); err != nil {
		return Signature{}, err
	}
	ts, err := parseTimestamp(p.t)
	if err != nil {
		return Signature{}, err
	}
	if d := now.Unix() - ts; d > v.tolerance || -d > v.tolerance {
		return Signature{}, ErrTimestampTolerance
	}
	return Signature{Timestamp: p.t, Time: time.Unix(ts, 0).UTC()}, nil
}

// keyedMAC is a keyed HMAC with the scratch space one verification needs.
// The buffers live beside the pooled hash because anything passed to a
// hash.Hash method escapes: stack buffers would be allocated on every call.
type keyedMAC struct {
	h      hash.Hash
	prefix [24]byte // "<t>." (t has at most 19 digits)
	out    [sha256.Size]byte
}

// sum returns HMAC(t "." body) without allocating.
func (m *keyedMAC) sum(t string, body []byte) [sha256.Size]byte {
	m.begin(t)
	m.h.Write(body)
	return m.finish()
}

// begin starts HMAC(t "." …); the body follows through m.h.Write.
func (m *keyedMAC) begin(t string) {
	m.h.Reset()
	n := copy(m.prefix[:len(m.prefix)-1], t)
	m.prefix[n] = '.'
	m.h.Write(m.prefix[:n+1])
}

func (m *keyedMAC) finish() [sha256.Size]byte {
	m.h.Sum(m.out[:0])
	return m.out
}

// parsedHeader holds the parts of a signature header that matter. v0 is a
// fixed array so that parsing does not allocate.
type parsedHeader struct {
	t   string
	v0  [maxSignatureParts][sha256.Size]byte
	nv0 int
}

// parseSignatureHeader splits "t=…,v0=…" into its parts. Parts may come in
// any order with white space around them; unknown keys are ignored; t may
// repeat only with the same value.
// v0 values that are not 64 hex digits cannot match and are dropped, but a
// header must still name a v0 to be understood.
func parseSignatureHeader(h string) (*parsedHeader, error) {
	p := new(parsedHeader)
	if err := parseSignatureHeaderInto(h, p); err != nil {
		return nil, err
	}
	return p, nil
}

// parseSignatureHeaderInto is parseSignatureHeader into a caller's p, so
// that Verify can keep it on the stack.
func parseSignatureHeaderInto(h string, p *parsedHeader) error {
	if len(h) > maxSignatureHeaderBytes {
		return fmt.Errorf("%w: longer than %d bytes", ErrMalformedSignature, maxSignatureHeaderBytes)
	}
	seenT, seenV0 := false, false
	parts := 0
	for rest := h; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		parts++
		if parts > maxSignatureParts {
			return fmt.Errorf("%w: more than %d parts", ErrMalformedSignature, maxSignatureParts)
		}
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			return fmt.Errorf("%w: part is not key=value", ErrMalformedSignature)
		}
		switch strings.TrimSpace(key) {
		case "t":
			// A repeated identical t is one timestamp: HTTP API joins two
			// identical ElevenLabs-Signature headers with a comma, which
			// net/http and the Cloud Function see as one value. Two
			// different t values stay ambiguous, so they are refused.
			val = strings.TrimSpace(val)
			if seenT && val != p.t {
				return fmt.Errorf("%w: two different t values", ErrMalformedSignature)
			}
			seenT = true
			p.t = val
		case "v0":
			seenV0 = true
			val = strings.TrimSpace(val)
			if len(val) == 2*sha256.Size {
				if _, err := hex.Decode(p.v0[p.nv0][:], []byte(val)); err == nil {
					p.nv0++
				}
			}
		}
	}
	if !seenT || !seenV0 {
		return ErrNoV0
	}
	return nil
}

// parseTimestamp accepts only plain decimal digits: no sign, no fraction, no
// exponent, nothing that overflows int64.
func parseTimestamp(t string) (int64, error) {
	if t == "" || len(t) > 19 {
		return 0, ErrMalformedTimestamp
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return 0, ErrMalformedTimestamp
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, ErrMalformedTimestamp
	}
	return n, nil
}

// Sign returns an ElevenLabs-Signature header value for body at time t,
// as ElevenLabs would send it. It is meant for tests, the send tool and
// sample events; a receiver never signs.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "t=" + ts + ",v0=" + hex.EncodeToString(mac.Sum(nil))
}
