package consume_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/logging"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/elevenrelay/elevenrelay/lambda"
	"github.com/elevenrelay/elevenrelay/lambda/consume"
	"github.com/elevenrelay/elevenrelay/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// audioBody writes n bytes of pseudo-audio, base64 in a post_call_audio
// body, and returns the body and the audio's SHA-256.
func audioBody(n int) ([]byte, [32]byte) {
	audio := make([]byte, n)
	for i := range audio {
		audio[i] = byte(i*7 + i>>9)
	}
	sum := sha256.Sum256(audio)
	var b bytes.Buffer
	b.Grow(n*4/3 + 200)
	b.WriteString(`{"type":"post_call_audio","event_timestamp":1763859605,"data":{"agent_id":"agent_1","conversation_id":"conv_big","full_audio":"`)
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	enc.Write(audio)
	enc.Close()
	b.WriteString(`"}}`)
	return b.Bytes(), sum
}

// TestSQSHandlerOnMoto queues events as the receiver does (a 40 MiB audio
// body claim-checked to S3, the same transcript twice, a failing event),
// receives them from moto's SQS as a Lambda trigger would, and runs the
// handler: the audio lands in a file with little memory beyond the body,
// the repeat is skipped, and only the failing message is reported.
func TestSQSHandlerOnMoto(t *testing.T) {
	moto := testenv.StartMoto(t)
	testenv.AWSEnv(t, moto.Endpoint)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	require.NoError(t, err)
	sqsc := sqs.NewFromConfig(cfg)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	_, err = s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("claims")})
	require.NoError(t, err)
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("events")})
	require.NoError(t, err)
	// The receiver's own wiring: SQS behind a claim check to the bucket.
	queue, err := lambda.NewQueue(ctx, core.Config{SQSQueueURL: *q.QueueUrl, ClaimCheckBucket: "claims"}, lambda.Options{AWS: &cfg})
	require.NoError(t, err)
	sink := queue.Sink

	audio, audioSum := audioBody(30 << 20)
	require.Greater(t, len(audio), 40<<20)
	transcript, err := os.ReadFile("../../events/bodies/post_call_transcription.json")
	require.NoError(t, err)
	failing := []byte(`{"type":"call_initiation_failure","event_timestamp":1,"data":{"conversation_id":"conv_fail","failure_reason":"busy"}}`)
	for _, body := range [][]byte{audio, transcript, failing, transcript} {
		_, err := sink.Publish(ctx, core.NewMessage(body, core.Signature{Timestamp: "1"}, time.Now()))
		require.NoError(t, err)
	}
	audio = nil

	var msgs []types.Message
	for i := 0; i < 10 && len(msgs) < 4; i++ {
		out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"},
		})
		require.NoError(t, err)
		msgs = append(msgs, out.Messages...)
	}
	require.Len(t, msgs, 4)
	ev := events.SQSEvent{}
	var failingID string
	for _, m := range msgs {
		rec := events.SQSMessage{MessageId: *m.MessageId, Body: *m.Body, EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:events",
			MessageAttributes: map[string]events.SQSMessageAttribute{}}
		for k, v := range m.MessageAttributes {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{StringValue: v.StringValue, DataType: "String"}
		}
		if *m.MessageAttributes[core.AttrEventType].StringValue == webhook.TypeCallInitiationFailure {
			failingID = *m.MessageId
		}
		ev.Records = append(ev.Records, rec)
	}

	dir := t.TempDir()
	var transcripts atomic.Int32
	router := &webhook.Router{
		PostCallAudio: func(_ context.Context, e *webhook.PostCallAudio) error {
			f, err := os.Create(filepath.Join(dir, e.Data.ConversationID+".mp3"))
			if err != nil {
				return err
			}
			if _, err := e.Data.FullAudio.WriteTo(f); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		},
		PostCallTranscription: func(context.Context, *webhook.PostCallTranscription) error {
			transcripts.Add(1)
			return nil
		},
		CallInitiationFailure: func(context.Context, *webhook.CallInitiationFailure) error {
			return errors.New("the CRM is down")
		},
	}
	var logs testenv.Buffer
	h := consume.NewSQSHandler(consume.Options{Router: router, Fetcher: lambda.NewS3Fetcher(s3c), Logger: logging.New(&logs, slog.LevelDebug)})

	peak := watchHeap(t)
	resp, err := h.Handle(ctx, ev)
	extra := peak()
	require.NoError(t, err)

	assert.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: failingID}}, resp.BatchItemFailures)
	assert.Equal(t, int32(1), transcripts.Load(), "the repeated transcript is skipped")
	assert.Contains(t, logs.String(), "content_sha256 repeated in the batch")
	assert.Contains(t, logs.String(), "the CRM is down")

	f, err := os.Open(filepath.Join(dir, "conv_big.mp3"))
	require.NoError(t, err)
	defer f.Close()
	hash := sha256.New()
	n, err := io.Copy(hash, f)
	require.NoError(t, err)
	assert.Equal(t, int64(30<<20), n)
	assert.Equal(t, audioSum[:], hash.Sum(nil), "the decoded file is the audio")

	// The claim-checked body (40 MiB) is held while it is handled; the
	// decoded audio (30 MiB) never is: beyond the body, less than a quarter
	// of it (S3 client buffers, the file writes), never a second copy.
	body := int64(40 << 20)
	t.Logf("peak heap growth while handling: %d MiB (body %d MiB)", extra>>20, body>>20)
	assert.Less(t, extra, body+body/4)
}

// watchHeap samples the live heap until the returned function is called,
// which returns the peak growth over the heap at the start.
func watchHeap(t *testing.T) func() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := int64(ms.HeapAlloc)
	var mu sync.Mutex
	peak := int64(0)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, int64(ms.HeapAlloc)-base)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

func TestSQSHandlerFIFOStopsAtFirstFailure(t *testing.T) {
	attrs := func(sum string) map[string]events.SQSMessageAttribute {
		return map[string]events.SQSMessageAttribute{core.AttrContentSHA256: {StringValue: aws.String(sum), DataType: "String"}}
	}
	arn := "arn:aws:sqs:us-east-1:000000000000:events.fifo"
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "1", Body: `{"type":"voice_removed","data":{"voice_id":"v"}}`, EventSourceARN: arn, MessageAttributes: attrs("a")},
		{MessageId: "2", Body: `{"type":"voice_removal_notice","data":{"voice_id":"v"}}`, EventSourceARN: arn, MessageAttributes: attrs("b")},
		{MessageId: "3", Body: `{"type":"voice_removed","data":{"voice_id":"w"}}`, EventSourceARN: arn, MessageAttributes: attrs("c")},
	}}
	var handled []string
	router := &webhook.Router{
		VoiceRemoved: func(_ context.Context, e *webhook.VoiceRemoved) error {
			handled = append(handled, e.Data.VoiceID)
			return nil
		},
		VoiceRemovalNotice: func(context.Context, *webhook.VoiceRemovalNotice) error { return errors.New("down") },
	}
	resp, err := consume.NewSQSHandler(consume.Options{Router: router}).Handle(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "2"}, {ItemIdentifier: "3"}}, resp.BatchItemFailures)
	assert.Equal(t, []string{"v"}, handled, "nothing after the failure runs")

	// A claim-checked message without a fetcher fails alone on a standard queue.
	ev = events.SQSEvent{Records: []events.SQSMessage{{
		MessageId: "4", Body: `{"claim_check":{"url":"s3://b/k","size":1,"sha256":"x"}}`,
		MessageAttributes: map[string]events.SQSMessageAttribute{core.AttrClaimCheck: {StringValue: aws.String("s3://b/k"), DataType: "String"}},
	}}}
	resp, err = consume.NewSQSHandler(consume.Options{Router: router}).Handle(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "4"}}, resp.BatchItemFailures)
}
