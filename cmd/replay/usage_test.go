package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReplayUsageErrors: every problem with an invocation is printed, a bad
// platform before anything else, all missing variables in one line, and
// an error met while replaying is printed, not only counted.
func TestReplayUsageErrors(t *testing.T) {
	// No region from the environment or a profile.
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	tests := []struct {
		name     string
		args     []string
		env      env
		wantCode int
		want     []string // each must be in stderr
		notWant  []string
	}{
		{"bad platform first", []string{"-platform", "azure"}, env{"WEBHOOK_TOLERANCE": "x"}, 2,
			[]string{`-platform "azure"`, "want aws or gcp"}, []string{"WEBHOOK_TOLERANCE", "set "}},
		{"no platform", nil, env{}, 2, []string{`-platform ""`}, nil},
		{"all missing variables at once (aws)", []string{"-platform", "aws"}, env{}, 2,
			[]string{"set CLAIM_CHECK_BUCKET (the bucket the receiver spills to), SQS_QUEUE_URL"}, nil},
		{"all missing variables at once (gcp)", []string{"-platform", "gcp"}, env{}, 2,
			[]string{"set CLAIM_CHECK_BUCKET (the bucket the receiver spills to), PUBSUB_TOPIC"}, nil},
		{"bad values and missing variables together", []string{"-platform", "aws"}, env{"CLAIM_CHECK_BUCKET": "b", "WEBHOOK_TOLERANCE": "x"}, 2,
			[]string{`CLAIM_CHECK_BUCKET="b"`, `WEBHOOK_TOLERANCE="x"`, "set SQS_QUEUE_URL"}, []string{"set CLAIM_CHECK_BUCKET"}},
		{"no AWS region", []string{"-platform", "aws"}, env{"CLAIM_CHECK_BUCKET": "bucket", "SQS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/q"}, 2,
			[]string{"no AWS region: set AWS_REGION"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			code := run(ctx, tc.args, tc.env.get, &out, &errs)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.wantCode, out.String(), errs.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(errs.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs.String())
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(errs.String(), w) {
					t.Errorf("stderr has %q:\n%s", w, errs.String())
				}
			}
		})
	}
}

// TestReplayPrintsTheErrorItFailsOn: with a queue and bucket set but an
// endpoint that refuses connections, the run fails and says why.
func TestReplayPrintsTheErrorItFailsOn(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	var out, errs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := run(ctx, []string{"-platform", "aws"}, env{"CLAIM_CHECK_BUCKET": "bucket", "SQS_QUEUE_URL": "http://127.0.0.1:1/1/q"}.get, &out, &errs)
	if code != 1 || !strings.Contains(errs.String(), "replay: list spill/") || !strings.Contains(errs.String(), "127.0.0.1:1") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errs.String())
	}
}
