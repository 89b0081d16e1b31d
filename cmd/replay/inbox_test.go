package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/elevenrelay/elevenrelay/lambda"
)

// TestReplayInbox: stored requests whose notification never came are
// processed by replay once older than -inbox-age, by the function's own
// code: the authentic one queued, the forged one moved to rejected/.
func TestReplayInbox(t *testing.T) {
	moto := testenv.StartMoto(t)
	testenv.AWSEnv(t, moto.Endpoint)
	ctx := context.Background()
	awsCfg, err := loadAWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sqsc := sqs.NewFromConfig(awsCfg)
	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = true })
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("events")})
	if err != nil {
		t.Fatal(err)
	}
	const bucket = "claim-check"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	received := time.Now().Add(-20 * time.Minute)
	put := func(id string, body []byte, sig string) {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(lambda.InboxPrefix + id), Body: bytes.NewReader(body),
			Metadata: map[string]string{"elevenlabs-signature": sig, "received-at": strconv.FormatInt(received.UnixMilli(), 10)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	body := bodies(t)[0]
	put("authentic", body, core.Sign(secret, received, body))
	put("forged", body, core.Sign("wsec_forger", received, body))

	e := env{envvar.SQSQueueURL: *q.QueueUrl, envvar.ClaimCheckBucket: bucket}
	var out, errs bytes.Buffer
	if code := run(ctx, []string{"-platform", "aws", "-inbox-age", "1ms"}, e.get, &out, &errs); code != 1 || !strings.Contains(errs.String(), "2 inbox/ objects wait") {
		t.Fatalf("without a secret: exit %d, want 1 saying why\n%s%s", code, out.String(), errs.String())
	}
	e[envvar.Secret] = secret
	if got := replay(t, e, "-platform", "aws", "-inbox-age", "1h"); !strings.Contains(got, "inbox: found=0") {
		t.Fatalf("objects younger than -inbox-age were taken: %q", got)
	}
	if got := replay(t, e, "-platform", "aws", "-inbox-age", "1ms", "-dry-run"); !strings.Contains(got, "inbox: found=2") {
		t.Fatalf("dry run printed %q", got)
	}
	if got := replay(t, e, "-platform", "aws", "-inbox-age", "1ms"); !strings.Contains(got, "inbox: found=2 processed=2 failed=0") {
		t.Fatalf("replay printed %q", got)
	}
	got, attrs := drainSQS(t, sqsc, s3c, *q.QueueUrl)
	sum := core.NewMessage(body, core.Signature{}, received).ContentSHA256
	if len(got) != 1 || len(got[sum]) != 1 || !bytes.Equal(got[sum][0], body) {
		t.Fatalf("queued %d bodies, want the authentic one once", len(got))
	}
	if a := attrs[sum][core.AttrReceivedAt]; a != received.UTC().Format(time.RFC3339) {
		t.Errorf("received_at = %s, want the time of receipt", a)
	}
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, *o.Key)
	}
	want := lambda.RejectedPrefix + received.UTC().Format("2006/01/02/") + "forged"
	if len(keys) != 1 || keys[0] != want {
		t.Fatalf("bucket holds %v, want only %s", keys, want)
	}
}
