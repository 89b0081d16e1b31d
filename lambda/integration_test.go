package lambda

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/logging"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/stretchr/testify/require"
)

// aws holds clients on moto, for the test to arrange and inspect.
type awsClients struct {
	cfg  aws.Config
	sent *sentHeaders
	sqs  *sqs.Client
	s3   *s3.Client
	sm   *secretsmanager.Client
}

func startAWS(t *testing.T) awsClients {
	t.Helper()
	moto := testenv.StartMoto(t)
	testenv.AWSEnv(t, moto.Endpoint)
	cfg, err := config.LoadDefaultConfig(context.Background())
	require.NoError(t, err)
	sent := &sentHeaders{next: cfg.HTTPClient}
	cfg.HTTPClient = sent
	return awsClients{
		cfg:  cfg,
		sent: sent,
		sqs:  sqs.NewFromConfig(cfg),
		s3:   s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		sm:   secretsmanager.NewFromConfig(cfg),
	}
}

func (c awsClients) queue(t *testing.T, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.sqs.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	require.NoError(t, err)
	return *out.QueueUrl
}

func (c awsClients) bucket(t *testing.T, name string) string {
	t.Helper()
	_, err := c.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)})
	require.NoError(t, err)
	return name
}

// receive drains up to max messages, with every attribute.
func (c awsClients) receive(t *testing.T, queueURL string) []types.Message {
	t.Helper()
	out, err := c.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(queueURL),
		MaxNumberOfMessages:         10,
		WaitTimeSeconds:             1,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	require.NoError(t, err)
	return out.Messages
}

// newHandler runs New as the deployed function would, with env as its
// environment, and returns it with its log.
func newHandler(t *testing.T, c awsClients, env map[string]string) (*Handler, *bytes.Buffer) {
	t.Helper()
	logs := &bytes.Buffer{}
	h := New(context.Background(), Options{Getenv: func(k string) string { return env[k] }, Logger: logging.New(logs, -4), AWS: &c.cfg})
	return h, logs
}

type answer struct {
	Status int
	Body   map[string]string
}

func invoke(t *testing.T, h *Handler, event []byte) answer {
	t.Helper()
	out, err := h.Invoke(context.Background(), event)
	require.NoError(t, err)
	var res events.APIGatewayV2HTTPResponse
	require.NoError(t, json.Unmarshal(out, &res))
	a := answer{Status: res.StatusCode}
	require.NoError(t, json.Unmarshal([]byte(res.Body), &a.Body), res.Body)
	return a
}

func signedV2(t *testing.T, secret string, body []byte) []byte {
	return v2Event(t, body, map[string]string{"elevenlabs-signature": core.Sign(secret, time.Now(), body)}, false)
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// wantAttributes checks every attribute of a queued message against the
// body it stands for.
func wantAttributes(t *testing.T, got map[string]types.MessageAttributeValue, body []byte, claimCheck string) {
	t.Helper()
	attrs := map[string]string{}
	for k, v := range got {
		require.Equal(t, "String", aws.ToString(v.DataType), k)
		attrs[k] = aws.ToString(v.StringValue)
	}
	ev := core.NewMessage(body, core.Signature{}, time.Time{})
	received, err := time.Parse(time.RFC3339, attrs[core.AttrReceivedAt])
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), received, time.Minute)
	require.Regexp(t, `^\d+$`, attrs[core.AttrSignatureTimestamp])
	want := map[string]string{
		core.AttrEventType:          ev.EventType,
		core.AttrEventTimestamp:     ev.EventTimestamp,
		core.AttrSignatureTimestamp: attrs[core.AttrSignatureTimestamp],
		core.AttrContentSHA256:      sha(body),
		core.AttrReceivedAt:         attrs[core.AttrReceivedAt],
	}
	if ev.ConversationID != "" {
		want[core.AttrConversationID] = ev.ConversationID
	}
	if claimCheck != "" {
		want[core.AttrClaimCheck] = claimCheck
	}
	require.Equal(t, want, attrs)
}

// wantMetadata checks that the object at key was stored with the message's
// attributes as user metadata, read back from moto. moto's HTTP server
// (werkzeug) drops every header with an underscore in its name, as nginx
// in front of S3-compatible stores does: S3Store names them with "-"
// (x-amz-meta-content-sha256), and Attributes maps them back. The headers
// the SDK sent are checked too, so no name with "_" goes out.
func wantMetadata(t *testing.T, c awsClients, bucket, key string, body []byte) {
	t.Helper()
	h := c.sent.put(key)
	require.NotNil(t, h, "no PUT of %s seen", key)
	for name := range h {
		if strings.HasPrefix(strings.ToLower(name), "x-amz-meta-") {
			require.NotContains(t, name, "_", "metadata header %s would be dropped", name)
		}
	}
	head, err := c.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err)
	attrs := metadataAttributes(head.Metadata)
	require.Equal(t, sha(body), attrs[core.AttrContentSHA256])
	require.Equal(t, core.NewMessage(body, core.Signature{}, time.Time{}).EventType, attrs[core.AttrEventType])
	require.Equal(t, core.NewMessage(body, core.Signature{}, time.Time{}).ConversationID, attrs[core.AttrConversationID])
	require.NotEmpty(t, attrs[core.AttrReceivedAt])
	require.NotEmpty(t, attrs[core.AttrSignatureTimestamp])
}

// sentHeaders records the headers of the requests the SDK sends.
type sentHeaders struct {
	next aws.HTTPClient
	mu   sync.Mutex
	puts map[string]http.Header // by object key
}

func (s *sentHeaders) Do(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut {
		s.mu.Lock()
		if s.puts == nil {
			s.puts = map[string]http.Header{}
		}
		for _, key := range []string{"elevenlabs/", core.SpillPrefix} {
			if i := strings.Index(r.URL.Path, "/"+key); i >= 0 {
				s.puts[r.URL.Path[i+1:]] = r.Header.Clone()
			}
		}
		s.mu.Unlock()
	}
	return s.next.Do(r)
}

func (s *sentHeaders) put(key string) http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puts[key]
}

// sqsEvent is msg as an SQS trigger delivers it to a consumer Lambda.
func sqsEvent(msg types.Message) events.SQSMessage {
	e := events.SQSMessage{MessageId: aws.ToString(msg.MessageId), Body: aws.ToString(msg.Body), MessageAttributes: map[string]events.SQSMessageAttribute{}}
	for k, v := range msg.MessageAttributes {
		e.MessageAttributes[k] = events.SQSMessageAttribute{DataType: aws.ToString(v.DataType), StringValue: v.StringValue}
	}
	return e
}

func TestWithMoto(t *testing.T) {
	c := startAWS(t)
	transcription := []byte(mustRead(t, "../events/bodies/post_call_transcription.json"))
	audio := []byte(mustRead(t, "../events/bodies/post_call_audio.json"))
	ctx := context.Background()

	t.Run("standard queue gets the bytes and every attribute", func(t *testing.T) {
		q := c.queue(t, "standard", nil)
		h, logs := newHandler(t, c, map[string]string{envvar.Secret: testSecret, envvar.SQSQueueURL: q})
		for _, body := range [][]byte{transcription, audio} {
			a := invoke(t, h, signedV2(t, testSecret, body))
			require.Equal(t, 200, a.Status)
			require.Equal(t, "accepted", a.Body["status"])
			msgs := c.receive(t, q)
			require.Len(t, msgs, 1)
			require.Equal(t, a.Body["message_id"], aws.ToString(msgs[0].MessageId))
			require.Equal(t, string(body), aws.ToString(msgs[0].Body))
			wantAttributes(t, msgs[0].MessageAttributes, body, "")
			_, grouped := msgs[0].Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]
			require.False(t, grouped, "a standard queue message has no group id")
		}
		require.Contains(t, logs.String(), `"queue_limit_bytes":1048576`)
		require.NotContains(t, logs.String(), testSecret)
	})

	t.Run("fifo queue: a duplicate body within 5 minutes is one message", func(t *testing.T) {
		q := c.queue(t, "events.fifo", map[string]string{"FifoQueue": "true"})
		h, _ := newHandler(t, c, map[string]string{envvar.Secret: testSecret, envvar.SQSQueueURL: q})
		for range 2 {
			a := invoke(t, h, signedV2(t, testSecret, transcription))
			require.Equal(t, 200, a.Status)
			time.Sleep(1100 * time.Millisecond) // a new signature timestamp: the same body, signed anew
		}
		msgs := c.receive(t, q)
		require.Len(t, msgs, 1)
		require.Equal(t, string(transcription), aws.ToString(msgs[0].Body))
		wantAttributes(t, msgs[0].MessageAttributes, transcription, "")
		require.Equal(t, sha(transcription), msgs[0].Attributes["MessageDeduplicationId"])
		require.Equal(t, core.NewMessage(transcription, core.Signature{}, time.Time{}).ConversationID, msgs[0].Attributes["MessageGroupId"])
	})

	t.Run("claim check through S3 when the body exceeds the queue's own limit", func(t *testing.T) {
		q := c.queue(t, "small", map[string]string{"MaximumMessageSize": "2048"})
		bucket := c.bucket(t, "claim-check")
		h, logs := newHandler(t, c, map[string]string{envvar.Secret: testSecret, envvar.SQSQueueURL: q, envvar.ClaimCheckBucket: bucket})
		require.Contains(t, logs.String(), `"queue_limit_bytes":2048`)
		a := invoke(t, h, signedV2(t, testSecret, transcription))
		require.Equal(t, 200, a.Status)
		msgs := c.receive(t, q)
		require.Len(t, msgs, 1)
		key := "elevenlabs/" + time.Now().UTC().Format("2006/01/02/") + sha(transcription) + ".json"
		url := "s3://" + bucket + "/" + key
		require.JSONEq(t, `{"claim_check":{"url":"`+url+`","size":`+itoa(len(transcription))+`,"sha256":"`+sha(transcription)+`"}}`, aws.ToString(msgs[0].Body))
		wantAttributes(t, msgs[0].MessageAttributes, transcription, url)

		obj, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		require.NoError(t, err)
		stored, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		require.Equal(t, transcription, stored)
		wantMetadata(t, c, bucket, key, transcription)

		got, err := ResolveMessage(ctx, NewS3Fetcher(c.s3), sqsEvent(msgs[0]))
		require.NoError(t, err)
		require.Equal(t, transcription, got)
		got, err = ResolveReceivedMessage(ctx, NewS3Fetcher(c.s3), msgs[0])
		require.NoError(t, err)
		require.Equal(t, transcription, got)

		// A changed object is refused, not passed on.
		_, err = c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(bytes.ToUpper(transcription))})
		require.NoError(t, err)
		_, err = ResolveMessage(ctx, NewS3Fetcher(c.s3), sqsEvent(msgs[0]))
		require.ErrorIs(t, err, core.ErrClaimCheckMismatch)
	})

	t.Run("CLAIM_CHECK_THRESHOLD_BYTES lowers the limit", func(t *testing.T) {
		q := c.queue(t, "threshold", nil)
		bucket := c.bucket(t, "threshold-bucket")
		h, _ := newHandler(t, c, map[string]string{envvar.Secret: testSecret, envvar.SQSQueueURL: q, envvar.ClaimCheckBucket: bucket, envvar.ClaimCheckThreshold: "4096"})
		require.Equal(t, 200, invoke(t, h, signedV2(t, testSecret, audio)).Status)
		require.Equal(t, 200, invoke(t, h, signedV2(t, testSecret, transcription)).Status)
		claimed := map[string]bool{}
		for _, m := range c.receive(t, q) {
			_, ok := m.MessageAttributes[core.AttrClaimCheck]
			claimed[aws.ToString(m.MessageAttributes[core.AttrEventType].StringValue)] = ok
		}
		require.Equal(t, map[string]bool{"post_call_audio": true, "post_call_transcription": false}, claimed)
	})

	t.Run("too large without a bucket: 413 and a log line saying what to set", func(t *testing.T) {
		q := c.queue(t, "small-no-bucket", map[string]string{"MaximumMessageSize": "1024"})
		h, logs := newHandler(t, c, map[string]string{envvar.Secret: testSecret, envvar.SQSQueueURL: q})
		a := invoke(t, h, signedV2(t, testSecret, transcription))
		require.Equal(t, 413, a.Status)
		require.Contains(t, logs.String(), "set CLAIM_CHECK_BUCKET")
		require.Empty(t, c.receive(t, q))
	})

	t.Run("secret from Secrets Manager, with rotation", func(t *testing.T) {
		q := c.queue(t, "secret", nil)
		out, err := c.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("webhook"), SecretString: aws.String("wsec_old, wsec_new")})
		require.NoError(t, err)
		h, logs := newHandler(t, c, map[string]string{envvar.SecretARN: *out.ARN, envvar.SQSQueueURL: q})
		require.Contains(t, logs.String(), `"secret_from":"ELEVENLABS_WEBHOOK_SECRET_ARN","secrets":2`)
		require.Equal(t, 200, invoke(t, h, signedV2(t, "wsec_new", transcription)).Status)
		require.Equal(t, 200, invoke(t, h, signedV2(t, "wsec_old", transcription)).Status)
		require.Equal(t, 400, invoke(t, h, signedV2(t, testSecret, transcription)).Status)
		require.Len(t, c.receive(t, q), 2)
		require.NotContains(t, logs.String(), "wsec_old")
		require.NotContains(t, logs.String(), "wsec_new")
	})

	t.Run("fails closed", func(t *testing.T) {
		q := c.queue(t, "closed", nil)
		tests := []struct {
			name    string
			env     map[string]string
			wantLog string
			want    string
		}{
			{"unreadable secret", map[string]string{envvar.SecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf", envvar.SQSQueueURL: q},
				"ELEVENLABS_WEBHOOK_SECRET_ARN=arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf: secretsmanager GetSecretValue", "configuration unusable"},
			{"no secret", map[string]string{envvar.SQSQueueURL: q}, "set ELEVENLABS_WEBHOOK_SECRET, or ELEVENLABS_WEBHOOK_SECRET_ARN", "Webhook secret not configured"},
			{"no queue", map[string]string{envvar.Secret: testSecret}, "set SQS_QUEUE_URL", "configuration unusable"},
			{"bad configuration", map[string]string{envvar.Secret: testSecret, envvar.SQSQueueURL: q, envvar.Tolerance: "soon"},
				`WEBHOOK_TOLERANCE=\"soon\"`, "configuration unusable"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h, logs := newHandler(t, c, tt.env)
				require.Contains(t, logs.String(), "cannot start; answering 500 to every request")
				require.Contains(t, logs.String(), tt.wantLog)
				for _, ev := range [][]byte{signedV2(t, testSecret, transcription), []byte("junk")} {
					a := invoke(t, h, ev)
					require.Equal(t, 500, a.Status)
					require.Equal(t, tt.want, a.Body["error"])
				}
			})
		}
		require.Empty(t, c.receive(t, q))
	})

	t.Run("queue fails, body spilled to the bucket", func(t *testing.T) {
		bucket := c.bucket(t, "spill-bucket")
		missing := strings.TrimSuffix(c.queue(t, "exists", nil), "exists") + "does-not-exist"
		h, _ := newHandler(t, c, map[string]string{envvar.Secret: testSecret, envvar.SQSQueueURL: missing, envvar.ClaimCheckBucket: bucket})
		a := invoke(t, h, signedV2(t, testSecret, transcription))
		require.Equal(t, 200, a.Status)
		require.Equal(t, "spilled", a.Body["status"])
		key := a.Body["message_id"]
		require.True(t, strings.HasPrefix(key, core.SpillPrefix), key)
		obj, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		require.NoError(t, err)
		stored, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		require.Equal(t, transcription, stored)
		wantMetadata(t, c, bucket, key, transcription)

		// What replay reads back: the key, the bytes, every attribute.
		src := NewS3SpillSource(c.s3, bucket)
		keys, err := src.List(ctx, core.SpillPrefix)
		require.NoError(t, err)
		require.Equal(t, []string{key}, keys)
		got, meta, err := src.Get(ctx, key)
		require.NoError(t, err)
		require.Equal(t, transcription, got)
		receivedAt, err := time.Parse(time.RFC3339, meta[core.AttrReceivedAt])
		require.NoError(t, err)
		want := core.NewMessage(transcription, core.Signature{Timestamp: meta[core.AttrSignatureTimestamp]}, receivedAt)
		require.Equal(t, want.Attributes(), meta)
		require.NoError(t, src.Delete(ctx, key))
		keys, err = src.List(ctx, core.SpillPrefix)
		require.NoError(t, err)
		require.Empty(t, keys)
	})

	t.Run("queue unreachable: 503, never 2xx", func(t *testing.T) {
		// Nothing listens on the endpoint: SQS (and the spill bucket) are
		// out of reach, as in an outage or a VPC without a route.
		down := c
		down.cfg = c.cfg.Copy()
		down.cfg.BaseEndpoint = aws.String("http://127.0.0.1:" + itoa(testenv.FreePort(t)))
		q := c.queue(t, "unreachable", nil)
		h, logs := newHandler(t, down, map[string]string{envvar.Secret: testSecret, envvar.SQSQueueURL: q, envvar.ClaimCheckBucket: "unreachable-bucket", envvar.PublishTimeout: "3s"})
		require.Contains(t, logs.String(), "cannot read the queue's MaximumMessageSize")
		start := time.Now()
		a := invoke(t, h, signedV2(t, testSecret, transcription))
		require.Equal(t, 503, a.Status)
		require.Equal(t, "queue unavailable: retry later", a.Body["error"])
		require.Less(t, time.Since(start), 3*time.Second+5*time.Second+time.Second, "the timeouts (publish 3 s, the spill's default 5 s) must bound the calls")
		require.Contains(t, logs.String(), "spill failed too")
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
