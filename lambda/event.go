package lambda

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/elevenrelay/elevenrelay/core"
)

// ErrUnsupportedEvent is the answer to an invocation that is not an HTTP
// request from API Gateway (REST or HTTP API) or a Function URL: a test
// event from the console, or a trigger wired to the wrong function. It is a
// 400, since retrying the same event cannot help.
var ErrUnsupportedEvent = fmt.Errorf("%w: event is not an API Gateway or Function URL request", core.ErrBodyRead)

// shape is the kind of event that arrived. The answer does not depend on it
// (one encoding serves every shape, see response in handler.go); it says which
// event type's fields were read, so that tests can hold the fast path to the
// same reading as encoding/json.
type shape uint8

const (
	shapeUnknown shape = iota
	// shapeV1 is the API Gateway REST proxy event (and HTTP API payload 1.0).
	shapeV1
	// shapeV2 is HTTP API payload 2.0; Function URLs send the same shape.
	shapeV2
)

// httpEvent is what the handler reads of an invocation: the fields the
// receiver needs, nothing else.
type httpEvent struct {
	shape             shape
	method            string
	headers           map[string]string
	multiValueHeaders map[string][]string
	body              []byte
	isBase64Encoded   bool
	requestID         string
	sourceIP          string
	// buf, when set, is the pooled buffer body lives in; release returns it.
	buf *[]byte
}

// bodyBuffers recycles the buffers that bodies are unescaped into. A fresh
// megabyte costs more than the unescaping itself (the kernel zeroes its
// pages and the runtime zeroes it again), about the price of a second HMAC.
var bodyBuffers sync.Pool

// maxPooledBody keeps the occasional huge buffer out of the pool.
const maxPooledBody = 8 << 20

func bodyBuffer(n int) *[]byte {
	if p, ok := bodyBuffers.Get().(*[]byte); ok {
		if cap(*p) >= n {
			*p = (*p)[:0]
			return p
		}
	}
	b := make([]byte, 0, n)
	return &b
}

// release returns the body's buffer to the pool. Call it only when nothing
// can read ev.body any more.
func (ev *httpEvent) release() {
	if ev.buf != nil && cap(*ev.buf) <= maxPooledBody {
		bodyBuffers.Put(ev.buf)
	}
	ev.buf = nil
}

// decodeEvent reads an API Gateway or Function URL event. The common case
// takes the fast path, which walks the event once and unescapes only the
// fields it keeps: the body string of post-call audio is megabytes, and
// decoding the whole event with encoding/json costs many times the
// signature check. Anything the fast path does not handle exactly as
// encoding/json would (duplicate or differently cased keys, nulls inside
// header maps, invalid UTF-8, …) goes to encoding/json instead, so the two
// agree on every event that is valid JSON; FuzzDecodeEvent holds them to it.
// They may differ on invalid JSON: the fast path skips the fields it does not
// read without validating them, so it takes {"x":abc}, which encoding/json
// refuses. Such an event still has to carry a valid signature of its body.
func decodeEvent(payload []byte) (httpEvent, error) {
	if ev, ok := decodeFast(payload); ok {
		return ev, nil
	}
	return decodeSlow(payload)
}

// decodeSlow decodes the event with encoding/json into the aws-lambda-go
// event types.
func decodeSlow(payload []byte) (httpEvent, error) {
	var v2 events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &v2); err == nil && v2.Version == "2.0" {
		return httpEvent{
			shape:           shapeV2,
			method:          v2.RequestContext.HTTP.Method,
			headers:         v2.Headers,
			body:            []byte(v2.Body),
			isBase64Encoded: v2.IsBase64Encoded,
			requestID:       v2.RequestContext.RequestID,
			sourceIP:        v2.RequestContext.HTTP.SourceIP,
		}, nil
	}
	var v1 events.APIGatewayProxyRequest
	err := json.Unmarshal(payload, &v1)
	if err == nil && (v1.HTTPMethod != "" || v1.Resource != "") {
		ev := httpEvent{
			shape:             shapeV1,
			method:            v1.HTTPMethod,
			headers:           v1.Headers,
			multiValueHeaders: v1.MultiValueHeaders,
			body:              []byte(v1.Body),
			isBase64Encoded:   v1.IsBase64Encoded,
			requestID:         v1.RequestContext.RequestID,
			sourceIP:          v1.RequestContext.Identity.SourceIP,
		}
		if ev.method == "" {
			ev.method = v1.RequestContext.HTTPMethod
		}
		return ev, nil
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return httpEvent{}, fmt.Errorf("%w: invalid JSON at offset %d", ErrUnsupportedEvent, syntax.Offset)
	}
	return httpEvent{}, ErrUnsupportedEvent
}

// Field names the fast path reads, by object. encoding/json matches keys to
// fields without regard to case; the fast path matches only exact names and
// leaves any other spelling of them to encoding/json.
var (
	topFields     = []string{"version", "httpMethod", "resource", "headers", "multiValueHeaders", "body", "isBase64Encoded", "requestContext"}
	contextFields = []string{"requestId", "httpMethod", "http", "identity"}
	httpFields    = []string{"method", "sourceIp"}
	identityField = []string{"sourceIp"}
)

// decodeFast is decodeEvent's fast path. ok is false for anything it leaves
// to encoding/json.
func decodeFast(payload []byte) (ev httpEvent, ok bool) {
	// encoding/json replaces invalid UTF-8 with U+FFFD; rather than mimic
	// that, such (never legitimate) events take the slow path. utf8.Valid
	// runs at several GB/s on ASCII, a small part of the HMAC's cost.
	if !utf8.Valid(payload) {
		return ev, false
	}
	s := scanner{b: payload}
	var version, v1Method, ctxMethod, resource, v2Method, v2SourceIP, v1SourceIP string
	var seen uint32 // duplicate keys of interest go to the slow path: encoding/json merges them
	once := func(bit uint32) bool {
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	}
	ok = s.object(func(key string) bool {
		switch key {
		case "version":
			return once(1<<0) && s.stringOrNull(&version)
		case "httpMethod":
			return once(1<<1) && s.stringOrNull(&v1Method)
		case "resource":
			return once(1<<2) && s.stringOrNull(&resource)
		case "headers":
			return once(1<<3) && s.stringMap(&ev.headers)
		case "multiValueHeaders":
			return once(1<<4) && s.stringsMap(&ev.multiValueHeaders)
		case "body":
			return once(1<<5) && s.body(&ev.body, &ev.buf)
		case "isBase64Encoded":
			return once(1<<6) && s.boolOrNull(&ev.isBase64Encoded)
		case "requestContext":
			return once(1<<7) && s.objectOrNull(func(key string) bool {
				switch key {
				case "requestId":
					return once(1<<8) && s.stringOrNull(&ev.requestID)
				case "httpMethod":
					return once(1<<9) && s.stringOrNull(&ctxMethod)
				case "http":
					return once(1<<10) && s.objectOrNull(func(key string) bool {
						switch key {
						case "method":
							return once(1<<11) && s.stringOrNull(&v2Method)
						case "sourceIp":
							return once(1<<12) && s.stringOrNull(&v2SourceIP)
						}
						return !foldsToAny(key, httpFields) && s.skip()
					})
				case "identity":
					return once(1<<13) && s.objectOrNull(func(key string) bool {
						if key == "sourceIp" {
							return once(1<<14) && s.stringOrNull(&v1SourceIP)
						}
						return !foldsToAny(key, identityField) && s.skip()
					})
				}
				return !foldsToAny(key, contextFields) && s.skip()
			})
		}
		return !foldsToAny(key, topFields) && s.skip()
	})
	if !ok || !s.end() {
		ev.release()
		return httpEvent{}, false
	}
	switch {
	case version == "2.0":
		ev.shape, ev.method, ev.sourceIP = shapeV2, v2Method, v2SourceIP
		ev.multiValueHeaders = nil // not a field of payload 2.0
	case v1Method != "" || resource != "":
		ev.shape, ev.method, ev.sourceIP = shapeV1, v1Method, v1SourceIP
		if ev.method == "" {
			ev.method = ctxMethod
		}
	default:
		ev.release()
		return httpEvent{}, false // the slow path decides, and words the error
	}
	if ev.body == nil {
		ev.body = []byte{}
	}
	return ev, true
}

// foldsToAny reports whether key is some other spelling of one of names,
// which encoding/json would match to that field.
func foldsToAny(key string, names []string) bool {
	for _, n := range names {
		if strings.EqualFold(key, n) {
			return true
		}
	}
	return false
}

// scanner walks one JSON document. It reads the values it is asked for
// exactly as encoding/json would and skips the rest, checking their grammar
// only as far as it needs to find where they end.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
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
	s.space()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// end reports whether only white space is left.
func (s *scanner) end() bool {
	s.space()
	return s.i == len(s.b)
}

// literal consumes word (null, true, false) if it comes next.
func (s *scanner) literal(word string) bool {
	s.space()
	if !bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		return false
	}
	s.i += len(word)
	return true
}

// object consumes an object, calling member with each key while the scanner
// stands at the key's value; member must consume the value.
func (s *scanner) object(member func(key string) bool) bool {
	if s.peek() != '{' {
		return false
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return true
	}
	for {
		key, ok := s.str()
		if !ok || s.peek() != ':' {
			return false
		}
		s.i++
		if !member(key) {
			return false
		}
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

func (s *scanner) objectOrNull(member func(key string) bool) bool {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	return s.object(member)
}

func (s *scanner) stringOrNull(into *string) bool {
	if s.peek() == 'n' {
		return s.literal("null") // encoding/json leaves the string as it was
	}
	v, ok := s.str()
	*into = v
	return ok
}

func (s *scanner) boolOrNull(into *bool) bool {
	switch s.peek() {
	case 't':
		*into = true
		return s.literal("true")
	case 'f':
		*into = false
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	return false
}

// stringMap reads an object of strings (headers). A null value inside is
// left to encoding/json; a repeated key keeps its last value, as there.
func (s *scanner) stringMap(into *map[string]string) bool {
	if s.peek() == 'n' {
		*into = nil
		return s.literal("null")
	}
	m := make(map[string]string)
	*into = m
	return s.object(func(key string) bool {
		v, ok := s.str()
		m[key] = v
		return ok
	})
}

// stringsMap reads an object of string arrays (multiValueHeaders).
func (s *scanner) stringsMap(into *map[string][]string) bool {
	if s.peek() == 'n' {
		*into = nil
		return s.literal("null")
	}
	m := make(map[string][]string)
	*into = m
	return s.object(func(key string) bool {
		if s.peek() != '[' {
			return false
		}
		s.i++
		vs := []string{}
		if s.peek() == ']' {
			s.i++
			m[key] = vs
			return true
		}
		for {
			v, ok := s.str()
			if !ok {
				return false
			}
			vs = append(vs, v)
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				m[key] = vs
				return true
			default:
				return false
			}
		}
	})
}

// body reads the body string into a pooled buffer, never into the event:
// the runtime reuses the event's memory for the next invocation.
func (s *scanner) body(into *[]byte, buf **[]byte) bool {
	if s.peek() == 'n' {
		*into = nil
		return s.literal("null")
	}
	if s.peek() != '"' {
		return false
	}
	p := bodyBuffer(len(s.b) - s.i) // the body cannot be longer than the rest
	b, ok := s.unquote(*p)
	*p, *into, *buf = b, b, p
	return ok
}

// str reads a string token. One without escapes, nearly every one, is
// copied straight out.
func (s *scanner) str() (string, bool) {
	if s.peek() != '"' {
		return "", false
	}
	start := s.i + 1
	if q := bytes.IndexByte(s.b[start:], '"'); q >= 0 && bytes.IndexByte(s.b[start:start+q], '\\') < 0 {
		s.i = start + q + 1
		return string(s.b[start : start+q]), true
	}
	b, ok := s.unquote(nil)
	return string(b), ok
}

// unquote appends the contents of the string token at s.i to dst, escapes
// decoded as encoding/json decodes them (a lone or broken surrogate becomes
// U+FFFD). It searches for the next quote and the next backslash with
// bytes.IndexByte, which is vectorised, and copies the runs between escapes
// whole, so a megabyte of body costs about a memmove.
//
// Raw control characters inside the string, which encoding/json refuses,
// are passed through: the Lambda service delivers only valid JSON, and the
// bytes are then verified by their signature anyway.
func (s *scanner) unquote(dst []byte) ([]byte, bool) {
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

// skip consumes any value. Nesting is counted, not recursed, so a deep
// hostile event cannot exhaust the stack.
func (s *scanner) skip() bool {
	depth := 0
	for {
		switch c := s.peek(); c {
		case '"':
			if !s.skipString() {
				return false
			}
		case '{', '[':
			depth++
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

func isDelim(c byte) bool {
	switch c {
	case ',', ':', '{', '}', '[', ']', '"', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// skipString consumes a string token without decoding it.
func (s *scanner) skipString() bool {
	j := s.i + 1
	for {
		k := bytes.IndexByte(s.b[j:], '"')
		if k < 0 {
			return false
		}
		j += k
		n := 0 // a quote after an odd number of backslashes is escaped
		for p := j - 1; p > s.i && s.b[p] == '\\'; p-- {
			n++
		}
		j++
		if n%2 == 0 {
			s.i = j
			return true
		}
	}
}
