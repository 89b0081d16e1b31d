package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/storage"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/gcf"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/logging"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/elevenrelay/elevenrelay/lambda"
)

const secret = "wsec_replay_test"

// bodies are the sample events; post_call_audio is above the claim-check
// threshold the tests set, so its replay is claim-checked.
func bodies(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, name := range []string{"post_call_transcription", "post_call_audio", "call_initiation_failure", "speech_to_text_transcription"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "events", "bodies", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

type env map[string]string

func (e env) get(k string) string { return e[k] }

// spilled is what the receiver answered for a body while the queue was
// down: the object key, and the body's attributes as they must arrive.
type spilled struct {
	key  string
	body []byte
}

// replay runs the command in process and returns its standard output.
func replay(t *testing.T, e env, args ...string) string {
	t.Helper()
	var out, errs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if code := run(ctx, args, e.get, &out, &errs); code != 0 {
		t.Fatalf("replay %v: exit %d\n%s%s", args, code, out.String(), errs.String())
	}
	if strings.Contains(errs.String(), secret) {
		t.Fatal("replay's log holds the secret")
	}
	return out.String()
}

// checkOnce compares what the queue holds with what was spilled: each body
// exactly once, byte for byte (claim checks resolved), with the attributes
// it was spilled with.
func checkOnce(t *testing.T, spills []spilled, got map[string][][]byte, attrs map[string]map[string]string) {
	t.Helper()
	for _, s := range spills {
		sum := core.NewMessage(s.body, core.Signature{}, time.Now()).ContentSHA256
		if n := len(got[sum]); n != 1 {
			t.Errorf("%s: in the queue %d times, want exactly once", s.key, n)
			continue
		}
		if !bytes.Equal(got[sum][0], s.body) {
			t.Errorf("%s: queued bytes differ from the body sent", s.key)
		}
		want := core.NewMessage(s.body, core.Signature{Timestamp: attrs[sum][core.AttrSignatureTimestamp]}, time.Now())
		a := attrs[sum]
		for _, k := range []string{core.AttrEventType, core.AttrEventTimestamp, core.AttrContentSHA256, core.AttrConversationID} {
			if a[k] != want.Attributes()[k] {
				t.Errorf("%s: attribute %s = %q, want %q", s.key, k, a[k], want.Attributes()[k])
			}
		}
		if a[core.AttrSignatureTimestamp] == "" || a[core.AttrReceivedAt] == "" {
			t.Errorf("%s: attributes %v lack the timestamps", s.key, a)
		}
		if !strings.Contains(s.key, a[core.AttrReceivedAt][:10]) && !strings.Contains(s.key, strings.ReplaceAll(a[core.AttrReceivedAt][:10], "-", "/")) {
			t.Errorf("%s: received_at %s is not the spill's", s.key, a[core.AttrReceivedAt])
		}
	}
	if len(got) != len(spills) {
		t.Errorf("%d distinct bodies queued, want %d", len(got), len(spills))
	}
}

// TestReplayAWS: SQS unreachable (behind a proxy taken down) while S3
// works → every request answered 200 spilled → SQS back → replay → each
// event in the queue exactly once, byte-identical, every attribute; the
// large one claim-checked; spill/ empty; a second replay finds nothing.
func TestReplayAWS(t *testing.T) {
	moto := testenv.StartMoto(t)
	testenv.AWSEnv(t, moto.Endpoint)
	proxy := testenv.StartProxy(t, strings.TrimPrefix(moto.Endpoint, "http://"))
	ctx := context.Background()

	direct, err := loadAWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sqsc := sqs.NewFromConfig(direct)
	s3c := s3.NewFromConfig(direct, func(o *s3.Options) { o.UsePathStyle = true })
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("replayed")})
	if err != nil {
		t.Fatal(err)
	}
	const bucket = "spill-bucket"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	// Only SQS goes through the proxy: the SDK's per-service endpoint.
	t.Setenv("AWS_ENDPOINT_URL_SQS", "http://"+proxy.Addr)
	e := env{envvar.Secret: secret, envvar.SQSQueueURL: *q.QueueUrl, envvar.ClaimCheckBucket: bucket,
		envvar.ClaimCheckThreshold: "4096", envvar.PublishTimeout: "2s"}
	var logs bytes.Buffer
	// The AWS SDK's variables come from the process, where testenv set them.
	getenv := func(k string) string {
		if v, ok := e[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	h := lambda.New(ctx, lambda.Options{Getenv: getenv, Logger: logging.New(&logs, 0)})

	proxy.Down()
	var spills []spilled
	for _, body := range bodies(t) {
		a := invokeV2(t, h, body)
		if a.status != http.StatusOK || !strings.Contains(a.body, `"status":"spilled"`) {
			t.Fatalf("queue down: answer %d %s, want 200 spilled", a.status, a.body)
		}
		spills = append(spills, spilled{key: a.messageID(), body: body})
	}
	if !strings.Contains(logs.String(), `"outcome":"spilled"`) {
		t.Error(`no "outcome":"spilled" log line for the alarm to count`)
	}
	if out := replay(t, e, "-platform", "aws", "-dry-run"); !strings.Contains(out, "found=4") || !strings.Contains(out, spills[0].key) {
		t.Errorf("dry run printed %q", out)
	}
	proxy.Up()

	if out := replay(t, e, "-platform", "aws"); !strings.Contains(out, "found=4 replayed=4 failed=0 skipped=0") {
		t.Fatalf("replay printed %q", out)
	}
	got, attrs := drainSQS(t, sqsc, s3c, *q.QueueUrl)
	checkOnce(t, spills, got, attrs)
	claimChecked := 0
	for _, a := range attrs {
		if a[core.AttrClaimCheck] != "" {
			claimChecked++
		}
	}
	if claimChecked != 1 {
		t.Errorf("%d messages claim-checked on replay, want 1 (post_call_audio)", claimChecked)
	}
	left, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(core.SpillPrefix)})
	if err != nil || len(left.Contents) != 0 {
		t.Errorf("spill/ after replay: %d objects, %v", len(left.Contents), err)
	}
	if out := replay(t, e, "-platform", "aws"); !strings.Contains(out, "found=0 replayed=0") {
		t.Errorf("second replay printed %q", out)
	}
}

// drainSQS receives until the queue is empty, resolving claim checks, and
// returns bodies and attributes by content_sha256.
func drainSQS(t *testing.T, c *sqs.Client, s3c *s3.Client, url string) (map[string][][]byte, map[string]map[string]string) {
	t.Helper()
	ctx := context.Background()
	got := map[string][][]byte{}
	attrs := map[string]map[string]string{}
	for range 20 {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			body, err := lambda.ResolveReceivedMessage(ctx, lambda.NewS3Fetcher(s3c), m)
			if err != nil {
				t.Fatal(err)
			}
			a := sqsAttrs(m)
			got[a[core.AttrContentSHA256]] = append(got[a[core.AttrContentSHA256]], body)
			attrs[a[core.AttrContentSHA256]] = a
			if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return got, attrs
}

func sqsAttrs(m types.Message) map[string]string {
	a := map[string]string{}
	for k, v := range m.MessageAttributes {
		a[k] = aws.ToString(v.StringValue)
	}
	return a
}

// TestReplayGCP: the Pub/Sub emulator unreachable (behind a proxy taken
// down) while fake-gcs-server works → 200 spilled → emulator back →
// replay → each event exactly once in the subscription, byte-identical,
// every attribute; spill/ empty.
func TestReplayGCP(t *testing.T) {
	emu := testenv.StartPubSub(t)
	testenv.StartGCS(t, "spill-bucket")
	proxy := testenv.StartProxy(t, emu.Endpoint)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const (
		project = "replay-test"
		topic   = "projects/" + project + "/topics/webhooks"
		sub     = "projects/" + project + "/subscriptions/consumer"
	)
	t.Setenv("PUBSUB_EMULATOR_HOST", emu.Endpoint)
	admin, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.TopicAdminClient.CreateTopic(ctx, &pb.Topic{Name: topic}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.SubscriptionAdminClient.CreateSubscription(ctx, &pb.Subscription{Name: sub, Topic: topic}); err != nil {
		t.Fatal(err)
	}
	// The function and replay reach Pub/Sub through the proxy.
	t.Setenv("PUBSUB_EMULATOR_HOST", proxy.Addr)
	e := env{envvar.Secret: secret, envvar.PubSubTopic: topic, envvar.ClaimCheckBucket: "spill-bucket",
		envvar.ClaimCheckThreshold: "4096", envvar.PublishTimeout: "2s"}
	f := gcf.New(ctx, gcf.Options{Getenv: e.get, LogWriter: io.Discard})
	srv := httptest.NewServer(f)
	defer func() { srv.Close(); f.Close() }()

	proxy.Down()
	var spills []spilled
	for _, body := range bodies(t) {
		a := post(t, srv.URL, body)
		if a.status != http.StatusOK || !strings.Contains(a.body, `"status":"spilled"`) {
			t.Fatalf("queue down: answer %d %s, want 200 spilled", a.status, a.body)
		}
		spills = append(spills, spilled{key: a.messageID(), body: body})
	}
	proxy.Up()

	if out := replay(t, e, "-platform", "gcp"); !strings.Contains(out, "found=4 replayed=4 failed=0 skipped=0") {
		t.Fatalf("replay printed %q", out)
	}
	gcs, err := storage.NewClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer gcs.Close()
	got := map[string][][]byte{}
	attrs := map[string]map[string]string{}
	for n := 0; n < len(spills)+2 && ctx.Err() == nil; {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		res, err := admin.SubscriptionAdminClient.Pull(pctx, &pb.PullRequest{Subscription: sub, MaxMessages: 10})
		pcancel()
		if err != nil || len(res.ReceivedMessages) == 0 {
			n++ // a quiet pull: count towards giving up once all are in
			if len(got) >= len(spills) {
				break
			}
			continue
		}
		var acks []string
		for _, m := range res.ReceivedMessages {
			body, err := gcf.ResolveMessage(ctx, gcf.Fetcher{Client: gcs}, &pubsub.Message{Data: m.Message.Data, Attributes: m.Message.Attributes})
			if err != nil {
				t.Fatal(err)
			}
			sum := m.Message.Attributes[core.AttrContentSHA256]
			got[sum] = append(got[sum], body)
			attrs[sum] = m.Message.Attributes
			acks = append(acks, m.AckId)
		}
		if err := admin.SubscriptionAdminClient.Acknowledge(ctx, &pb.AcknowledgeRequest{Subscription: sub, AckIds: acks}); err != nil {
			t.Fatal(err)
		}
	}
	checkOnce(t, spills, got, attrs)
	if keys, err := gcf.NewBucket(gcs, "spill-bucket").List(ctx, core.SpillPrefix); err != nil || len(keys) != 0 {
		t.Errorf("spill/ after replay: %v, %v", keys, err)
	}
}
