package core

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
	"time"

	"github.com/elevenrelay/elevenrelay/internal/jsonscan"
)

// streamChunk is how much of a streamed body is held at a time.
const streamChunk = 64 << 10

// VerifyStream is Verify for a body that is read, once, from r instead of
// held: post-call audio kept in object storage is tens of megabytes. The
// tolerance is measured from receivedAt, the time the body was received
// and stored, not from now, since the body may be verified hours later.
//
// In one pass it computes the HMAC under every secret, the SHA-256 and the
// event's type, timestamp and conversation id, holding 64 KiB at a time. It
// returns the message that NewMessage would build from the same bytes,
// received at receivedAt, but with a nil Body (the caller decides whether
// to read the bytes or point at them with a claim check), and the number of
// bytes read. A bad signature gives the same sentinel errors as Verify,
// checked before r is read where the header alone decides; a failure to
// read r is returned wrapped, as not being one of them.
func (v *Verifier) VerifyStream(r io.Reader, header string, receivedAt time.Time) (*Message, int64, error) {
	if v == nil || len(v.secrets) == 0 {
		return nil, 0, ErrNoSecret
	}
	p := new(parsedHeader)
	sig, err := v.checkHeader(header, receivedAt, p)
	if err != nil {
		return nil, 0, err
	}
	macs := make([]*keyedMAC, len(v.secrets))
	for i := range v.secrets {
		macs[i] = v.pools[i].Get().(*keyedMAC)
		macs[i].begin(p.t)
		defer v.pools[i].Put(macs[i])
	}
	sha := sha256.New()
	var ev jsonscan.Classifier
	buf := make([]byte, streamChunk)
	var n int64
	for {
		k, rerr := r.Read(buf)
		if k > 0 {
			chunk := buf[:k]
			for _, m := range macs {
				m.h.Write(chunk)
			}
			sha.Write(chunk)
			ev.Write(chunk)
			n += int64(k)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, n, fmt.Errorf("reading the body after %d bytes: %w", n, rerr)
		}
	}
	matched := false
	for _, m := range macs {
		sum := m.finish()
		for _, want := range p.v0[:p.nv0] {
			if hmac.Equal(sum[:], want[:]) {
				matched = true
			}
		}
	}
	if !matched {
		return nil, n, ErrSignatureMismatch
	}
	return newMessage(classified(&ev), sig, sha.Sum(nil), receivedAt), n, nil
}
