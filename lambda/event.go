package lambda

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/jsonscan"
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
	// shapeV1 is the API Gateway REST proxy event (and HTTP API payload 1.0).
	// The zero shape is none: a decode that failed.
	shapeV1 shape = iota + 1
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

// field is one field the fast path reads, as a bit of fastDecoder.seen: a
// field that comes twice goes to the slow path, since encoding/json merges
// repeated keys.
type field uint16

const (
	fVersion field = 1 << iota
	fHTTPMethod
	fResource
	fHeaders
	fMultiValueHeaders
	fBody
	fIsBase64Encoded
	fRequestContext
	fRequestID
	fContextMethod
	fHTTP
	fV2Method
	fV2SourceIP
	fIdentity
	fV1SourceIP
)

// fastDecoder holds decodeFast's state: the scanner, the event being read,
// and the fields that decide its shape.
type fastDecoder struct {
	s                   *jsonscan.Scanner
	ev                  httpEvent
	seen                field
	version, resource   string
	v1Method, ctxMethod string
	v2Method            string
	v2SourceIP          string
	v1SourceIP          string
}

// once reports whether f is read for the first time.
func (d *fastDecoder) once(f field) bool {
	if d.seen&f != 0 {
		return false
	}
	d.seen |= f
	return true
}

// decodeFast is decodeEvent's fast path. ok is false for anything it leaves
// to encoding/json.
func decodeFast(payload []byte) (ev httpEvent, ok bool) {
	// encoding/json replaces invalid UTF-8 with U+FFFD; rather than mimic
	// that, such (never legitimate) events take the slow path. utf8.Valid
	// runs at several GB/s on ASCII, a small part of the HMAC's cost.
	if !utf8.Valid(payload) {
		return ev, false
	}
	d := fastDecoder{s: jsonscan.NewScanner(payload)}
	if !d.s.Object(d.top) || !d.s.End() {
		d.ev.release()
		return httpEvent{}, false
	}
	ev = d.ev
	switch {
	case d.version == "2.0":
		ev.shape, ev.method, ev.sourceIP = shapeV2, d.v2Method, d.v2SourceIP
		ev.multiValueHeaders = nil // not a field of payload 2.0
	case d.v1Method != "" || d.resource != "":
		ev.shape, ev.method, ev.sourceIP = shapeV1, d.v1Method, d.v1SourceIP
		if ev.method == "" {
			ev.method = d.ctxMethod
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

// top reads a member of the event object.
func (d *fastDecoder) top(key string) bool {
	s := d.s
	switch key {
	case "version":
		return d.once(fVersion) && s.StringOrNull(&d.version)
	case "httpMethod":
		return d.once(fHTTPMethod) && s.StringOrNull(&d.v1Method)
	case "resource":
		return d.once(fResource) && s.StringOrNull(&d.resource)
	case "headers":
		return d.once(fHeaders) && stringMap(s, &d.ev.headers)
	case "multiValueHeaders":
		return d.once(fMultiValueHeaders) && stringsMap(s, &d.ev.multiValueHeaders)
	case "body":
		return d.once(fBody) && body(s, &d.ev.body, &d.ev.buf)
	case "isBase64Encoded":
		return d.once(fIsBase64Encoded) && s.BoolOrNull(&d.ev.isBase64Encoded)
	case "requestContext":
		return d.once(fRequestContext) && s.ObjectOrNull(d.context)
	}
	return !foldsToAny(key, topFields) && s.Skip()
}

// context reads a member of requestContext.
func (d *fastDecoder) context(key string) bool {
	s := d.s
	switch key {
	case "requestId":
		return d.once(fRequestID) && s.StringOrNull(&d.ev.requestID)
	case "httpMethod":
		return d.once(fContextMethod) && s.StringOrNull(&d.ctxMethod)
	case "http":
		return d.once(fHTTP) && s.ObjectOrNull(d.http)
	case "identity":
		return d.once(fIdentity) && s.ObjectOrNull(d.identity)
	}
	return !foldsToAny(key, contextFields) && s.Skip()
}

// http reads a member of requestContext.http (payload 2.0).
func (d *fastDecoder) http(key string) bool {
	switch key {
	case "method":
		return d.once(fV2Method) && d.s.StringOrNull(&d.v2Method)
	case "sourceIp":
		return d.once(fV2SourceIP) && d.s.StringOrNull(&d.v2SourceIP)
	}
	return !foldsToAny(key, httpFields) && d.s.Skip()
}

// identity reads a member of requestContext.identity (payload 1.0).
func (d *fastDecoder) identity(key string) bool {
	if key == "sourceIp" {
		return d.once(fV1SourceIP) && d.s.StringOrNull(&d.v1SourceIP)
	}
	return !foldsToAny(key, identityField) && d.s.Skip()
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

// stringMap reads an object of strings (headers). A null value inside is
// left to encoding/json; a repeated key keeps its last value, as there.
func stringMap(s *jsonscan.Scanner, into *map[string]string) bool {
	if s.Peek() == 'n' {
		*into = nil
		return s.Literal("null")
	}
	m := make(map[string]string)
	*into = m
	return s.Object(func(key string) bool {
		v, ok := s.String()
		m[key] = v
		return ok
	})
}

// stringsMap reads an object of string arrays (multiValueHeaders).
func stringsMap(s *jsonscan.Scanner, into *map[string][]string) bool {
	if s.Peek() == 'n' {
		*into = nil
		return s.Literal("null")
	}
	m := make(map[string][]string)
	*into = m
	return s.Object(func(key string) bool {
		vs := []string{}
		ok := s.Array(func() bool {
			v, ok := s.String()
			vs = append(vs, v)
			return ok
		})
		m[key] = vs
		return ok
	})
}

// body reads the body string into a pooled buffer, never into the event:
// the runtime reuses the event's memory for the next invocation.
func body(s *jsonscan.Scanner, into *[]byte, buf **[]byte) bool {
	if s.Peek() == 'n' {
		*into = nil
		return s.Literal("null")
	}
	if s.Peek() != '"' {
		return false
	}
	p := bodyBuffer(s.Remaining()) // the body cannot be longer than the rest
	b, ok := s.AppendString(*p)
	*p, *into, *buf = b, b, p
	return ok
}
