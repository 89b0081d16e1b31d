package jsonscan

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// Scanner walks one JSON document held in memory, reading the values it is
// asked for exactly as encoding/json decodes them into Go strings and bools,
// and skipping the rest, whose grammar it checks only as far as it needs to
// find where they end. Its user, the Lambda adapter, falls back to
// encoding/json for whatever the Scanner refuses (nesting deeper than
// MaxDepth included), so the two paths agree.
//
// Unlike the Classifier it is not fed in pieces: a Lambda event arrives
// whole, and exact decoding of its fields is easiest over the slice.
type Scanner struct {
	b []byte
	i int
}

// NewScanner returns a Scanner at the start of b.
func NewScanner(b []byte) *Scanner { return &Scanner{b: b} }

func (s *Scanner) space() {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

// Peek skips white space and returns the next byte, or 0 at the end.
func (s *Scanner) Peek() byte {
	s.space()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// End reports whether only white space is left.
func (s *Scanner) End() bool {
	s.space()
	return s.i == len(s.b)
}

// Remaining is how many bytes are left, an upper bound on any value's size.
func (s *Scanner) Remaining() int { return len(s.b) - s.i }

// Literal consumes word (null, true, false) if it comes next.
func (s *Scanner) Literal(word string) bool {
	s.space()
	if !bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		return false
	}
	s.i += len(word)
	return true
}

// Object consumes an object, calling member with each key while the
// scanner stands at the key's value; member must consume the value.
func (s *Scanner) Object(member func(key string) bool) bool {
	if s.Peek() != '{' {
		return false
	}
	s.i++
	if s.Peek() == '}' {
		s.i++
		return true
	}
	for {
		key, ok := s.String()
		if !ok || s.Peek() != ':' {
			return false
		}
		s.i++
		if !member(key) {
			return false
		}
		switch s.Peek() {
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

// Array consumes an array, calling elem with the scanner at each element;
// elem must consume it.
func (s *Scanner) Array(elem func() bool) bool {
	if s.Peek() != '[' {
		return false
	}
	s.i++
	if s.Peek() == ']' {
		s.i++
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch s.Peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return true
		default:
			return false
		}
	}
}

// ObjectOrNull is Object, or consumes null (a field encoding/json leaves
// as it was).
func (s *Scanner) ObjectOrNull(member func(key string) bool) bool {
	if s.Peek() == 'n' {
		return s.Literal("null")
	}
	return s.Object(member)
}

// StringOrNull reads a string into *into; null leaves *into as it was, as
// encoding/json does.
func (s *Scanner) StringOrNull(into *string) bool {
	if s.Peek() == 'n' {
		return s.Literal("null")
	}
	v, ok := s.String()
	*into = v
	return ok
}

// BoolOrNull reads true or false into *into; null leaves it as it was.
func (s *Scanner) BoolOrNull(into *bool) bool {
	switch s.Peek() {
	case 't':
		*into = true
		return s.Literal("true")
	case 'f':
		*into = false
		return s.Literal("false")
	case 'n':
		return s.Literal("null")
	}
	return false
}

// String reads a string. One without escapes, nearly every one, is copied
// straight out.
func (s *Scanner) String() (string, bool) {
	if s.Peek() != '"' {
		return "", false
	}
	start := s.i + 1
	if q := bytes.IndexByte(s.b[start:], '"'); q >= 0 && bytes.IndexByte(s.b[start:start+q], '\\') < 0 {
		s.i = start + q + 1
		return string(s.b[start : start+q]), true
	}
	b, ok := s.AppendString(nil)
	return string(b), ok
}

// AppendString appends the contents of the string that comes next to dst,
// escapes decoded as encoding/json decodes them (a lone or broken surrogate
// becomes U+FFFD). It searches for the next quote and the next backslash
// with bytes.IndexByte, which is vectorised, and copies the runs between
// escapes whole, so a megabyte of string costs about a memmove.
//
// Raw control characters inside the string, which encoding/json refuses,
// are passed through: the Lambda service delivers only valid JSON, and the
// bytes are then verified by their signature anyway.
func (s *Scanner) AppendString(dst []byte) ([]byte, bool) {
	if s.Peek() != '"' {
		return dst, false
	}
	b := s.b
	i := s.i + 1
	quote, slash := -1, -1 // positions of the next '"' and '\' at or after i
	for {
		if quote < i {
			q := bytes.IndexByte(b[i:], '"')
			if q < 0 {
				return dst, false
			}
			quote = i + q
		}
		if slash < i {
			if k := bytes.IndexByte(b[i:quote], '\\'); k >= 0 {
				slash = i + k
			} else {
				slash = len(b) // none before the quote
			}
		}
		if quote < slash {
			dst = append(dst, b[i:quote]...)
			s.i = quote + 1
			return dst, true
		}
		dst = append(dst, b[i:slash]...)
		i = slash + 1
		if i >= len(b) {
			return dst, false
		}
		c := b[i]
		i++
		switch c {
		case '"', '\\', '/':
			dst = append(dst, c)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(b[i:])
			if r < 0 {
				return dst, false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				// A pair is two escapes; anything else is U+FFFD, and a
				// following escape is then read on its own.
				r2 := rune(-1)
				if len(b) >= i+6 && b[i] == '\\' && b[i+1] == 'u' {
					r2 = hex4(b[i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return dst, false
		}
	}
}

// hex4 reads four hex digits, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// Skip consumes any value. Nesting is counted, not recursed, and refused
// beyond MaxDepth.
func (s *Scanner) Skip() bool {
	depth := 0
	for {
		switch c := s.Peek(); c {
		case '"':
			end, _ := closingQuote(s.b[s.i+1:], 0)
			if end < 0 {
				return false
			}
			s.i += end + 2
		case '{', '[':
			depth++
			if depth > MaxDepth {
				return false
			}
			s.i++
			continue
		case '}', ']':
			if depth == 0 {
				return false
			}
			depth--
			s.i++
		case ',', ':':
			if depth == 0 {
				return false
			}
			s.i++
			continue
		case 0:
			return false
		default:
			// a number or a literal: up to the next delimiter
			start := s.i
			for s.i < len(s.b) && !isDelim(s.b[s.i]) {
				s.i++
			}
			if s.i == start {
				return false
			}
		}
		if depth == 0 {
			return true
		}
	}
}
