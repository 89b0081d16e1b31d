package lambda

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// Records that are not inbox notifications never pass for processed: an
// SQS message whose body is not an S3 notification is a batch item failure
// (the queue's dead-letter queue ends up with it), and inbox notifications
// reaching a function without a bucket fail to be retried.
func TestInvokeRecordsWithoutInbox(t *testing.T) {
	tests := []struct {
		name    string
		event   string
		want    string
		wantErr string
	}{
		{"SQS message that is not an S3 notification", mustRead(t, "testdata/sqs-event.json"),
			`{"batchItemFailures":[{"itemIdentifier":"059f36b4-87a3-44ab-83d2-661975830a7d"}]}`, ""},
		{"S3 test event", `{"Records":[{"eventSource":"aws:sqs","messageId":"m1","body":"{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\",\"Bucket\":\"b\"}"}]}`,
			`{"batchItemFailures":[]}`, ""},
		{"SQS: inbox object, no bucket configured", `{"Records":[{"eventSource":"aws:sqs","messageId":"m2","body":"{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"inbox%2Fr1\"}}}]}"}]}`,
			`{"batchItemFailures":[{"itemIdentifier":"m2"}]}`, ""},
		{"SQS: object outside inbox/ is ignored", `{"Records":[{"eventSource":"aws:sqs","messageId":"m3","body":"{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"spill%2Fx\"}}}]}"}]}`,
			`{"batchItemFailures":[]}`, ""},
		{"direct S3: inbox object, no bucket configured", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"inbox/r1"}}}]}`,
			"", errNoInbox.Error()},
		{"records from another source", `{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"{}"}}]}`,
			"", errUnreadableRecords.Error()},
		{"records with a field of the wrong type", `{"Records":[{"eventSource":"aws:sqs","messageId":7}]}`,
			"", errUnreadableRecords.Error()},
		{"records not first, from another source", ` { "version": "0", "Records":[{"eventSource":"aws:sns"}]}`,
			"", errUnreadableRecords.Error()},
		{"direct S3, keys not first", ` { "other": 1, "Records":[{"eventSource":"aws:s3","eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"inbox/r1"}}}]}`,
			`{"batchItemFailures":[]}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			out, err := testHandler(t, &recordingSink{}, &logs).Invoke(context.Background(), []byte(tt.event))
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.JSONEq(t, tt.want, string(out))
		})
	}
}
