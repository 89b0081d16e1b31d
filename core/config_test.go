package core

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/internal/envvar"
)

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestLoadConfig(t *testing.T) {
	c, err := LoadConfig(envOf(map[string]string{
		envvar.Secret:              " wsec_old , wsec_new ,",
		envvar.Tolerance:           "5m",
		envvar.MaxBodyBytes:        "1048576",
		envvar.PublishTimeout:      "3s",
		envvar.SQSQueueURL:         "https://sqs.eu-west-1.amazonaws.com/123456789012/hooks.fifo",
		envvar.PubSubTopic:         "hooks",
		envvar.GoogleProject:       "proj",
		envvar.PubSubOrdering:      "true",
		envvar.ClaimCheckBucket:    "my-bucket",
		envvar.ClaimCheckThreshold: "200000",
		envvar.SourceAllowlist:     "elevenlabs-eu,10.0.0.0/8",
		envvar.LogLevel:            "debug",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Secrets, "|") != "wsec_old|wsec_new" || c.Tolerance != 5*time.Minute || c.MaxBodyBytes != 1<<20 ||
		c.PublishTimeout != 3*time.Second || !envvar.FIFOQueue(c.SQSQueueURL) || c.PubSubTopic != "projects/proj/topics/hooks" || !c.PubSubOrdering ||
		c.ClaimCheckBucket != "my-bucket" || c.ClaimCheckThreshold != 200000 || !c.Allowlist.Allows("35.204.38.71") ||
		!c.Allowlist.Allows("10.1.2.3") || c.Allowlist.Allows("34.67.146.145") || c.LogLevel != slog.LevelDebug {
		t.Fatalf("config = %+v", c)
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := LoadConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Tolerance != DefaultTolerance || c.PublishTimeout != defaultPublishTimeout || c.Secrets != nil || c.Allowlist != nil {
		t.Fatalf("defaults = %+v", c)
	}
	r, err := c.Receiver(&memSink{}, nil, nil)
	if !errors.Is(err, ErrNoSecret) || r.Verifier != nil {
		t.Fatalf("a receiver with no secret must fail closed (nil Verifier) and say so: %v", err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name, key, val, want string
	}{
		{"tolerance not a duration", envvar.Tolerance, "30", `WEBHOOK_TOLERANCE="30": want a positive Go duration`},
		{"tolerance negative", envvar.Tolerance, "-1m", `WEBHOOK_TOLERANCE="-1m"`},
		{"max body not a number", envvar.MaxBodyBytes, "1MB", `WEBHOOK_MAX_BODY_BYTES="1MB": want a positive number of bytes`},
		{"max body zero", envvar.MaxBodyBytes, "0", `WEBHOOK_MAX_BODY_BYTES="0"`},
		{"publish timeout", envvar.PublishTimeout, "soon", `PUBLISH_TIMEOUT="soon"`},
		{"queue url not a url", envvar.SQSQueueURL, "my-queue", `SQS_QUEUE_URL="my-queue": want the queue URL`},
		{"topic malformed", envvar.PubSubTopic, "projects/p/subscriptions/s", `PUBSUB_TOPIC="projects/p/subscriptions/s": want projects/P/topics/T`},
		{"bare topic without project", envvar.PubSubTopic, "t", `a bare topic name needs GOOGLE_CLOUD_PROJECT`},
		{"ordering not a bool", envvar.PubSubOrdering, "yes please", `PUBSUB_ORDERING="yes please"`},
		{"bucket given as url", envvar.ClaimCheckBucket, "s3://bucket", `CLAIM_CHECK_BUCKET="s3://bucket": want a bucket name`},
		{"claim-check threshold", envvar.ClaimCheckThreshold, "-5", `CLAIM_CHECK_THRESHOLD_BYTES="-5"`},
		{"allowlist preset", envvar.SourceAllowlist, "elevenlabs-mars", `unknown allowlist preset "elevenlabs-mars"`},
		{"allowlist cidr", envvar.SourceAllowlist, "10.0.0.0/99", `SOURCE_ALLOWLIST entry "10.0.0.0/99": want an IP address, a CIDR`},
		{"allowlist word", envvar.SourceAllowlist, "bogus", `SOURCE_ALLOWLIST entry "bogus": want an IP address`},
		{"bucket name too short", envvar.ClaimCheckBucket, "b", `CLAIM_CHECK_BUCKET="b": want a bucket name of 3 to 222 characters`},
		{"bucket name upper case", envvar.ClaimCheckBucket, "My-Bucket", `CLAIM_CHECK_BUCKET="My-Bucket": want a bucket name: lower-case letters`},
		{"secret arn", envvar.SecretARN, "my-secret", `ELEVENLABS_WEBHOOK_SECRET_ARN (value not shown): not an ARN`},
		{"tolerance under a second", envvar.Tolerance, "500ms", `WEBHOOK_TOLERANCE="500ms": want at least 1s`},
		{"log level", envvar.LogLevel, "loud", `LOG_LEVEL="loud"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(envOf(map[string]string{tc.key: tc.val}))
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrConfig containing %q", err, tc.want)
			}
		})
	}
	// A secret pasted into the ARN's variable stays out of the error, which
	// the receiver logs on every request.
	_, err := LoadConfig(envOf(map[string]string{envvar.SecretARN: "wsec_pasted_here"}))
	if !errors.Is(err, ErrConfig) || strings.Contains(err.Error(), "wsec_pasted_here") {
		t.Fatalf("err = %v, want ErrConfig without the value", err)
	}
	// Every mistake is reported at once.
	_, err = LoadConfig(envOf(map[string]string{envvar.Tolerance: "x", envvar.MaxBodyBytes: "y"}))
	if err == nil || !strings.Contains(err.Error(), envvar.Tolerance) || !strings.Contains(err.Error(), envvar.MaxBodyBytes) {
		t.Fatalf("err = %v, want both mistakes", err)
	}
}

func TestAllowlist(t *testing.T) {
	a, err := ParseAllowlist("elevenlabs, 192.0.2.0/24, 2001:db8::/32, 198.51.100.7")
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]bool{
		"34.67.146.145": true, "34.126.179.103": true, "192.0.2.200": true, "::ffff:192.0.2.1": true,
		"2001:db8::1": true, "198.51.100.7": true, "198.51.100.8": false, "8.8.8.8": false, "": false, "nonsense": false,
	} {
		if got := a.Allows(ip); got != want {
			t.Errorf("Allows(%q) = %v, want %v", ip, got, want)
		}
	}
	if a, err := ParseAllowlist(" , "); a != nil || err != nil {
		t.Fatalf("empty spec: %v %v", a, err)
	}
	var none *Allowlist
	if !none.Allows("8.8.8.8") {
		t.Fatal("a nil allowlist admits everyone")
	}
}
