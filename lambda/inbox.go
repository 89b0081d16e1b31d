package lambda

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/elevenrelay/elevenrelay/core"
)

// The storage-first endpoint's layout of the bucket (docs/spec.md §6): API
// Gateway stores each request as inbox/<request id> with the signature
// header and the time of receipt as metadata; objects that fail
// verification move to rejected/<yyyy>/<mm>/<dd>/<request id>.
const (
	InboxPrefix    = "inbox/"
	RejectedPrefix = "rejected/"

	metaSignature  = "elevenlabs-signature"
	metaReceivedAt = "received-at" // Unix milliseconds
	metaRejection  = "rejection"
)

// Outcomes of an inbox object, as logged in the "outcome" field: the direct
// path's words, and "gone" for a notification of an object no longer there
// (processed already: S3 and SQS deliver notifications at least once).
const (
	outcomeAccepted = "accepted"
	outcomeRejected = "rejected" // the alarm on rejected objects counts these
	outcomeError    = "error"
	outcomeGone     = "gone"
)

// defaultInboxTimeout bounds each queue call when none is configured, as
// the receiver's publish timeout does.
const defaultInboxTimeout = 10 * time.Second

// s3InboxAPI is the part of the S3 client that Inbox uses.
type s3InboxAPI interface {
	S3GetObjectAPI
	s3.ListObjectsV2APIClient
	CopyObject(ctx context.Context, in *s3.CopyObjectInput, opts ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Inbox verifies the objects the storage-first endpoint stored and queues
// them as the direct path would have: the same message, with received_at
// the time API Gateway received the request.
type Inbox struct {
	client   s3InboxAPI
	bucket   string
	verifier *core.Verifier
	queue    *core.ClaimCheck
	timeout  time.Duration
	log      *slog.Logger
}

// newInbox returns the inbox of bucket (the claim-check bucket), verifying
// with v and publishing to queue within timeout per queue call.
func newInbox(client s3InboxAPI, bucket string, v *core.Verifier, queue *core.ClaimCheck, timeout time.Duration, log *slog.Logger) *Inbox {
	if timeout <= 0 {
		timeout = defaultInboxTimeout
	}
	if log == nil {
		log = slog.Default()
	}
	return &Inbox{client: client, bucket: bucket, verifier: v, queue: queue, timeout: timeout, log: log}
}

// Process verifies the object at key and queues its message, or moves it to
// rejected/ when its signature fails. Both end with the inbox object
// deleted, and return nil; so does an object that is already gone. An error
// means a bucket or queue call failed (or the function has no secret): the
// object stays in inbox/ for a retry.
func (in *Inbox) Process(ctx context.Context, bucket, key string) error {
	start := time.Now()
	line := inboxLine{key: key, requestID: strings.TrimPrefix(key, InboxPrefix)}
	err := in.process(ctx, bucket, key, &line)
	line.err = err
	if err != nil {
		line.outcome = outcomeError
	}
	in.logLine(ctx, line, time.Since(start))
	return err
}

// ProcessOlder processes, through Process, every inbox object last
// modified before cutoff: those whose notification was lost or ran out of
// retries. It goes on past failures and returns how many objects it found,
// how many failed (and stay in inbox/), and the first failure.
func (in *Inbox) ProcessOlder(ctx context.Context, cutoff time.Time) (found, failed int, err error) {
	keys, err := in.older(ctx, cutoff)
	if err != nil {
		return 0, 0, err
	}
	for _, key := range keys {
		if perr := in.Process(ctx, in.bucket, key); perr != nil {
			failed++
			if err == nil {
				err = perr
			}
			if ctx.Err() != nil {
				break
			}
		}
	}
	return len(keys), failed, err
}

// CountOlder is how many objects ProcessOlder would process.
func (in *Inbox) CountOlder(ctx context.Context, cutoff time.Time) (int, error) {
	keys, err := in.older(ctx, cutoff)
	return len(keys), err
}

func (in *Inbox) older(ctx context.Context, cutoff time.Time) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(in.client, &s3.ListObjectsV2Input{Bucket: aws.String(in.bucket), Prefix: aws.String(InboxPrefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3 ListObjectsV2 s3://%s/%s: %w", in.bucket, InboxPrefix, err)
		}
		for _, o := range page.Contents {
			if aws.ToTime(o.LastModified).Before(cutoff) {
				keys = append(keys, aws.ToString(o.Key))
			}
		}
	}
	return keys, nil
}

// inboxLine is what the one log line per object says.
type inboxLine struct {
	key, requestID, eventType, outcome, messageID, movedTo string
	bytes                                                  int64
	rejection                                              error
	err                                                    error
}

func (in *Inbox) process(ctx context.Context, bucket, key string, line *inboxLine) error {
	if bucket != in.bucket {
		return fmt.Errorf("notification for s3://%s/%s, but this function's bucket is %s", bucket, key, in.bucket)
	}
	if !strings.HasPrefix(key, InboxPrefix) {
		return fmt.Errorf("key %q is not under %s", key, InboxPrefix)
	}
	obj, err := in.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(in.bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			line.outcome = outcomeGone
			return nil
		}
		return fmt.Errorf("s3 GetObject s3://%s/%s: %w", in.bucket, key, err)
	}
	defer obj.Body.Close()
	meta := lowerKeys(obj.Metadata)
	receivedAt := receivedTime(meta[metaReceivedAt], aws.ToTime(obj.LastModified))
	etag := aws.ToString(obj.ETag)

	// The bytes are kept only when the body may fit in a queue message;
	// anything larger is claim-checked by a copy and never held.
	var keep *boundedBuffer
	r := &readErrors{r: obj.Body}
	if size := aws.ToInt64(obj.ContentLength); size >= 0 && size <= int64(in.queue.Limit) {
		keep = &boundedBuffer{b: make([]byte, 0, size), max: in.queue.Limit}
		r.tee = keep
	}
	m, n, err := in.verifier.VerifyStream(r, meta[metaSignature], receivedAt)
	line.bytes = n
	if err != nil {
		if r.err != nil || errors.Is(err, core.ErrNoSecret) {
			// Not the request's fault: S3 broke off, or we have no secret.
			return err
		}
		line.rejection = err
		return in.reject(ctx, key, etag, meta, obj.ContentType, receivedAt, err, line)
	}
	line.eventType = m.EventType

	// PUBLISH_TIMEOUT bounds the queue call. A claim check also makes a
	// server-side copy first, whose time grows with the object: it gets one
	// more second per 8 MiB, so that a timeout lowered for the direct path
	// cannot fail every large object on every retry. The invocation's own
	// deadline (ctx) still bounds both.
	budget := in.timeout
	inline := keep != nil && !keep.over && int64(len(keep.b)) == n
	if !inline {
		budget += time.Duration(1+n/(8<<20)) * time.Second
	}
	pctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	var id string
	if inline {
		m.Body = keep.b
		id, err = in.queue.Publish(pctx, m)
	} else {
		id, err = in.queue.PublishCopy(pctx, m, n, func(ctx context.Context, dst string, attrs map[string]string) error {
			return in.copy(ctx, key, etag, dst, s3Metadata(attrs), aws.String("application/json"))
		})
	}
	if err != nil {
		return err
	}
	line.messageID = id
	if err := in.delete(ctx, key); err != nil {
		return fmt.Errorf("queued as %s, but %w (a retry queues it again; consumers deduplicate on content_sha256)", id, err)
	}
	line.outcome = outcomeAccepted
	return nil
}

// reject moves the object to rejected/, dated by its receipt, with the
// reason beside the metadata it came with.
func (in *Inbox) reject(ctx context.Context, key, etag string, meta map[string]string, contentType *string, receivedAt time.Time, why error, line *inboxLine) error {
	dst := RejectedPrefix + receivedAt.UTC().Format("2006/01/02/") + strings.TrimPrefix(key, InboxPrefix)
	newMeta := rejectedMetadata(meta, why)
	if err := in.copy(ctx, key, etag, dst, newMeta, contentType); err != nil {
		return err
	}
	if err := in.delete(ctx, key); err != nil {
		return fmt.Errorf("copied to %s, but %w", dst, err)
	}
	line.outcome, line.movedTo = outcomeRejected, dst
	return nil
}

// maxUserMetadata is S3's limit on user-defined metadata: the bytes of
// every x-amz-meta- name and value together.
const maxUserMetadata = 2048

// rejectedMetadata is the rejected copy's metadata: what the object came
// with plus the reason. A signature header near the 2 KB limit fits the
// stored object but not the copy with the reason added, and a copy S3
// refuses would fail the record for ever; so when everything does not
// fit, the copy keeps only the reason and the time of receipt and says
// that the header was dropped.
func rejectedMetadata(meta map[string]string, why error) map[string]string {
	out := make(map[string]string, len(meta)+1)
	size := 0
	for k, v := range meta {
		out[k] = v
		size += len(k) + len(v)
	}
	out[metaRejection] = why.Error()
	size += len(metaRejection) + len(out[metaRejection])
	if size <= maxUserMetadata {
		return out
	}
	return map[string]string{
		metaReceivedAt: meta[metaReceivedAt],
		metaRejection:  why.Error() + fmt.Sprintf(" (signature header of %d bytes not kept: over S3's metadata limit)", len(meta[metaSignature])),
	}
}

// copy copies the inbox object at key, as long as it is still the version
// that was verified, to dst in the same bucket, with meta replacing its
// metadata.
func (in *Inbox) copy(ctx context.Context, key, etag, dst string, meta map[string]string, contentType *string) error {
	in2 := &s3.CopyObjectInput{
		Bucket:            aws.String(in.bucket),
		Key:               aws.String(dst),
		CopySource:        aws.String(copySource(in.bucket, key)),
		Metadata:          meta,
		MetadataDirective: types.MetadataDirectiveReplace,
		ContentType:       contentType,
	}
	if etag != "" {
		in2.CopySourceIfMatch = aws.String(etag)
	}
	if _, err := in.client.CopyObject(ctx, in2); err != nil {
		return fmt.Errorf("s3 CopyObject s3://%s/%s to %s: %w", in.bucket, key, dst, err)
	}
	return nil
}

func (in *Inbox) delete(ctx context.Context, key string) error {
	if _, err := in.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(in.bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("s3 DeleteObject s3://%s/%s: %w", in.bucket, key, err)
	}
	return nil
}

// logLine writes the object's one line. A rejection is a warning (the
// alarm counts these lines: outcome "rejected" with an inbox/ key), a
// failure an error.
func (in *Inbox) logLine(ctx context.Context, l inboxLine, d time.Duration) {
	level := slog.LevelInfo
	attrs := []slog.Attr{
		slog.String("request_id", l.requestID),
		slog.String("key", l.key),
		slog.String("event_type", l.eventType),
		slog.String("outcome", l.outcome),
		slog.Int64("bytes", l.bytes),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
	}
	if l.messageID != "" {
		attrs = append(attrs, slog.String("message_id", l.messageID))
	}
	if l.movedTo != "" {
		attrs = append(attrs, slog.String("moved_to", l.movedTo))
	}
	switch {
	case l.err != nil:
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", l.err.Error()))
	case l.rejection != nil:
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", l.rejection.Error()))
	}
	in.log.LogAttrs(ctx, level, "inbox", attrs...)
}

// receivedTime is the metadata's Unix milliseconds, or lastModified when
// the metadata is missing or not a plausible time.
func receivedTime(ms string, lastModified time.Time) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(ms), 10, 64)
	if err != nil || n <= 0 || n > 1<<53 {
		return lastModified
	}
	return time.UnixMilli(n).UTC()
}

// lowerKeys gives metadata names in lower case: S3 does, but some
// S3-compatible stores keep the case the writer used.
func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// copySource is CopyObject's "bucket/key", with every character of the key
// that is not unreserved percent-encoded: a '+' left bare would be read as
// a space.
func copySource(bucket, key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
	}
	return bucket + "/" + strings.Join(segs, "/")
}

// isNotFound reports an object that does not exist (GetObject's NoSuchKey,
// or a bare 404).
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return true
	}
	var nf *types.NotFound
	if errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound")
}

// boundedBuffer keeps what is written to it up to max bytes, then stops
// keeping (and says so) without failing the writer.
type boundedBuffer struct {
	b    []byte
	max  int
	over bool
}

func (w *boundedBuffer) Write(p []byte) (int, error) {
	if !w.over && len(w.b)+len(p) <= w.max {
		w.b = append(w.b, p...)
	} else {
		w.over, w.b = true, nil
	}
	return len(p), nil
}

// readErrors reads the object, copying what it reads to tee if set, and
// remembers a failure to read: VerifyStream's other errors are the
// request's (rejected), a read error is the bucket's (retried).
type readErrors struct {
	r   io.Reader
	tee *boundedBuffer
	err error
}

func (t *readErrors) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 && t.tee != nil {
		t.tee.Write(p[:n])
	}
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

// inboxKey decodes an S3 event record's object key, which S3 sends
// URL-encoded ('/' as %2F, a space as '+').
func inboxKey(raw string) (string, error) {
	k, err := url.QueryUnescape(raw)
	if err != nil {
		return "", fmt.Errorf("object key %q is not URL-encoded: %w", raw, err)
	}
	return k, nil
}
