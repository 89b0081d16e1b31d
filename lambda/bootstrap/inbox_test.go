package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/rie"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/elevenrelay/elevenrelay/lambda"
)

// inboxEnv is moto wired as the storage-first stack wires AWS: the bucket
// notifies the inbox queue of every object created under inbox/, and the
// function, run by the Lambda runtime interface emulator, reads that queue.
type inboxEnv struct {
	t         *testing.T
	ctx       context.Context
	s3        *s3.Client
	sqs       *sqs.Client
	bucket    string
	inboxURL  string
	emulator  string // the emulator's executable
	bin       string // the bootstrap, built as deployed
	testEvent []sqstypes.Message
}

const inboxBucket = "claim-check"

func newInboxEnv(t *testing.T) *inboxEnv {
	emulator, root := testenv.RIE(t)
	moto := testenv.StartMoto(t)
	testenv.AWSEnv(t, moto.Endpoint)
	bin := testenv.BuildBootstrap(t, root, "./lambda/bootstrap")
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	require.NoError(t, err)
	e := &inboxEnv{t: t, ctx: ctx, emulator: emulator, bin: bin, bucket: inboxBucket,
		sqs: sqs.NewFromConfig(cfg), s3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })}
	_, err = e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(e.bucket)})
	require.NoError(t, err)
	q, err := e.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("inbox")})
	require.NoError(t, err)
	e.inboxURL = *q.QueueUrl
	qa, err := e.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	require.NoError(t, err)
	_, err = e.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(e.bucket),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			QueueArn: aws.String(qa.Attributes["QueueArn"]),
			Events:   []s3types.Event{"s3:ObjectCreated:*"},
			Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{
				{Name: s3types.FilterRuleNamePrefix, Value: aws.String("inbox/")}}}},
		}}},
	})
	require.NoError(t, err)
	// S3 tells the queue that the notification is set up; the function gets
	// that message too, and must let it pass.
	e.testEvent = e.receive(func(body string) bool { return strings.Contains(body, `"s3:TestEvent"`) }, "the s3:TestEvent")
	return e
}

// start runs the function under the emulator with env (besides what the AWS
// SDK needs to reach moto) and has it take the S3 test event: the emulator
// starts the function at its first invocation, as Lambda does, and the
// tests measure it and take its queue down only once it runs.
func (e *inboxEnv) start(env map[string]string) (*rie.Emulator, *testenv.Buffer) {
	out := &testenv.Buffer{}
	fn := testenv.StartRIE(e.t, e.emulator, e.bin, functionEnv(env), out)
	require.Empty(e.t, e.deliver(fn, out, e.testEvent), "the S3 test event")
	return fn, out
}

// queue makes a target queue for a function.
func (e *inboxEnv) queue(name string) string {
	in := &sqs.CreateQueueInput{QueueName: aws.String(name)}
	if strings.HasSuffix(name, ".fifo") {
		in.Attributes = map[string]string{"FifoQueue": "true"}
	}
	q, err := e.sqs.CreateQueue(e.ctx, in)
	require.NoError(e.t, err)
	return *q.QueueUrl
}

// store puts body where API Gateway's integration puts a request: inbox/<id>
// with the signature header (if any) and the request time as metadata.
func (e *inboxEnv) store(id string, body []byte, signature string, receivedAt time.Time) string {
	meta := map[string]string{"received-at": strconv.FormatInt(receivedAt.UnixMilli(), 10)}
	if signature != "" {
		meta["elevenlabs-signature"] = signature
	}
	key := lambda.InboxPrefix + id
	_, err := e.s3.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("application/json"), Metadata: meta})
	require.NoError(e.t, err)
	return key
}

// notifications receives what S3 sent the inbox queue until every key has
// been named, and deletes them.
func (e *inboxEnv) notifications(keys ...string) []sqstypes.Message {
	waiting := map[string]bool{}
	for _, k := range keys {
		waiting[k] = true
	}
	return e.receive(func(body string) bool {
		var n struct { // not events.S3Event: moto's eventTime has no time zone
			Records []struct {
				S3 struct {
					Object struct {
						Key string `json:"key"`
					} `json:"object"`
				} `json:"s3"`
			} `json:"Records"`
		}
		_ = json.Unmarshal([]byte(body), &n)
		for _, r := range n.Records {
			if k, err := url.QueryUnescape(r.S3.Object.Key); err == nil {
				delete(waiting, k)
			}
		}
		return len(waiting) == 0
	}, "S3 notification for every one of "+strings.Join(keys, ", "))
}

// receive takes messages off the inbox queue, each body given to match,
// until match says it has what it waits for, and returns them all.
func (e *inboxEnv) receive(match func(body string) bool, what string) []sqstypes.Message {
	var got []sqstypes.Message
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		res, err := e.sqs.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(e.inboxURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		require.NoError(e.t, err)
		found := false
		for _, m := range res.Messages {
			got = append(got, m)
			_, err := e.sqs.DeleteMessage(e.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(e.inboxURL), ReceiptHandle: m.ReceiptHandle})
			require.NoError(e.t, err)
			if match(*m.Body) {
				found = true
			}
		}
		if found {
			return got
		}
	}
	var bodies []string
	for _, m := range got {
		bodies = append(bodies, *m.Body)
	}
	e.t.Fatalf("no %s in the inbox queue; got %q", what, bodies)
	return nil
}

// sqsEvent is the event Lambda's SQS poller gives the function.
func sqsEvent(t *testing.T, msgs []sqstypes.Message) []byte {
	ev := events.SQSEvent{}
	for _, m := range msgs {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: *m.MessageId, ReceiptHandle: *m.ReceiptHandle, Body: *m.Body,
			EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:inbox", AWSRegion: "us-east-1"})
	}
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	return b
}

// deliver feeds the notifications to the function as one SQS batch,
// through the emulator, and returns the ids it reported as failed. A
// function error (or anything but a batch response) fails the test.
func (e *inboxEnv) deliver(fn *rie.Emulator, out *testenv.Buffer, msgs []sqstypes.Message) []string {
	ctx, cancel := context.WithTimeout(e.ctx, 60*time.Second)
	defer cancel()
	status, answer, err := fn.Invoke(ctx, sqsEvent(e.t, msgs))
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, status, "the emulator says the function failed: %s\n%s", answer, out)
	var res struct {
		BatchItemFailures *[]events.SQSBatchItemFailure `json:"batchItemFailures"`
	}
	dec := json.NewDecoder(bytes.NewReader(answer))
	dec.DisallowUnknownFields()
	require.NoError(e.t, dec.Decode(&res), "not an SQS batch response: %s", answer)
	require.NotNil(e.t, res.BatchItemFailures, "no batchItemFailures in %s", answer)
	var failed []string
	for _, f := range *res.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

func (e *inboxEnv) exists(key string) bool {
	_, err := e.s3.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	return err == nil
}

// drain receives every message on a queue, resolving claim checks.
func (e *inboxEnv) drain(queueURL string, want int) []queued {
	var out []queued
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		res, err := e.sqs.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		require.NoError(e.t, err)
		for _, m := range res.Messages {
			q := queued{body: []byte(*m.Body), attrs: map[string]string{}}
			for k, v := range m.MessageAttributes {
				q.attrs[k] = aws.ToString(v.StringValue)
			}
			q.resolved, err = lambda.ResolveReceivedMessage(e.ctx, lambda.NewS3Fetcher(e.s3), m)
			require.NoError(e.t, err)
			out = append(out, q)
			_, err = e.sqs.DeleteMessage(e.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle})
			require.NoError(e.t, err)
		}
		if len(res.Messages) == 0 && len(out) >= want {
			break
		}
	}
	return out
}

type queued struct {
	body, resolved []byte
	attrs          map[string]string
}

// bySHA indexes queued messages by their resolved body's SHA-256, after
// checking there are want of them, each body queued once.
func bySHA(t *testing.T, msgs []queued, want int) map[string]queued {
	require.Len(t, msgs, want)
	m := map[string]queued{}
	for _, q := range msgs {
		_, dup := m[sha(q.resolved)]
		require.False(t, dup, "a body queued twice")
		m[sha(q.resolved)] = q
	}
	return m
}

// withoutReceivedAt is a message's attributes but received_at.
func withoutReceivedAt(a map[string]string) map[string]string {
	c := map[string]string{}
	for k, v := range a {
		if k != core.AttrReceivedAt {
			c[k] = v
		}
	}
	return c
}

// TestBootstrapInbox runs the real binary, built as it is deployed, under
// the Lambda runtime interface emulator on stored requests, as the
// storage-first stack delivers them: moto's S3 notifications, received from
// the inbox queue and handed to the function as an SQS event.
func TestBootstrapInbox(t *testing.T) {
	e := newInboxEnv(t)
	target := e.queue("elevenrelay-events")
	fn, out := e.start(map[string]string{
		envvar.Secret:              "wsec_previous," + testSecret,
		envvar.SQSQueueURL:         target,
		envvar.ClaimCheckBucket:    e.bucket,
		envvar.ClaimCheckThreshold: "4096", // post_call_audio (7 KB) goes through the claim check
	})
	now := time.Now()

	// Differential: every sample body, through the direct path and through
	// the inbox, gives the same message but for received_at.
	t.Run("storage-first message equals direct-path message", func(t *testing.T) {
		files, err := filepath.Glob(filepath.Join("..", "..", "events", "bodies", "*.json"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		require.LessOrEqual(t, len(files), 10, "one SQS batch holds at most 10 messages")
		bodies, sigs := map[string][]byte{}, map[string]string{}
		for _, f := range files {
			body, err := os.ReadFile(f)
			require.NoError(t, err)
			bodies[f], sigs[f] = body, core.Sign(testSecret, now, body)
			ev, err := json.Marshal(events2(body, sigs[f]))
			require.NoError(t, err)
			ictx, cancel := context.WithTimeout(e.ctx, 60*time.Second)
			status, answer, err := fn.Invoke(ictx, ev)
			cancel()
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, status, "the emulator says the function failed: %s", answer)
			require.Contains(t, string(answer), `\"status\":\"accepted\"`, f)
		}
		// The queue is drained once per path, not once per file: each drain
		// ends with an empty second-long poll that shows nothing more came.
		direct := bySHA(t, e.drain(target, len(files)), len(files))

		received := now.Add(-time.Minute)
		var keys []string
		for _, f := range files {
			keys = append(keys, e.store("diff-"+strings.TrimSuffix(filepath.Base(f), ".json"), bodies[f], sigs[f], received))
		}
		// All the notifications in one SQS event, as Lambda batches them.
		require.Empty(t, e.deliver(fn, out, e.notifications(keys...)))
		for _, key := range keys {
			require.False(t, e.exists(key), "inbox object %s left after queueing", key)
		}
		stored := bySHA(t, e.drain(target, len(files)), len(files))
		for _, f := range files {
			d, ok := direct[sha(bodies[f])]
			require.True(t, ok, "%s not queued by the direct path", f)
			s, ok := stored[sha(bodies[f])]
			require.True(t, ok, "%s not queued from the inbox", f)
			require.Equal(t, withoutReceivedAt(d.attrs), withoutReceivedAt(s.attrs), f)
			require.Equal(t, string(d.body), string(s.body), f)
			require.Equal(t, bodies[f], s.resolved)
			require.Equal(t, received.UTC().Format(time.RFC3339), s.attrs[core.AttrReceivedAt])
		}
	})

	transcript, err := os.ReadFile(filepath.Join("..", "..", "events", "bodies", "post_call_transcription.json"))
	require.NoError(t, err)
	unique := func(tag string) []byte { // a body of its own, so queue contents tell cases apart
		return bytes.Replace(transcript, []byte(`"type"`), []byte(`"case":"`+tag+`","type"`), 1)
	}

	rejectedCases := []struct {
		name, id  string
		body      []byte
		signature func(body []byte) string
		received  time.Time
		want      string
	}{
		{"stale at receipt", "stale", unique("stale"), func(b []byte) string { return core.Sign(testSecret, now.Add(-2*time.Hour), b) }, now,
			"Timestamp outside the tolerance zone"},
		{"tampered", "tampered", unique("tampered"), func(b []byte) string { return core.Sign(testSecret, now, unique("original")) }, now,
			"Signature hash does not match the expected signature hash for payload"},
		{"no header", "unsigned", unique("unsigned"), func([]byte) string { return "" }, now, "Missing signature header"},
	}
	for _, tc := range rejectedCases {
		t.Run(tc.name, func(t *testing.T) {
			key := e.store(tc.id, tc.body, tc.signature(tc.body), tc.received)
			require.Empty(t, e.deliver(fn, out, e.notifications(key)), "a rejection is not a failure")
			require.False(t, e.exists(key))
			moved := lambda.RejectedPrefix + tc.received.UTC().Format("2006/01/02/") + tc.id
			obj, err := e.s3.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(moved)})
			require.NoError(t, err, "no %s", moved)
			got, _ := io.ReadAll(obj.Body)
			obj.Body.Close()
			require.Equal(t, tc.body, got)
			require.Equal(t, tc.want, obj.Metadata["rejection"])
			require.Empty(t, e.drain(target, 0), "a rejected object was queued")
			require.Contains(t, out.String(), `"key":"inbox/`+tc.id+`","event_type":"","outcome":"rejected"`)
		})
	}

	t.Run("fresh, then the same notification twice", func(t *testing.T) {
		body := unique("fresh")
		key := e.store("fresh", body, core.Sign(testSecret, now, body), now)
		notes := e.notifications(key)
		require.Empty(t, e.deliver(fn, out, notes))
		require.Empty(t, e.deliver(fn, out, notes), "a repeat is a no-op")
		got := e.drain(target, 1)
		require.Len(t, got, 1)
		require.Equal(t, body, got[0].body)
		require.Contains(t, out.String(), `"key":"inbox/fresh","event_type":"","outcome":"gone"`)
	})

	t.Run("processed 2 h after receipt", func(t *testing.T) {
		body := unique("late")
		received := now.Add(-2 * time.Hour)
		key := e.store("late", body, core.Sign("wsec_previous", received.Add(-time.Second), body), received)
		require.Empty(t, e.deliver(fn, out, e.notifications(key)))
		got := e.drain(target, 1)
		require.Len(t, got, 1)
		require.Equal(t, body, got[0].body)
		require.Equal(t, received.UTC().Format(time.RFC3339), got[0].attrs[core.AttrReceivedAt])
	})

	t.Run("key with URL-encoded characters", func(t *testing.T) {
		body := unique("odd key")
		id := "odd key+1=ü&%"
		key := e.store(id, body, core.Sign(testSecret, now, body), now)
		notes := e.notifications(key)
		require.Empty(t, e.deliver(fn, out, notes))
		require.False(t, e.exists(key))
		got := e.drain(target, 1)
		require.Len(t, got, 1)
		require.Equal(t, body, got[0].body)
	})

	t.Run("40 MiB audio", func(t *testing.T) {
		body := audioBody(40 << 20)
		key := e.store("audio-40mib", body, core.Sign(testSecret, now, body), now)
		// The function is the emulator's child process; the emulator keeps
		// it from one invocation to the next (a new one would mean it
		// crashed or timed out, and a peak read from it would say nothing).
		if _, err := os.Stat("/proc/self/status"); err != nil {
			t.Skipf("peak RSS needs /proc: %v", err)
		}
		pid, err := fn.FunctionPid()
		require.NoError(t, err)
		before := vmHWM(t, pid)
		require.Empty(t, e.deliver(fn, out, e.notifications(key)))
		peak := vmHWM(t, pid)
		after, err := fn.FunctionPid()
		require.NoError(t, err)
		require.Equal(t, pid, after, "the emulator started the function again")
		t.Logf("function peak RSS (VmHWM) under the emulator: %d KiB before, %d KiB after a 40 MiB object", before, peak)
		require.LessOrEqual(t, peak, 32<<10, "peak RSS over 32 MB")
		got := e.drain(target, 1)
		require.Len(t, got, 1)
		require.NotEmpty(t, got[0].attrs[core.AttrClaimCheck])
		require.True(t, bytes.Equal(body, got[0].resolved), "claim-check bytes differ")
		require.Equal(t, "post_call_audio", got[0].attrs[core.AttrEventType])
		require.False(t, e.exists(key))
	})

	t.Run("queue down, then back", func(t *testing.T) { queueDown(t, e) })

	logs := out.String()
	require.Equal(t, 1, strings.Count(logs, "INIT START"), "one cold start for every event")
	require.NotContains(t, logs, testSecret)
	require.NotContains(t, logs, "v0=")
}

// queueDown: while the queue is down the record fails and the object stays;
// delivered again once the queue is back, it is queued once (FIFO). It
// runs a second function, on a FIFO queue that it reaches through a proxy.
func queueDown(t *testing.T, e *inboxEnv) {
	target := e.queue("elevenrelay-events.fifo")
	motoURL, err := url.Parse(os.Getenv("AWS_ENDPOINT_URL"))
	require.NoError(t, err)
	proxy := testenv.StartProxy(t, motoURL.Host)
	fn, out := e.start(map[string]string{
		envvar.Secret:           testSecret,
		envvar.SQSQueueURL:      target,
		envvar.ClaimCheckBucket: e.bucket,
		"AWS_ENDPOINT_URL_SQS":  "http://" + proxy.Addr,
	})
	body := []byte(`{"type":"post_call_transcription","data":{"conversation_id":"conv_down"}}`)
	now := time.Now()
	key := e.store("queue-down", body, core.Sign(testSecret, now, body), now)
	notes := e.notifications(key)
	var ids []string
	for _, m := range notes {
		if strings.Contains(*m.Body, "queue-down") {
			ids = append(ids, *m.MessageId)
		}
	}

	proxy.Down()
	require.Equal(t, ids, e.deliver(fn, out, notes), "the record must fail while the queue is down")
	require.True(t, e.exists(key), "the inbox object must stay")
	proxy.Up()
	require.Empty(t, e.deliver(fn, out, notes))
	require.Empty(t, e.deliver(fn, out, notes))
	require.False(t, e.exists(key))
	got := e.drain(target, 1)
	require.Len(t, got, 1, "one message on the FIFO queue")
	require.Equal(t, body, got[0].body)
	require.Equal(t, "conv_down", got[0].attrs[core.AttrConversationID])
	require.Contains(t, out.String(), `"outcome":"error"`)
}

// events2 is an HTTP API event carrying body, as the direct path gets it.
func events2(body []byte, signature string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "POST /webhook", RawPath: "/webhook",
		Headers: map[string]string{"content-type": "application/json", "elevenlabs-signature": signature}, Body: string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "direct", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", SourceIP: "34.67.146.145"}}}
}

// audioBody is a post_call_audio body of about n bytes.
func audioBody(n int) []byte {
	raw := make([]byte, n*3/4)
	for i := range raw {
		raw[i] = byte(i*7 + i>>9)
	}
	return []byte(fmt.Sprintf(`{"type":"post_call_audio","event_timestamp":%d,"data":{"agent_id":"agent_1","conversation_id":"conv_audio","full_audio":"%s"}}`,
		time.Now().Unix(), base64.StdEncoding.EncodeToString(raw)))
}

// vmHWM is a process's peak resident set size in KiB, from /proc.
func vmHWM(t *testing.T, pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("peak RSS needs /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no VmHWM in /proc/<pid>/status")
	return 0
}
