package core

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Defaults of a Receiver's zero fields.
const (
	defaultPublishTimeout = 10 * time.Second
	defaultSpillTimeout   = 5 * time.Second
	// defaultMaxBodyBytes is used where the platform gives no limit of its
	// own: 32 MiB, Cloud Functions' request limit.
	defaultMaxBodyBytes = 32 << 20
)

// Outcomes, as logged in the "outcome" field of the request's log line.
const (
	outcomeAccepted = "accepted"
	outcomeSpilled  = "spilled"
	outcomeRejected = "rejected" // 4xx: the request was refused
	outcomeError    = "error"    // 5xx: we, the queue or the configuration failed
)

// SpillPrefix is where a verified body goes when the queue is down, and
// where Replay looks for it.
const SpillPrefix = "spill/"

// Request is a webhook request in platform-neutral form.
type Request struct {
	Method string
	// Headers maps names in any letter case to their values.
	Headers map[string][]string
	// Body is the raw body as it arrived (already base64-decoded where the
	// platform encoded it).
	Body []byte
	// RequestID is the platform's id for the request, for the log line.
	RequestID string
	// SourceIP is the caller's address, for the optional source allowlist.
	SourceIP string
}

// Response is the answer to give, in platform-neutral form.
type Response struct {
	Status  int
	Headers map[string]string
	Body    []byte
	// BodyReleased reports that nothing the Receiver started still reads
	// the Request's Body, so the platform may reuse its buffer: the request
	// was refused (4xx) or the queue accepted it. It is false after a 5xx
	// or a spill, when a queue call that timed out may still be running
	// with the body. Sinks must not keep a message's body after Publish
	// returns.
	BodyReleased bool
}

// Receiver applies docs/spec.md to one request: method, size, signature, message,
// publish with a bounded timeout, the answer, and one log line. It is safe for
// concurrent use once configured.
type Receiver struct {
	// Verifier checks signatures; nil means no secret is configured and every
	// request fails closed with 500.
	Verifier *Verifier
	// Sink is the queue; nil fails closed with 500.
	Sink Sink
	// Spill, if set, keeps verified bodies under SpillPrefix when the queue
	// fails, so that the event is answered 200 and replayed later.
	Spill ObjectStore
	// Allow, if set, refuses (403) callers whose SourceIP it rejects.
	Allow *Allowlist
	// SourceAddr, if set, tells ServeHTTP the caller's address for the
	// allowlist; nil, or an empty answer, means the connection's peer.
	// Platforms behind a front end that names the caller in a header (Cloud
	// Functions: X-Forwarded-For) set it, since RemoteAddr is then the front
	// end.
	SourceAddr func(*http.Request) string
	// Err, if set, is a configuration error: every request gets 500.
	Err error
	// MaxBodyBytes caps the body; zero means 32 MiB, Cloud Functions' limit.
	MaxBodyBytes int64
	// PublishTimeout bounds the queue call; zero means 10 s.
	PublishTimeout time.Duration
	// SpillTimeout bounds the spill write; zero means 5 s.
	SpillTimeout time.Duration
	// Logger gets one line per request; nil means slog.Default().
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Handle answers one request. It never panics on bad input and never answers
// 2xx unless the queue (or the spill bucket) accepted the event.
func (r *Receiver) Handle(ctx context.Context, req *Request) Response {
	now := r.now()
	start := time.Now()
	res := r.handle(ctx, req, now)
	r.log(ctx, req, res, time.Since(start))
	res.response.BodyReleased = res.response.Status/100 == 4 || res.outcome == outcomeAccepted
	return res.response
}

type result struct {
	response  Response
	outcome   string
	eventType string
	messageID string
	err       error
}

// Reject answers a request that the platform could not turn into a Request
// (an event it cannot read, a body that is not valid base64) with err's status
// and logs its line, as Handle does. A receiver that is not configured still
// answers 500 first: it fails closed whatever arrives.
func (r *Receiver) Reject(ctx context.Context, req *Request, err error) Response {
	if cerr := r.configErr(); cerr != nil {
		err = cerr
	}
	res := result{response: errorResponse(err), outcome: outcomeOf(err), err: err}
	r.log(ctx, req, res, 0)
	// No queue call was made: nothing but the caller holds the body.
	res.response.BodyReleased = true
	return res.response
}

// configErr is why the receiver cannot take any request, or nil.
func (r *Receiver) configErr() error {
	switch {
	case r.Err != nil && errors.Is(r.Err, ErrConfig):
		return r.Err // already says "configuration unusable"
	case r.Err != nil:
		return fmt.Errorf("%w: %w", ErrConfig, r.Err)
	case r.Verifier == nil:
		return ErrNoSecret
	case r.Sink == nil:
		return fmt.Errorf("%w: no queue configured", ErrConfig)
	}
	return nil
}

func (r *Receiver) handle(ctx context.Context, req *Request, now time.Time) result {
	fail := func(err error) result {
		return result{response: errorResponse(err), outcome: outcomeOf(err), err: err}
	}
	if err := r.configErr(); err != nil {
		return fail(err)
	}
	if req.Method != http.MethodPost {
		return fail(errMethodNotAllowed)
	}
	if r.Allow != nil && !r.Allow.Allows(req.SourceIP) {
		return fail(errForbiddenSource)
	}
	if max := r.maxBody(); int64(len(req.Body)) > max {
		return fail(fmt.Errorf("%w: limit is %d bytes", errBodyTooLarge, max))
	}
	header, err := headerValue(req.Headers, SignatureHeader)
	if err != nil {
		return fail(err)
	}
	sig, err := r.Verifier.Verify(req.Body, header)
	if err != nil {
		return fail(err)
	}
	msg := NewMessage(req.Body, sig, now)
	id, err := r.publish(ctx, msg)
	if err == nil {
		return result{response: jsonResponse(http.StatusOK, acceptedBody{"accepted", id}), outcome: outcomeAccepted, eventType: msg.EventType, messageID: id}
	}
	if errors.Is(err, ErrPublish) && r.Spill != nil {
		key, serr := r.spill(ctx, msg)
		if serr == nil {
			return result{response: jsonResponse(http.StatusOK, acceptedBody{"spilled", key}), outcome: outcomeSpilled, eventType: msg.EventType, messageID: key, err: err}
		}
		err = fmt.Errorf("%w; spill failed too: %w", err, serr)
	}
	res := fail(err)
	res.eventType = msg.EventType
	return res
}

// publish calls the sink under the publish timeout. The call runs apart so
// that a sink which ignores its context still cannot hold the answer past
// the timeout: the platform would otherwise kill us with no answer at all.
func (r *Receiver) publish(ctx context.Context, m *Message) (string, error) {
	timeout := r.PublishTimeout
	if timeout <= 0 {
		timeout = defaultPublishTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type done struct {
		id  string
		err error
	}
	ch := make(chan done, 1)
	go func() {
		id, err := r.Sink.Publish(ctx, m)
		ch <- done{id, err}
	}()
	select {
	case d := <-ch:
		switch {
		case d.err == nil && d.id == "":
			return "", errNoMessageID
		case d.err == nil:
			return d.id, nil
		case errors.Is(d.err, errNeedsClaimCheck), errors.Is(d.err, ErrPublish):
			return "", d.err
		default:
			return "", fmt.Errorf("%w: %w", ErrPublish, d.err)
		}
	case <-ctx.Done():
		return "", fmt.Errorf("%w: no answer within %s: %w", ErrPublish, timeout, ctx.Err())
	}
}

func (r *Receiver) spill(ctx context.Context, m *Message) (string, error) {
	timeout := r.SpillTimeout
	if timeout <= 0 {
		timeout = defaultSpillTimeout
	}
	// The request's own context may be what timed out; the spill gets a
	// fresh budget but keeps the request's values.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	key := objectKey(SpillPrefix, m)
	ch := make(chan error, 1)
	go func() { ch <- r.Spill.Put(ctx, key, m.Body, m.Attributes()) }()
	select {
	case err := <-ch:
		return key, err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (r *Receiver) maxBody() int64 {
	if r.MaxBodyBytes > 0 {
		return r.MaxBodyBytes
	}
	return defaultMaxBodyBytes
}

func (r *Receiver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Receiver) log(ctx context.Context, req *Request, res result, d time.Duration) {
	l := r.Logger
	if l == nil {
		l = slog.Default()
	}
	level := slog.LevelInfo
	switch {
	case res.response.Status >= 500 || res.outcome == outcomeSpilled:
		level = slog.LevelError
	case res.response.Status >= 400:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("request_id", req.RequestID),
		slog.String("event_type", res.eventType),
		slog.String("outcome", res.outcome),
		slog.Int("status", res.response.Status),
		slog.Int("bytes", len(req.Body)),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
	}
	if res.messageID != "" {
		attrs = append(attrs, slog.String("message_id", res.messageID))
	}
	if res.err != nil {
		attrs = append(attrs, slog.String("error", res.err.Error()))
	}
	l.LogAttrs(ctx, level, "webhook", attrs...)
}

func outcomeOf(err error) string {
	if statusOf(err) >= 500 {
		return outcomeError
	}
	return outcomeRejected
}

type acceptedBody struct {
	Status    string `json:"status"`
	MessageID string `json:"message_id"`
}

type errorBody struct {
	Error string `json:"error"`
}

// errorResponse is the answer docs/spec.md §2 gives for err: its status and {"error": …}.
// Signature errors keep their exact text; failures on our side say what
// failed without internal detail (that goes to the log line).
func errorResponse(err error) Response {
	if err == nil {
		// Not a failure anyone described; never a 2xx.
		err = errors.New("internal error: no error given")
	}
	status := statusOf(err)
	msg := err.Error()
	switch {
	case errors.Is(err, ErrNoSecret):
		msg = ErrNoSecret.Error()
	case errors.Is(err, ErrConfig):
		msg = ErrConfig.Error()
	case errors.Is(err, ErrPublish):
		msg = ErrPublish.Error() + ": retry later"
	case status == http.StatusInternalServerError:
		msg = "internal error"
	}
	res := jsonResponse(status, errorBody{msg})
	if status == http.StatusMethodNotAllowed {
		res.Headers["Allow"] = http.MethodPost
	}
	return res
}

func jsonResponse(status int, v any) Response {
	b, _ := json.Marshal(v) // cannot fail: structs of strings
	return Response{Status: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: b}
}

// headerValue returns the value of header name from h, matching names in any
// letter case. Repeats of one value are one value (platforms copy headers
// between their single- and multi-value maps); two different values are
// ErrConflictingSignature for the signature header. A missing signature
// header is ErrMissingSignature.
func headerValue(h map[string][]string, name string) (string, error) {
	var val string
	found := false
	for k, vs := range h {
		if !strings.EqualFold(k, name) {
			continue
		}
		for _, v := range vs {
			if !found {
				val, found = v, true
			} else if v != val {
				return "", ErrConflictingSignature
			}
		}
	}
	if !found || strings.TrimSpace(val) == "" {
		return "", ErrMissingSignature
	}
	return val, nil
}

// ServeHTTP adapts the Receiver to net/http: it refuses other methods before
// reading, reads the body under the size cap, and writes the Response.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	req := &Request{
		Method:    hr.Method,
		Headers:   hr.Header,
		RequestID: requestID(hr.Header.Get("X-Request-Id")),
	}
	if r.SourceAddr != nil {
		req.SourceIP = r.SourceAddr(hr)
	}
	if req.SourceIP == "" {
		req.SourceIP = remoteIP(hr)
	}
	if req.RequestID == "" {
		req.RequestID = newRequestID()
	}
	if hr.Method == http.MethodPost {
		body, err := readBody(w, hr, r.maxBody())
		if err != nil {
			writeResponse(w, r.Reject(hr.Context(), req, err))
			return
		}
		req.Body = body
	}
	writeResponse(w, r.Handle(hr.Context(), req))
}

// errNoMessageID is a queue that answered without an error and without a
// message id: not proof that it holds the message.
var errNoMessageID = fmt.Errorf("%w: queue returned no message id", ErrPublish)

// readBody reads the body under the size cap with the standard library.
// A hand-written reader that sized its buffer from Content-Length was
// measured against it (BenchmarkReadBody, on a busy 2-core machine): it
// saved 1 KiB and four allocations at 1 KiB bodies, but at 6 MiB it
// allocated 27 MB against io.ReadAll's 15 MB and took about four times as
// long, so it went. io.ReadAll also reserves nothing for a length that is
// only announced, which a client that announces 32 MiB and stalls must not
// get.
func readBody(w http.ResponseWriter, hr *http.Request, max int64) ([]byte, error) {
	if hr.ContentLength > max {
		return nil, fmt.Errorf("%w: limit is %d bytes", errBodyTooLarge, max)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, hr.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: limit is %d bytes", errBodyTooLarge, max)
		}
		return nil, fmt.Errorf("%w: reading body: %w", ErrBodyRead, err)
	}
	return body, nil
}

func writeResponse(w http.ResponseWriter, res Response) {
	for k, v := range res.Headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(res.Body)))
	w.WriteHeader(res.Status)
	w.Write(res.Body)
}

// remoteIP is the address of the connection's peer, without the port.
// net/http gives RemoteAddr as host:port; anything else is kept whole.
func remoteIP(hr *http.Request) string {
	host, _, err := net.SplitHostPort(hr.RemoteAddr)
	if err != nil {
		return strings.Trim(hr.RemoteAddr, "[]")
	}
	return host
}

// requestID keeps a caller's X-Request-Id for the log line only if it is a
// plausible id: at most 128 printable ASCII characters. Anything else is
// replaced by a fresh id, so a client cannot fill the log with its text.
func requestID(h string) string {
	if len(h) > 128 {
		return ""
	}
	for i := 0; i < len(h); i++ {
		if h[i] < 0x21 || h[i] > 0x7e {
			return ""
		}
	}
	return h
}

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
