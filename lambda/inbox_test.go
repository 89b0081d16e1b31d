package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/logging"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/stretchr/testify/require"
)

// s3Event is a direct S3 notification for key, URL-encoded as S3 sends it.
func s3Event(bucket, key string) []byte {
	b, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "eventTime": "2026-11-27T18:00:00.000Z",
		"s3": map[string]any{"bucket": map[string]any{"name": bucket}, "object": map[string]any{"key": url.QueryEscape(key)}},
	}}})
	return b
}

// TestInboxDirectS3 drives the handler with direct S3 events (no queue in
// between): the time of receipt when its metadata is missing or garbled,
// failures of the bucket and of the queue returned as errors (so that
// Lambda retries) with the object kept, and a notification for another
// bucket refused.
func TestInboxDirectS3(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	moto := testenv.StartMoto(t)
	testenv.AWSEnv(t, moto.Endpoint)
	motoAddr := strings.TrimPrefix(moto.Endpoint, "http://")
	ctx := context.Background()
	direct, err := AWSConfigFromEnv(os.Getenv)
	require.NoError(t, err)
	c := awsClients{cfg: direct, sqs: sqs.NewFromConfig(direct)}
	c.s3 = s3.NewFromConfig(direct, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := c.bucket(t, "inbox-direct")
	q := c.queue(t, "inbox-direct-events", nil)
	sqsProxy, s3Proxy := testenv.StartProxy(t, motoAddr), testenv.StartProxy(t, motoAddr)
	t.Setenv("AWS_ENDPOINT_URL_SQS", "http://"+sqsProxy.Addr)
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://"+s3Proxy.Addr)
	var logs bytes.Buffer
	env := map[string]string{envvar.Secret: testSecret, envvar.SQSQueueURL: q, envvar.ClaimCheckBucket: bucket, envvar.PublishTimeout: "2s"}
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return os.Getenv(k) // the AWS SDK's variables, the proxies' endpoints
	}
	h := New(ctx, Options{Getenv: getenv, Logger: logging.New(&logs, 0)})
	require.NotNil(t, h.Inbox)

	put := func(id string, body []byte, meta map[string]string) string {
		key := InboxPrefix + id
		_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body), Metadata: meta})
		require.NoError(t, err)
		return key
	}
	exists := func(key string) bool {
		_, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		return err == nil
	}
	body := func(tag string) []byte {
		return []byte(`{"type":"post_call_transcription","data":{"conversation_id":"` + tag + `"}}`)
	}
	now := time.Now()

	t.Run("received-at missing or unreadable: LastModified", func(t *testing.T) {
		for id, meta := range map[string]map[string]string{
			"no-received-at":      {},
			"garbled-received-at": {"received-at": "yesterday"},
		} {
			b := body(id)
			meta["elevenlabs-signature"] = core.Sign(testSecret, now, b)
			key := put(id, b, meta)
			_, err := h.Invoke(ctx, s3Event(bucket, key))
			require.NoError(t, err)
			require.False(t, exists(key))
		}
		msgs := c.receive(t, q)
		require.Len(t, msgs, 2)
		for _, m := range msgs {
			at, err := time.Parse(time.RFC3339, *m.MessageAttributes[core.AttrReceivedAt].StringValue)
			require.NoError(t, err)
			require.WithinDuration(t, now, at, time.Minute, "received_at is the object's LastModified")
		}
		// Signed two hours before LastModified: stale at receipt.
		b := body("stale-by-last-modified")
		key := put("stale-lm", b, map[string]string{"elevenlabs-signature": core.Sign(testSecret, now.Add(-2*time.Hour), b)})
		_, err := h.Invoke(ctx, s3Event(bucket, key))
		require.NoError(t, err)
		require.False(t, exists(key))
		require.True(t, exists(RejectedPrefix+time.Now().UTC().Format("2006/01/02/")+"stale-lm"))
	})

	t.Run("bucket down: error, object kept, then processed", func(t *testing.T) {
		b := body("s3-down")
		key := put("s3-down", b, map[string]string{"elevenlabs-signature": core.Sign(testSecret, now, b),
			"received-at": strconv.FormatInt(now.UnixMilli(), 10)})
		s3Proxy.Down()
		_, err := h.Invoke(ctx, s3Event(bucket, key))
		s3Proxy.Up()
		require.ErrorContains(t, err, "s3 GetObject")
		require.True(t, exists(key))
		require.Empty(t, c.receive(t, q))
		_, err = h.Invoke(ctx, s3Event(bucket, key))
		require.NoError(t, err)
		require.False(t, exists(key))
		require.Len(t, c.receive(t, q), 1)
	})

	t.Run("queue down: error, object kept, nothing moved", func(t *testing.T) {
		b := body("sqs-down")
		key := put("sqs-down", b, map[string]string{"elevenlabs-signature": core.Sign(testSecret, now, b),
			"received-at": strconv.FormatInt(now.UnixMilli(), 10)})
		sqsProxy.Down()
		_, err := h.Invoke(ctx, s3Event(bucket, key))
		sqsProxy.Up()
		require.ErrorIs(t, err, core.ErrPublish)
		require.True(t, exists(key))
	})

	t.Run("another bucket", func(t *testing.T) {
		_, err := h.Invoke(ctx, s3Event("someone-elses", "inbox/x"))
		require.ErrorContains(t, err, "this function's bucket is inbox-direct")
	})

	require.NotContains(t, logs.String(), testSecret)
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		require.NotContains(t, line, "v0=", "a signature in the log")
	}
}

func TestCopySourceAndKeys(t *testing.T) {
	tests := []struct{ raw, key, source string }{
		{"inbox%2Fabc-123", "inbox/abc-123", "b/inbox/abc-123"},
		{"inbox/odd+key%2B1", "inbox/odd key+1", "b/inbox/odd%20key%2B1"},
		{"inbox%2F%C3%BC%26%25", "inbox/ü&%", "b/inbox/%C3%BC%26%25"},
	}
	for _, tt := range tests {
		key, err := inboxKey(tt.raw)
		require.NoError(t, err)
		require.Equal(t, tt.key, key)
		require.Equal(t, tt.source, copySource("b", key))
	}
	_, err := inboxKey("inbox%2")
	require.Error(t, err)
}

func TestReceivedTime(t *testing.T) {
	lm := time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC)
	require.Equal(t, time.UnixMilli(1764266400123).UTC(), receivedTime("1764266400123", lm))
	for _, bad := range []string{"", "x", "-5", "0", "1e12", "99999999999999999999"} {
		require.Equal(t, lm, receivedTime(bad, lm), bad)
	}
}
