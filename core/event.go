package core

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// UnknownEventType classifies a verified body that is not a JSON object with a
// string "type". Such a body is still authentic and is still queued.
const UnknownEventType = "unknown"

// Event is what the receiver reads of a webhook body: just enough to route
// it. The body itself travels to the queue unchanged.
type Event struct {
	// Type is the body's "type" (post_call_transcription, post_call_audio,
	// call_initiation_failure, speech_to_text_transcription, …), or
	// UnknownEventType.
	Type string
	// Timestamp is the body's "event_timestamp" as sent: the text of a
	// scalar (a number, or true/false as written) or the contents of a
	// string. Empty when absent, null, an object or an array.
	Timestamp string
	// ConversationID is the string "conversation_id" from "data" or from
	// the top level, whichever comes later in the body if both do. Empty
	// when absent.
	ConversationID string
}

// maxEnvelopeDepth bounds how deeply nested a body may be before the scanner
// gives up classifying it (it is then "unknown", and still queued).
const maxEnvelopeDepth = 256

// ParseEvent classifies body leniently: unknown fields are ignored and a body
// that is not a JSON object gives an Event of type UnknownEventType, never an
// error. It checks JSON grammar only as far as it needs to find the keys, so
// an object that is invalid elsewhere ({"type":"t","x":nonsense}) may still
// be classified by its "type": the body is authentic either way, and is
// queued unchanged; only the attributes come from this.
//
// Post-call audio bodies carry megabytes of base64 in "data"; a full
// encoding/json decode of them would cost many times the signature check. So
// ParseEvent walks the object's structure itself, skipping string contents
// with a byte search, and decodes only the few short values it keeps.
func ParseEvent(body []byte) Event {
	ev := Event{Type: UnknownEventType}
	s := scanner{b: body}
	var typ, ts, conv []byte
	var typIsString bool
	ok := s.object(func(key []byte, depth int) bool {
		switch string(key) {
		case "type":
			v, isStr, ok := s.scalar()
			if !ok {
				return false
			}
			typ, typIsString = v, isStr
		case "event_timestamp":
			v, _, ok := s.scalar()
			if !ok {
				return false
			}
			ts = v
		case "conversation_id":
			v, isStr, ok := s.scalar()
			if !ok {
				return false
			}
			if isStr {
				conv = v
			}
		case "data":
			s.skipSpace()
			if s.peek() != '{' {
				return s.skipValue()
			}
			return s.object(func(key []byte, _ int) bool {
				if string(key) == "conversation_id" {
					v, isStr, ok := s.scalar()
					if ok && isStr {
						conv = v
					}
					return ok
				}
				return s.skipValue()
			}, depth+1)
		default:
			return s.skipValue()
		}
		return true
	}, 0)
	s.skipSpace()
	if !ok || s.i != len(s.b) {
		return ev
	}
	if typIsString {
		if t, ok := unquote(typ); ok {
			ev.Type = t
		}
	}
	if ts != nil {
		if t, ok := unquote(ts); ok {
			ev.Timestamp = t
		} else if !bytes.ContainsAny(ts, `"{[`) && string(ts) != "null" {
			ev.Timestamp = string(ts) // a number, as sent
		}
	}
	if conv != nil {
		if c, ok := unquote(conv); ok {
			ev.ConversationID = c
		}
	}
	return ev
}

// unquote decodes a JSON string token. Strings without escapes (nearly all)
// are sliced without the decoder.
func unquote(tok []byte) (string, bool) {
	if len(tok) < 2 || tok[0] != '"' {
		return "", false
	}
	inner := tok[1 : len(tok)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		return "", false
	}
	return s, true
}

// scanner walks JSON structure without building values. It checks the
// grammar loosely (enough to find keys reliably), not strictly.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// str consumes a string token starting at '"' and returns it with quotes.
func (s *scanner) str() ([]byte, bool) {
	start := s.i
	if s.peek() != '"' {
		return nil, false
	}
	j := s.i + 1
	for {
		k := bytes.IndexByte(s.b[j:], '"')
		if k < 0 {
			return nil, false
		}
		j += k
		// A quote preceded by an odd number of backslashes is escaped.
		n := 0
		for p := j - 1; p > start && s.b[p] == '\\'; p-- {
			n++
		}
		j++
		if n%2 == 0 {
			s.i = j
			return s.b[start:j], true
		}
	}
}

// scalar consumes a string, number, true, false or null and returns its
// token. A nested object or array is skipped and returned as nil.
func (s *scanner) scalar() (tok []byte, isString, ok bool) {
	s.skipSpace()
	switch c := s.peek(); {
	case c == '"':
		t, ok := s.str()
		return t, true, ok
	case c == '{' || c == '[':
		return nil, false, s.skipValue()
	default:
		start := s.i
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return s.b[start:s.i], false, s.i > start
			}
			s.i++
		}
		return s.b[start:s.i], false, s.i > start
	}
}

// skipValue consumes any value. Nesting is tracked with a counter, not
// recursion, so a hostile body cannot exhaust the stack.
func (s *scanner) skipValue() bool {
	s.skipSpace()
	c := s.peek()
	if c != '{' && c != '[' {
		_, _, ok := s.scalar()
		return ok
	}
	depth := 0
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			if _, ok := s.str(); !ok {
				return false
			}
			continue
		case '{', '[':
			depth++
			if depth > maxEnvelopeDepth {
				return false
			}
		case '}', ']':
			depth--
			if depth == 0 {
				s.i++
				return true
			}
		}
		s.i++
	}
	return false
}

// object consumes an object, calling member for each key with the scanner
// positioned at the value; member must consume the value.
func (s *scanner) object(member func(key []byte, depth int) bool, depth int) bool {
	if depth > maxEnvelopeDepth {
		return false
	}
	s.skipSpace()
	if s.peek() != '{' {
		return false
	}
	s.i++
	s.skipSpace()
	if s.peek() == '}' {
		s.i++
		return true
	}
	for {
		s.skipSpace()
		tok, ok := s.str()
		if !ok {
			return false
		}
		key := tok[1 : len(tok)-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			k, ok := unquote(tok)
			if !ok {
				return false
			}
			key = []byte(k)
		}
		s.skipSpace()
		if s.peek() != ':' {
			return false
		}
		s.i++
		if !member(key, depth) {
			return false
		}
		s.skipSpace()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}
