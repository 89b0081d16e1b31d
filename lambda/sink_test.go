package lambda

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/stretchr/testify/require"
)

// fakeSQS records the one SendMessage call and answers with out or err.
type fakeSQS struct {
	in  *sqs.SendMessageInput
	out *sqs.SendMessageOutput
	err error
}

var _ SQSSendMessageAPI = (*fakeSQS)(nil)

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.in = in
	return f.out, f.err
}

func TestSQSSinkPublish(t *testing.T) {
	body := []byte(`{"type":"post_call_transcription","event_timestamp":1763859605,"data":{"conversation_id":"conv_1"}}`)
	msg := core.NewMessage(body, core.Signature{Timestamp: "1763859600"}, time.Date(2025, 11, 23, 1, 0, 0, 0, time.UTC))
	throttled := errors.New("api error ThrottlingException: Rate exceeded")
	tests := []struct {
		name      string
		queueURL  string
		fake      fakeSQS
		wantID    string
		wantErr   string
		wantGroup string
	}{
		{name: "standard", queueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/events",
			fake: fakeSQS{out: &sqs.SendMessageOutput{MessageId: aws.String("m-1")}}, wantID: "m-1"},
		{name: "fifo", queueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/events.fifo",
			fake: fakeSQS{out: &sqs.SendMessageOutput{MessageId: aws.String("m-2")}}, wantID: "m-2", wantGroup: "conv_1"},
		{name: "throttled", queueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/events",
			fake: fakeSQS{err: throttled}, wantErr: "queue unavailable: sqs SendMessage: api error ThrottlingException: Rate exceeded"},
		{name: "no message id", queueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/events",
			fake: fakeSQS{out: &sqs.SendMessageOutput{}}, wantErr: "queue unavailable: sqs SendMessage returned no message id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := tt.fake
			id, err := NewSQSSink(&fake, tt.queueURL).Publish(context.Background(), msg)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				require.ErrorIs(t, err, core.ErrPublish)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantID, id)
			require.Equal(t, string(body), aws.ToString(fake.in.MessageBody))
			got := map[string]string{}
			for k, v := range fake.in.MessageAttributes {
				require.Equal(t, "String", aws.ToString(v.DataType))
				got[k] = aws.ToString(v.StringValue)
			}
			require.Equal(t, msg.Attributes(), got)
			if tt.wantGroup == "" {
				require.Nil(t, fake.in.MessageGroupId)
				require.Nil(t, fake.in.MessageDeduplicationId)
			} else {
				require.Equal(t, tt.wantGroup, aws.ToString(fake.in.MessageGroupId))
				require.Equal(t, msg.ContentSHA256, aws.ToString(fake.in.MessageDeduplicationId))
			}
		})
	}
}

func TestParseS3URL(t *testing.T) {
	tests := []struct{ url, bucket, key, err string }{
		{url: "s3://b/elevenlabs/2025/11/23/x.json", bucket: "b", key: "elevenlabs/2025/11/23/x.json"},
		{url: "gs://b/k", err: `claim-check object does not match its message: "gs://b/k" is not an s3://bucket/key URL`},
		{url: "s3://b/", err: `claim-check object does not match its message: "s3://b/" is not an s3://bucket/key URL`},
		{url: "s3:///k", err: `claim-check object does not match its message: "s3:///k" is not an s3://bucket/key URL`},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			b, k, err := parseS3URL(tt.url)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.bucket+" "+tt.key, b+" "+k)
		})
	}
}

// A claim-checked message with no S3 client is an error, not a panic.
func TestResolveClaimCheckWithoutClient(t *testing.T) {
	url := "s3://b/elevenlabs/k.json"
	msg := events.SQSMessage{Body: `{"claim_check":{"url":"s3://b/elevenlabs/k.json","size":2,"sha256":"x"}}`,
		MessageAttributes: map[string]events.SQSMessageAttribute{core.AttrClaimCheck: {DataType: "String", StringValue: &url}}}
	_, err := ResolveMessage(context.Background(), nil, msg)
	require.EqualError(t, err, "resolve s3://b/elevenlabs/k.json: no object fetcher given")
	var client *s3.Client
	_, err = ResolveMessage(context.Background(), NewS3Fetcher(client), msg)
	require.EqualError(t, err, "resolve s3://b/elevenlabs/k.json: no S3 client given to fetch the claim check with")
}
