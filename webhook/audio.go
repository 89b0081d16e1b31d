package webhook

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/elevenrelay/elevenrelay/internal/jsonscan"
)

// Audio is post_call_audio's full_audio: base64 MP3 as it sits in the JSON
// body. It keeps the encoded text (a slice of the body when Decode made
// it) and decodes only while a caller reads, so that a 40 MiB recording
// never exists decoded in memory unless Bytes is asked for.
type Audio struct {
	// enc is the JSON string's content, escapes included, without quotes.
	enc []byte
}

// IsZero reports whether the event carried no audio.
func (a Audio) IsZero() bool { return len(a.enc) == 0 }

// Reader returns the decoded MP3 bytes as a stream.
func (a Audio) Reader() io.Reader {
	src := io.MultiReader(bytes.NewReader(a.enc), bytes.NewReader([]byte{'"'}))
	return base64.NewDecoder(base64.StdEncoding, &jsonString{br: bufio.NewReaderSize(src, 32<<10)})
}

// WriteTo writes the decoded MP3 to w, a chunk at a time.
func (a Audio) WriteTo(w io.Writer) (int64, error) {
	n, err := io.Copy(w, a.Reader())
	if err != nil {
		return n, fmt.Errorf("%w: full_audio: %w", ErrDecode, err)
	}
	return n, nil
}

// Bytes returns the decoded MP3, for small recordings and tests; WriteTo
// streams instead.
func (a Audio) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(base64.StdEncoding.DecodedLen(len(a.enc)))
	if _, err := a.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// UnmarshalJSON keeps a copy of the encoded text (encoding/json lends its
// buffer only for the call). Decode avoids the copy by slicing the body.
func (a *Audio) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*a = Audio{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("%w: full_audio is not a string", ErrDecode)
	}
	a.enc = bytes.Clone(b[1 : len(b)-1])
	return nil
}

// MarshalJSON writes the encoded text back as received.
func (a Audio) MarshalJSON() ([]byte, error) {
	if a.enc == nil {
		return []byte("null"), nil
	}
	out := make([]byte, 0, len(a.enc)+2)
	out = append(out, '"')
	out = append(out, a.enc...)
	return append(out, '"'), nil
}

// DecodePostCallAudio reads a post_call_audio body from r and writes the
// decoded MP3 to w as it goes: neither the body nor the audio is held, so
// memory stays a few buffers whatever the recording's length. It returns
// the event's other fields (Data.FullAudio stays empty, Raw nil) and the
// bytes written. Unknown fields are skipped. The audio may come before
// conversation_id in the body, so name an output file after this returns.
func DecodePostCallAudio(r io.Reader, w io.Writer) (*PostCallAudio, int64, error) {
	var written int64
	ev, err := scanAudio(newStreamScanner(r), func(s *jsonString) error {
		n, err := io.Copy(w, base64.NewDecoder(base64.StdEncoding, s))
		written = n
		if err != nil {
			return fmt.Errorf("full_audio: %w", err)
		}
		return nil
	})
	return ev, written, err
}

// decodeAudioBody is Decode for post_call_audio: one pass over body with
// the scanner the receiver uses, which skips full_audio with a byte search
// and leaves it encoded, as a slice of body.
func decodeAudioBody(body []byte) (*PostCallAudio, error) {
	s := jsonscan.NewScanner(body)
	pos := func() int { return len(body) - s.Remaining() }
	ev := &PostCallAudio{}
	var tsErr error
	ok := s.Object(func(key string) bool {
		switch key {
		case "type":
			return s.StringOrNull(&ev.Type)
		case "event_timestamp":
			s.Peek()
			start := pos()
			if !s.Skip() {
				return false
			}
			tsErr = ev.EventTimestamp.UnmarshalJSON(body[start:pos()])
			return tsErr == nil
		case "data":
			return s.ObjectOrNull(func(key string) bool {
				switch key {
				case "agent_id":
					return s.StringOrNull(&ev.Data.AgentID)
				case "conversation_id":
					return s.StringOrNull(&ev.Data.ConversationID)
				case "full_audio":
					if s.Peek() != '"' {
						return s.Literal("null")
					}
					start := pos() + 1
					if !s.Skip() {
						return false
					}
					end := pos() - 1
					ev.Data.FullAudio = Audio{enc: body[start:end:end]}
					return true
				}
				return s.Skip()
			})
		}
		return s.Skip()
	})
	if !ok || !s.End() {
		err := errors.New("not a post_call_audio object")
		if tsErr != nil {
			err = tsErr
		}
		return nil, fmt.Errorf("%w: post_call_audio: %w", ErrDecode, err)
	}
	ev.Raw = body
	return ev, nil
}

// maxAudioField bounds any field of a post_call_audio body other than
// full_audio, which are ids and timestamps: a body that puts megabytes
// elsewhere is refused rather than held.
const maxAudioField = 1 << 20

func scanAudio(sc *streamScanner, onAudio func(*jsonString) error) (*PostCallAudio, error) {
	ev := &PostCallAudio{}
	fail := func(err error) (*PostCallAudio, error) {
		return nil, fmt.Errorf("%w: post_call_audio: %w", ErrDecode, err)
	}
	err := sc.object(func(key string) error {
		switch key {
		case "type":
			return sc.decodeValue(&ev.Type)
		case "event_timestamp":
			return sc.decodeValue(&ev.EventTimestamp)
		case "data":
			return sc.object(func(key string) error {
				switch key {
				case "agent_id":
					return sc.decodeValue(&ev.Data.AgentID)
				case "conversation_id":
					return sc.decodeValue(&ev.Data.ConversationID)
				case "full_audio":
					c, err := sc.peek()
					if err != nil {
						return err
					}
					if c != '"' {
						var null *struct{}
						return sc.decodeValue(&null)
					}
					sc.br.Discard(1)
					s := &jsonString{br: sc.br}
					if err := onAudio(s); err != nil {
						return err
					}
					if !s.done {
						// base64 padding ended the decoder early: the rest of
						// the string must be empty.
						if n, err := io.Copy(io.Discard, s); err != nil || n > 0 {
							return errors.New("full_audio: data after the base64 padding")
						}
					}
					return nil
				}
				return sc.skipValue()
			})
		}
		return sc.skipValue()
	})
	if err != nil {
		return fail(err)
	}
	if ev.Type == "" {
		ev.Type = TypePostCallAudio
	}
	return ev, nil
}

// streamScanner reads a JSON document from a stream without holding it:
// just enough to walk objects, decode small values and hand a string's
// content on as a reader. internal/jsonscan walks documents in memory
// (Scanner) or classifies a stream without giving its strings out
// (Classifier); streaming a string's content out is this one's job alone.
type streamScanner struct {
	br   *bufio.Reader
	read *countingReader
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func newStreamScanner(r io.Reader) *streamScanner {
	cr := &countingReader{r: r}
	return &streamScanner{br: bufio.NewReaderSize(cr, 64<<10), read: cr}
}

// pos is the offset of the next unread byte.
func (s *streamScanner) pos() int64 { return s.read.n - int64(s.br.Buffered()) }

func (s *streamScanner) peek() (byte, error) {
	for {
		c, err := s.br.ReadByte()
		if err != nil {
			return 0, unexpected(err)
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, s.br.UnreadByte()
	}
}

func (s *streamScanner) expect(want byte) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c != want {
		return fmt.Errorf("offset %d: want %q, got %q", s.pos(), want, c)
	}
	_, err = s.br.ReadByte()
	return err
}

// object calls member for each key; member must consume the value.
func (s *streamScanner) object(member func(key string) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c == '}' {
		s.br.ReadByte()
		return nil
	}
	for {
		var key string
		if err := s.decodeValue(&key); err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		c, err := s.peek()
		if err != nil {
			return err
		}
		s.br.ReadByte()
		switch c {
		case ',':
		case '}':
			return nil
		default:
			return fmt.Errorf("offset %d: want ',' or '}', got %q", s.pos(), c)
		}
	}
}

// rawValue returns the next value's bytes, up to maxAudioField of them.
func (s *streamScanner) rawValue() ([]byte, error) {
	var out []byte
	err := s.walkValue(func(c byte) error {
		if len(out) >= maxAudioField {
			return fmt.Errorf("a field is over %d bytes", maxAudioField)
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

func (s *streamScanner) skipValue() error {
	return s.walkValue(func(byte) error { return nil })
}

func (s *streamScanner) decodeValue(v any) error {
	raw, err := s.rawValue()
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// walkValue passes each byte of the next value to emit: strings with their
// escapes, containers to their matching close.
func (s *streamScanner) walkValue(emit func(byte) error) error {
	if _, err := s.peek(); err != nil { // skips leading space
		return err
	}
	depth, inString, escaped := 0, false, false
	for {
		c, err := s.br.ReadByte()
		if err != nil {
			return unexpected(err)
		}
		if err := emit(c); err != nil {
			return err
		}
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if depth == 0 {
					return nil
				}
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return nil
			}
			if depth < 0 {
				return fmt.Errorf("offset %d: unbalanced %q", s.pos(), c)
			}
		case depth == 0:
			// A number or literal: ends before a delimiter.
			next, err := s.br.Peek(1)
			if err == io.EOF || err == nil && bytes.IndexByte([]byte(",}] \t\r\n"), next[0]) >= 0 {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// jsonString reads a JSON string's content, unescaped, from br (positioned
// after the opening quote) up to its closing quote, which it consumes.
type jsonString struct {
	br      *bufio.Reader
	done    bool
	pending []byte // an escape's bytes that did not fit the caller's buffer
	scratch [utf8.UTFMax]byte
}

func (s *jsonString) Read(p []byte) (int, error) {
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	for n < len(p) && !s.done {
		if s.br.Buffered() == 0 {
			if _, err := s.br.Peek(1); err != nil {
				return n, unexpected(err)
			}
		}
		chunk, _ := s.br.Peek(min(s.br.Buffered(), len(p)-n))
		i := bytes.IndexAny(chunk, "\"\\")
		if i < 0 {
			i = len(chunk)
		}
		k := copy(p[n:], chunk[:i])
		s.br.Discard(k)
		n += k
		if k < i || i == len(chunk) {
			continue
		}
		if chunk[i] == '"' {
			s.br.Discard(1)
			s.done = true
			break
		}
		esc, err := s.escape()
		if err != nil {
			return n, err
		}
		k = copy(p[n:], esc)
		n += k
		s.pending = esc[k:]
	}
	if n == 0 && s.done && len(s.pending) == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// escape reads one backslash escape and returns its bytes.
func (s *jsonString) escape() ([]byte, error) {
	b, err := s.br.Peek(2)
	if err != nil {
		return nil, unexpected(err)
	}
	var r rune
	switch b[1] {
	case '"', '\\', '/':
		r = rune(b[1])
	case 'b':
		r = '\b'
	case 'f':
		r = '\f'
	case 'n':
		r = '\n'
	case 'r':
		r = '\r'
	case 't':
		r = '\t'
	case 'u':
		u, err := s.br.Peek(6)
		if err != nil {
			return nil, unexpected(err)
		}
		var v rune
		for _, h := range u[2:] {
			switch {
			case '0' <= h && h <= '9':
				v = v<<4 | rune(h-'0')
			case 'a' <= h && h <= 'f':
				v = v<<4 | rune(h-'a'+10)
			case 'A' <= h && h <= 'F':
				v = v<<4 | rune(h-'A'+10)
			default:
				return nil, fmt.Errorf("bad \\u escape %q", u)
			}
		}
		s.br.Discard(6)
		n := utf8.EncodeRune(s.scratch[:], v)
		return s.scratch[:n], nil
	default:
		return nil, fmt.Errorf("bad escape %q", b)
	}
	s.br.Discard(2)
	s.scratch[0] = byte(r)
	return s.scratch[:1], nil
}
