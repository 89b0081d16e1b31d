package lambda

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/logging"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/stretchr/testify/require"
)

// TestFaults takes SQS (and S3) away from the handler in the middle of its
// work, through a loopback proxy in front of moto that the test cuts, slows
// and restores, so moto keeps its queues. No spill bucket unless said: an
// outage must give 503, never a 2xx for something that is not queued.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	moto := testenv.StartMoto(t)
	testenv.AWSEnv(t, moto.Endpoint)
	motoAddr := strings.TrimPrefix(moto.Endpoint, "http://")
	ctx := context.Background()
	direct, err := AWSConfigFromEnv(nil)
	require.NoError(t, err)
	c := awsClients{cfg: direct, sqs: sqs.NewFromConfig(direct)}
	c.s3 = s3.NewFromConfig(direct, func(o *s3.Options) { o.UsePathStyle = true })
	transcription := []byte(mustRead(t, "../events/bodies/post_call_transcription.json"))
	audio := []byte(mustRead(t, "../events/bodies/post_call_audio.json"))

	// handler builds the function as deployed, with SQS (and S3 if s3Proxy
	// is set) reached through proxies.
	handler := func(t *testing.T, sqsProxy, s3Proxy *testenv.Proxy, env map[string]string) *Handler {
		t.Helper()
		if sqsProxy != nil {
			t.Setenv("AWS_ENDPOINT_URL_SQS", "http://"+sqsProxy.Addr)
		}
		if s3Proxy != nil {
			t.Setenv("AWS_ENDPOINT_URL_S3", "http://"+s3Proxy.Addr)
		}
		env[envvar.Secret] = testSecret
		// The AWS SDK's variables, proxies included, come from the process.
		getenv := func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			return os.Getenv(k)
		}
		return New(ctx, Options{Getenv: getenv, Logger: logging.New(io.Discard, 0)})
	}

	t.Run("queue down in the middle of concurrent requests", func(t *testing.T) {
		proxy := testenv.StartProxy(t, motoAddr)
		q := c.queue(t, "mid-run", nil)
		h := handler(t, proxy, nil, map[string]string{envvar.SQSQueueURL: q, envvar.PublishTimeout: "2s"})
		const n, workers = 36, 6
		answers := make([]faultAnswer, n)
		proxy.Outage(n, workers, func(i int) {
			body := fmt.Appendf(nil, `{"type":"post_call_transcription","data":{"conversation_id":"conv_%d"}}`, i)
			answers[i] = invokeAsync(h, body)
			answers[i].body = body
		})

		queued := drainIDs(t, c, q)
		var ok, unavailable int
		for i, a := range answers {
			switch {
			case a.err != nil:
				t.Fatalf("request %d: %v", i, a.err)
			case a.Status == 200:
				ok++
				require.Equal(t, "accepted", a.Body["status"], "request %d", i)
				require.Equal(t, sha(a.body), queued[a.Body["message_id"]], "request %d was answered 200 but is not in the queue", i)
			case a.Status == 503:
				unavailable++
			default:
				t.Fatalf("request %d: answer %d %v, want 200 or 503", i, a.Status, a.Body)
			}
		}
		require.Positive(t, unavailable, "the outage must show as 503s")
		require.Positive(t, ok, "requests before and after the outage must be accepted")
		t.Logf("%d accepted and queued, %d answered 503", ok, unavailable)
	})

	t.Run("queue slower than PUBLISH_TIMEOUT: 503 within about the timeout", func(t *testing.T) {
		proxy := testenv.StartProxy(t, motoAddr)
		q := c.queue(t, "slow", nil)
		h := handler(t, proxy, nil, map[string]string{envvar.SQSQueueURL: q, envvar.PublishTimeout: "1s"})
		proxy.Slow(3 * time.Second)
		defer proxy.Slow(0)
		for range 3 {
			start := time.Now()
			a := invokeAsync(h, transcription)
			require.NoError(t, a.err)
			require.Equal(t, 503, a.Status, "%v", a.Body)
			require.Less(t, time.Since(start), 1500*time.Millisecond, "answer must come within about PUBLISH_TIMEOUT")
		}
	})

	t.Run("claim-check store down: large bodies 503, small ones still 200", func(t *testing.T) {
		s3Proxy := testenv.StartProxy(t, motoAddr)
		q := c.queue(t, "store-down", nil)
		bucket := c.bucket(t, "store-down")
		h := handler(t, nil, s3Proxy, map[string]string{envvar.SQSQueueURL: q, envvar.ClaimCheckBucket: bucket,
			envvar.ClaimCheckThreshold: "4096", envvar.PublishTimeout: "2s"})
		s3Proxy.Down()
		large := invokeAsync(h, audio)
		require.NoError(t, large.err)
		require.Equal(t, 503, large.Status, "%v", large.Body)
		small := invokeAsync(h, transcription)
		require.NoError(t, small.err)
		require.Equal(t, 200, small.Status, "%v", small.Body)
		require.Equal(t, map[string]string{small.Body["message_id"]: sha(transcription)}, drainIDs(t, c, q))
	})

	t.Run("retry after recovery: queued again on a standard queue", func(t *testing.T) {
		proxy := testenv.StartProxy(t, motoAddr)
		q := c.queue(t, "retry-standard", nil)
		h := handler(t, proxy, nil, map[string]string{envvar.SQSQueueURL: q, envvar.PublishTimeout: "2s"})
		proxy.Down()
		require.Equal(t, 503, invokeAsync(h, transcription).Status)
		proxy.Up()
		a := invokeAsync(h, transcription)
		require.Equal(t, 200, a.Status, "%v", a.Body)
		require.Equal(t, map[string]string{a.Body["message_id"]: sha(transcription)}, drainIDs(t, c, q))
	})

	t.Run("retry after recovery: deduplicated on a FIFO queue", func(t *testing.T) {
		// The first attempt reaches SQS, but its answer comes after the
		// timeout: 503, yet queued. ElevenLabs' retry carries the same body,
		// so the same MessageDeduplicationId (content_sha256): one message.
		proxy := testenv.StartProxy(t, motoAddr)
		q := c.queue(t, "retry.fifo", map[string]string{"FifoQueue": "true"})
		h := handler(t, proxy, nil, map[string]string{envvar.SQSQueueURL: q, envvar.PublishTimeout: "1s"})
		proxy.Slow(2 * time.Second)
		first := time.Now()
		require.Equal(t, 503, invokeAsync(h, transcription).Status)
		// The proxy holds only the answer: the first attempt is in the
		// queue, seen directly in moto, without receiving it.
		require.Equal(t, 1, visibleMessages(t, c, q), "the first attempt, answered 503, was queued late")
		proxy.Slow(0)
		time.Sleep(time.Until(first.Add(1100 * time.Millisecond))) // a new signature timestamp
		a := invokeAsync(h, transcription)
		require.Equal(t, 200, a.Status, "%v", a.Body)
		require.Equal(t, 1, visibleMessages(t, c, q), "the retry was deduplicated")
		queued := drainIDs(t, c, q)
		require.Len(t, queued, 1, "the late first attempt and the retry are one message")
		for _, sum := range queued {
			require.Equal(t, sha(transcription), sum)
		}
	})
}

type faultAnswer struct {
	answer
	body []byte
	err  error
}

// invokeAsync is invoke for any goroutine: it reports instead of failing.
func invokeAsync(h *Handler, body []byte) faultAnswer {
	ev, err := json.Marshal(events.APIGatewayV2HTTPRequest{Version: "2.0", Body: string(body),
		Headers:        map[string]string{"elevenlabs-signature": core.Sign(testSecret, time.Now(), body)},
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}}})
	if err != nil {
		return faultAnswer{err: err}
	}
	out, err := h.Invoke(context.Background(), ev)
	if err != nil {
		return faultAnswer{err: err}
	}
	var res events.APIGatewayV2HTTPResponse
	a := faultAnswer{}
	if err := json.Unmarshal(out, &res); err != nil {
		return faultAnswer{err: err}
	}
	a.Status = res.StatusCode
	a.err = json.Unmarshal([]byte(res.Body), &a.Body)
	return a
}

// visibleMessages reads the queue's ApproximateNumberOfMessages from moto
// directly, waiting up to 5 s for it to be nonzero.
func visibleMessages(t *testing.T, c awsClients, url string) int {
	t.Helper()
	n := 0
	for range 50 {
		out, err := c.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages}})
		require.NoError(t, err)
		n, err = strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
		require.NoError(t, err)
		if n > 0 {
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
	return n
}

// drainIDs receives until the queue is empty and returns message id →
// content_sha256 of the original body (from the attribute).
func drainIDs(t *testing.T, c awsClients, url string) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for range 30 {
		msgs := c.receive(t, url)
		if len(msgs) == 0 {
			return ids
		}
		for _, m := range msgs {
			ids[aws.ToString(m.MessageId)] = aws.ToString(m.MessageAttributes[core.AttrContentSHA256].StringValue)
			_, err := c.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle})
			require.NoError(t, err)
		}
	}
	t.Fatal("queue not drained after 30 receives")
	return nil
}
