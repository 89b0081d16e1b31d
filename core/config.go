package core

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Environment variables, as docs/spec.md §4 names them.
const (
	EnvSecret          = "ELEVENLABS_WEBHOOK_SECRET"
	EnvSecretARN       = "ELEVENLABS_WEBHOOK_SECRET_ARN"
	EnvTolerance       = "WEBHOOK_TOLERANCE"
	EnvMaxBodyBytes    = "WEBHOOK_MAX_BODY_BYTES"
	EnvPublishTimeout  = "PUBLISH_TIMEOUT"
	EnvSQSQueueURL     = "SQS_QUEUE_URL"
	EnvPubSubTopic     = "PUBSUB_TOPIC"
	EnvGoogleProject   = "GOOGLE_CLOUD_PROJECT"
	EnvPubSubOrdering  = "PUBSUB_ORDERING"
	EnvClaimCheck      = "CLAIM_CHECK_BUCKET"
	EnvClaimCheckLimit = "CLAIM_CHECK_THRESHOLD_BYTES"
	EnvSourceAllowlist = "SOURCE_ALLOWLIST"
	EnvLogLevel        = "LOG_LEVEL"
)

// Config is the receiver's configuration, read from the environment.
type Config struct {
	// Secrets are the webhook secrets; more than one during rotation.
	Secrets []string
	// SecretARN names a Secrets Manager secret holding Secrets (AWS).
	SecretARN string
	// Tolerance is the accepted signature clock difference.
	Tolerance time.Duration
	// MaxBodyBytes caps request bodies; zero means the platform's limit.
	MaxBodyBytes int64
	// PublishTimeout bounds the queue call.
	PublishTimeout time.Duration
	// SQSQueueURL is the AWS target queue; FIFO when it ends in ".fifo".
	SQSQueueURL string
	// PubSubTopic is the GCP target as projects/P/topics/T.
	PubSubTopic string
	// PubSubOrdering publishes with conversation_id as the ordering key.
	PubSubOrdering bool
	// ClaimCheckBucket holds bodies too large for the queue, and spilled
	// bodies when the queue is down. Empty means none.
	ClaimCheckBucket string
	// ClaimCheckThreshold lowers the size above which bodies are
	// claim-checked; zero means the queue's own limit.
	ClaimCheckThreshold int64
	// Allowlist, when set, admits only these source addresses.
	Allowlist *Allowlist
	// LogLevel is the least level logged.
	LogLevel slog.Level
}

// IsFIFO reports whether the SQS queue is a FIFO queue.
func (c Config) IsFIFO() bool { return strings.HasSuffix(c.SQSQueueURL, ".fifo") }

// The two name checks below are written out rather than compiled from
// regular expressions at package init: the bucket pattern's {1,220} alone
// compiled to 150 KB in 700 allocations, the largest init of a Lambda cold
// start. config_names_test.go keeps the expressions and checks both agree.

// isTopicPath reports whether s is projects/P/topics/T, neither part empty
// nor containing a slash.
func isTopicPath(s string) bool {
	rest, ok := strings.CutPrefix(s, "projects/")
	if !ok {
		return false
	}
	i := strings.IndexByte(rest, '/')
	if i <= 0 {
		return false
	}
	topic, ok := strings.CutPrefix(rest[i:], "/topics/")
	return ok && topic != "" && !strings.Contains(topic, "/")
}

// isBucketName reports whether s can be an S3 or GCS bucket name (3 to 222
// of a-z, 0-9, '.', '_' and '-', starting and ending with a letter or
// digit): enough to refuse a URL given instead of a name.
func isBucketName(s string) bool {
	if len(s) < 3 || len(s) > 222 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

// LoadConfig reads the configuration through getenv (os.Getenv in
// production). Every unusable value is reported, each wrapping ErrConfig,
// so one deploy shows every mistake at once. Missing secrets or targets are
// not errors here: each platform decides what it requires.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{Tolerance: DefaultTolerance, PublishTimeout: DefaultPublishTimeout}
	var errs []error
	bad := func(name, val, why string) {
		if strings.Contains(name, "SECRET") {
			// A secret pasted into the wrong variable must not reach the
			// logs through this error, which every request's line repeats.
			errs = append(errs, fmt.Errorf("%w: %s (value not shown): %s", ErrConfig, name, why))
			return
		}
		errs = append(errs, fmt.Errorf("%w: %s=%q: %s", ErrConfig, name, val, why))
	}
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }

	for _, s := range strings.Split(getenv(EnvSecret), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.Secrets = append(c.Secrets, s)
		}
	}
	c.SecretARN = get(EnvSecretARN)
	if c.SecretARN != "" && !strings.HasPrefix(c.SecretARN, "arn:") {
		bad(EnvSecretARN, c.SecretARN, "not an ARN")
	}
	duration := func(name string, into *time.Duration) {
		v := get(name)
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad(name, v, "want a positive Go duration such as 30m or 10s")
			return
		}
		*into = d
	}
	size := func(name string, into *int64) {
		v := get(name)
		if v == "" {
			return
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			bad(name, v, "want a positive number of bytes")
			return
		}
		*into = n
	}
	duration(EnvTolerance, &c.Tolerance)
	if c.Tolerance < time.Second {
		// Signature timestamps are whole seconds: less would refuse nearly
		// every request.
		bad(EnvTolerance, get(EnvTolerance), "want at least 1s: signature timestamps are whole seconds")
	}
	duration(EnvPublishTimeout, &c.PublishTimeout)
	size(EnvMaxBodyBytes, &c.MaxBodyBytes)
	size(EnvClaimCheckLimit, &c.ClaimCheckThreshold)

	if v := get(EnvSQSQueueURL); v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(EnvSQSQueueURL, v, "want the queue URL, https://sqs.<region>.amazonaws.com/<account>/<name>")
		} else {
			c.SQSQueueURL = v
		}
	}
	if v := get(EnvPubSubTopic); v != "" {
		switch {
		case isTopicPath(v):
			c.PubSubTopic = v
		case !strings.Contains(v, "/") && get(EnvGoogleProject) != "":
			c.PubSubTopic = "projects/" + get(EnvGoogleProject) + "/topics/" + v
		case !strings.Contains(v, "/"):
			bad(EnvPubSubTopic, v, "a bare topic name needs "+EnvGoogleProject)
		default:
			bad(EnvPubSubTopic, v, "want projects/P/topics/T")
		}
	}
	if v := get(EnvPubSubOrdering); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(EnvPubSubOrdering, v, "want true or false")
		}
		c.PubSubOrdering = b
	}
	if v := get(EnvClaimCheck); v != "" {
		if !isBucketName(v) {
			bad(EnvClaimCheck, v, "want a bucket name, not a URL")
		} else {
			c.ClaimCheckBucket = v
		}
	}
	if v := get(EnvSourceAllowlist); v != "" {
		a, err := ParseAllowlist(v)
		if err != nil {
			errs = append(errs, err)
		}
		c.Allowlist = a
	}
	if v := get(EnvLogLevel); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			bad(EnvLogLevel, v, "want debug, info, warn or error")
		}
	}
	return c, errors.Join(errs...)
}

// Receiver returns a Receiver set up by c, publishing to sink and spilling
// to spill (nil for none). With no secret it fails closed: every request
// gets 500 until a secret is configured.
func (c Config) Receiver(sink Sink, spill ObjectStore, logger *slog.Logger) *Receiver {
	r := &Receiver{
		Sink:           sink,
		Spill:          spill,
		Allow:          c.Allowlist,
		MaxBodyBytes:   c.MaxBodyBytes,
		PublishTimeout: c.PublishTimeout,
		Logger:         logger,
	}
	v, err := NewVerifier(c.Secrets, VerifierOptions{Tolerance: c.Tolerance})
	if err == nil {
		r.Verifier = v
	}
	return r
}

// NewLogger returns the JSON logger every entrypoint uses: one object per
// line, which CloudWatch and Cloud Logging index by field.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
