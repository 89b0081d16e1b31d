package core

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestLoadConfig(t *testing.T) {
	c, err := LoadConfig(envOf(map[string]string{
		EnvSecret:          " wsec_old , wsec_new ,",
		EnvTolerance:       "5m",
		EnvMaxBodyBytes:    "1048576",
		EnvPublishTimeout:  "3s",
		EnvSQSQueueURL:     "https://sqs.eu-west-1.amazonaws.com/123456789012/hooks.fifo",
		EnvPubSubTopic:     "hooks",
		EnvGoogleProject:   "proj",
		EnvPubSubOrdering:  "true",
		EnvClaimCheck:      "my-bucket",
		EnvClaimCheckLimit: "200000",
		EnvSourceAllowlist: "elevenlabs-eu,10.0.0.0/8",
		EnvLogLevel:        "debug",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Secrets, "|") != "wsec_old|wsec_new" || c.Tolerance != 5*time.Minute || c.MaxBodyBytes != 1<<20 ||
		c.PublishTimeout != 3*time.Second || !c.IsFIFO() || c.PubSubTopic != "projects/proj/topics/hooks" || !c.PubSubOrdering ||
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
	if c.Tolerance != DefaultTolerance || c.PublishTimeout != DefaultPublishTimeout || c.Secrets != nil || c.Allowlist != nil {
		t.Fatalf("defaults = %+v", c)
	}
	r := c.Receiver(&memSink{}, nil, nil)
	if r.Verifier != nil {
		t.Fatal("a receiver with no secret must fail closed (nil Verifier)")
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name, key, val, want string
	}{
		{"tolerance not a duration", EnvTolerance, "30", `WEBHOOK_TOLERANCE="30": want a positive Go duration`},
		{"tolerance negative", EnvTolerance, "-1m", `WEBHOOK_TOLERANCE="-1m"`},
		{"max body not a number", EnvMaxBodyBytes, "1MB", `WEBHOOK_MAX_BODY_BYTES="1MB": want a positive number of bytes`},
		{"max body zero", EnvMaxBodyBytes, "0", `WEBHOOK_MAX_BODY_BYTES="0"`},
		{"publish timeout", EnvPublishTimeout, "soon", `PUBLISH_TIMEOUT="soon"`},
		{"queue url not a url", EnvSQSQueueURL, "my-queue", `SQS_QUEUE_URL="my-queue": want the queue URL`},
		{"topic malformed", EnvPubSubTopic, "projects/p/subscriptions/s", `PUBSUB_TOPIC="projects/p/subscriptions/s": want projects/P/topics/T`},
		{"bare topic without project", EnvPubSubTopic, "t", `a bare topic name needs GOOGLE_CLOUD_PROJECT`},
		{"ordering not a bool", EnvPubSubOrdering, "yes please", `PUBSUB_ORDERING="yes please"`},
		{"bucket given as url", EnvClaimCheck, "s3://bucket", `CLAIM_CHECK_BUCKET="s3://bucket": want a bucket name`},
		{"claim-check threshold", EnvClaimCheckLimit, "-5", `CLAIM_CHECK_THRESHOLD_BYTES="-5"`},
		{"allowlist preset", EnvSourceAllowlist, "elevenlabs-mars", `unknown allowlist preset "elevenlabs-mars"`},
		{"allowlist cidr", EnvSourceAllowlist, "10.0.0.0/99", `SOURCE_ALLOWLIST entry "10.0.0.0/99": want an IP address, a CIDR`},
		{"allowlist word", EnvSourceAllowlist, "bogus", `SOURCE_ALLOWLIST entry "bogus": want an IP address`},
		{"bucket name too short", EnvClaimCheck, "b", `CLAIM_CHECK_BUCKET="b": want a bucket name of 3 to 222 characters`},
		{"bucket name upper case", EnvClaimCheck, "My-Bucket", `CLAIM_CHECK_BUCKET="My-Bucket": want a bucket name: lower-case letters`},
		{"secret arn", EnvSecretARN, "my-secret", `ELEVENLABS_WEBHOOK_SECRET_ARN (value not shown): not an ARN`},
		{"tolerance under a second", EnvTolerance, "500ms", `WEBHOOK_TOLERANCE="500ms": want at least 1s`},
		{"log level", EnvLogLevel, "loud", `LOG_LEVEL="loud"`},
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
	_, err := LoadConfig(envOf(map[string]string{EnvSecretARN: "wsec_pasted_here"}))
	if !errors.Is(err, ErrConfig) || strings.Contains(err.Error(), "wsec_pasted_here") {
		t.Fatalf("err = %v, want ErrConfig without the value", err)
	}
	// Every mistake is reported at once.
	_, err = LoadConfig(envOf(map[string]string{EnvTolerance: "x", EnvMaxBodyBytes: "y"}))
	if err == nil || !strings.Contains(err.Error(), EnvTolerance) || !strings.Contains(err.Error(), EnvMaxBodyBytes) {
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
