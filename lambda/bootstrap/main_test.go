package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
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
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/elevenrelay/elevenrelay/lambda"
)

const testSecret = "wsec_runtime_api_test_secret"

// resign gives a committed sample event (whose signature has gone stale) a
// fresh signature over its body, keeping what the file is meant to show:
// the bad-signature events are signed with another secret, the stale ones
// two hours ago.
func resign(t *testing.T, path string, now time.Time) (event []byte, body []byte, signature string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var ev map[string]any
	require.NoError(t, json.Unmarshal(raw, &ev))
	body = []byte(ev["body"].(string))
	if ev["isBase64Encoded"] == true {
		body, err = base64.StdEncoding.DecodeString(string(body))
		require.NoError(t, err)
	}
	secret, at := testSecret, now
	switch {
	case strings.HasSuffix(path, "-bad-signature.json"):
		secret = "wsec_some_other_secret"
	case strings.HasSuffix(path, "-stale.json"):
		at = now.Add(-2 * time.Hour)
	}
	signature = core.Sign(secret, at, body)
	found := false
	if h, ok := ev["headers"].(map[string]any); ok {
		for k := range h {
			if strings.EqualFold(k, core.SignatureHeader) {
				h[k], found = signature, true
			}
		}
	}
	if h, ok := ev["multiValueHeaders"].(map[string]any); ok {
		for k := range h {
			if strings.EqualFold(k, core.SignatureHeader) {
				h[k] = []any{signature}
			}
		}
	}
	require.True(t, found, "%s has no signature header", path)
	event, err = json.Marshal(ev)
	require.NoError(t, err)
	return event, body, signature
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// eventCase is one invocation of the function under the emulator: the event
// it gets and what it must answer. A new kind of event (the storage-first S3
// notifications, say) joins the run by adding its cases to eventCases.
type eventCase struct {
	name  string
	event []byte
	// body is the webhook body the event carries, queued when accepted.
	body []byte
	// status and errText are the answer expected: 200 means accepted and
	// queued; otherwise the body is {"error": errText} and nothing is queued.
	status  int
	errText string
	// claimChecked says the queued message must point at S3.
	claimChecked bool
}

// eventCases is every sample event in events/, re-signed now with secret:
// the bad-signature events with another secret, the stale ones two hours
// ago, as each file is meant to show.
func eventCases(t *testing.T, now time.Time) []eventCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "*.json"))
	require.NoError(t, err)
	var cases []eventCase
	for _, f := range files {
		if filepath.Base(f) == "env.json" {
			continue
		}
		event, body, _ := resign(t, f, now)
		c := eventCase{name: filepath.Base(f), event: event, body: body, status: 200}
		switch {
		case strings.HasSuffix(f, "-bad-signature.json"):
			c.status, c.errText = 400, core.ErrSignatureMismatch.Error()
		case strings.HasSuffix(f, "-stale.json"):
			c.status, c.errText = 400, core.ErrTimestampTolerance.Error()
		default:
			c.claimChecked = core.NewMessage(body, core.Signature{}, time.Time{}).EventType == "post_call_audio"
		}
		cases = append(cases, c)
	}
	require.GreaterOrEqual(t, len(cases), 16)
	return cases
}

// functionEnv is the environment the emulator (and through it the
// function) gets: what the AWS SDK needs to reach moto, plus env.
func functionEnv(env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "PATH=") {
			out = append(out, kv)
		}
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// TestBootstrap runs the real binary, built as it is deployed, under the
// Lambda runtime interface emulator (what sam local runs in its container),
// feeds it every event in eventCases, and reads what it queued back from
// moto.
func TestBootstrap(t *testing.T) {
	emulator, root := testenv.RIE(t)
	moto := testenv.StartMoto(t)
	testenv.AWSEnv(t, moto.Endpoint)
	bin := testenv.BuildBootstrap(t, root, "./lambda/bootstrap")
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	require.NoError(t, err)
	sqsClient := sqs.NewFromConfig(cfg)
	s3Client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	q, err := sqsClient.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("elevenrelay-events")})
	require.NoError(t, err)
	_, err = s3Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("claim-check")})
	require.NoError(t, err)

	out := &testenv.Buffer{}
	fn := testenv.StartRIE(t, emulator, bin, functionEnv(map[string]string{
		envvar.Secret:              testSecret,
		envvar.SQSQueueURL:         *q.QueueUrl,
		envvar.ClaimCheckBucket:    "claim-check",
		envvar.ClaimCheckThreshold: "4096", // post_call_audio (7 KB) goes through S3
		envvar.LogLevel:            "debug",
	}), out)

	cases := eventCases(t, time.Now())
	wantQueued := map[string]int{} // content_sha256 → count
	claimChecked := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ictx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			status, answer, err := fn.Invoke(ictx, c.event)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, status, "the emulator says the function failed: %s\n%s", answer, out)
			var v2 events.APIGatewayV2HTTPResponse
			require.NoError(t, json.Unmarshal(answer, &v2))
			var v1 events.APIGatewayProxyResponse
			require.NoError(t, json.Unmarshal(answer, &v1))
			require.Equal(t, v2.StatusCode, v1.StatusCode)
			require.Equal(t, "application/json", v2.Headers["Content-Type"])
			require.Equal(t, c.status, v2.StatusCode, v2.Body)
			if c.status != http.StatusOK {
				require.JSONEq(t, `{"error":`+strconv.Quote(c.errText)+`}`, v2.Body)
				return
			}
			var a struct {
				Status    string `json:"status"`
				MessageID string `json:"message_id"`
			}
			require.NoError(t, json.Unmarshal([]byte(v2.Body), &a))
			require.Equal(t, "accepted", a.Status)
			require.NotEmpty(t, a.MessageID)
			wantQueued[sha(c.body)]++
			claimChecked[sha(c.body)] = c.claimChecked
		})
	}

	// Every accepted event is in the queue, byte for byte, whatever shape
	// it came in; post_call_audio through the claim check.
	gotQueued := map[string]int{}
	total := 0
	for n := range wantQueued {
		total += wantQueued[n]
	}
	deadline := time.Now().Add(20 * time.Second)
	for got := 0; got < total && time.Now().Before(deadline); {
		res, err := sqsClient.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"}})
		require.NoError(t, err)
		for _, m := range res.Messages {
			got++
			body, err := lambda.ResolveReceivedMessage(ctx, lambda.NewS3Fetcher(s3Client), m)
			require.NoError(t, err)
			attrs := map[string]string{}
			for k, v := range m.MessageAttributes {
				attrs[k] = aws.ToString(v.StringValue)
			}
			ev := core.NewMessage(body, core.Signature{}, time.Time{})
			require.Equal(t, ev.EventType, attrs[core.AttrEventType])
			require.Equal(t, sha(body), attrs[core.AttrContentSHA256])
			require.Equal(t, ev.ConversationID, attrs[core.AttrConversationID])
			_, isClaimCheck := attrs[core.AttrClaimCheck]
			require.Equal(t, claimChecked[sha(body)], isClaimCheck, ev.EventType)
			gotQueued[sha(body)]++
			_, err = sqsClient.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle})
			require.NoError(t, err)
		}
	}
	require.Equal(t, wantQueued, gotQueued)

	logs := out.String()
	require.Contains(t, logs, `"msg":"lambda: ready"`)
	require.Contains(t, logs, "INIT RTDONE(status: success)", "the function reported an init error")
	require.Equal(t, len(cases), strings.Count(logs, `"msg":"webhook"`), "one log line per request")
	require.Equal(t, 1, strings.Count(logs, "INIT START"), "one cold start for every event")
	require.NotContains(t, logs, testSecret)
	for _, c := range cases {
		_, sig, _ := strings.Cut(string(c.event), "v0=")
		if len(sig) >= 64 {
			require.NotContains(t, logs, sig[:64], "the signature of %s is in the log", c.name)
		}
		mid := string(c.body[len(c.body)/2 : len(c.body)/2+32])
		require.NotContains(t, logs, mid, "a piece of the body of %s is in the log", c.name)
	}
}

// Without a secret the binary still starts, says why at init, and answers
// 500 to every request.
func TestBootstrapFailsClosed(t *testing.T) {
	emulator, root := testenv.RIE(t)
	moto := testenv.StartMoto(t)
	testenv.AWSEnv(t, moto.Endpoint)
	bin := testenv.BuildBootstrap(t, root, "./lambda/bootstrap")
	out := &testenv.Buffer{}
	fn := testenv.StartRIE(t, emulator, bin, functionEnv(map[string]string{
		envvar.SQSQueueURL: moto.Endpoint + "/123456789012/elevenrelay-events",
	}), out)
	event, _, _ := resign(t, filepath.Join("..", "..", "events", "apigw-v2-post_call_transcription.json"), time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	status, answer, err := fn.Invoke(ctx, event)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s", answer)
	require.JSONEq(t, `{"statusCode":500,"headers":{"Content-Type":"application/json"},"body":"{\"error\":\"Webhook secret not configured\"}","isBase64Encoded":false}`, string(answer))
	require.Contains(t, out.String(), "cannot start; answering 500 to every request")
	require.Contains(t, out.String(), "set ELEVENLABS_WEBHOOK_SECRET")
}
