package core

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/elevenrelay/elevenrelay/internal/envvar"
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

// The two name checks below are written out rather than compiled from
// regular expressions at package init: the bucket pattern's {1,220} alone
// compiled to 150 KB in 700 allocations, the largest init of a Lambda cold
// start. config_names_test.go keeps the expressions and checks both agree.

// isTopicPath reports whether s is projects/P/topics/T, neither part empty
// nor containing a slash.
func isTopicPath(s string) bool {
	_, ok := envvar.TopicProject(s)
	return ok
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

// bucketNameProblem says why s, which isBucketName refused, is not a
// bucket name.
func bucketNameProblem(s string) string {
	switch {
	case strings.Contains(s, "/") || strings.Contains(s, ":"):
		return "want a bucket name, not a URL"
	case len(s) < 3 || len(s) > 222:
		return "want a bucket name of 3 to 222 characters (63 without dots)"
	default:
		return "want a bucket name: lower-case letters, digits, '.', '_' and '-', starting and ending with a letter or digit"
	}
}

// LoadConfig reads the configuration through getenv (os.Getenv in
// production). Every unusable value is reported, each wrapping ErrConfig,
// so one deploy shows every mistake at once. Missing secrets or targets are
// not errors here: each platform decides what it requires.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{Tolerance: DefaultTolerance, PublishTimeout: defaultPublishTimeout}
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

	c.Secrets = envvar.SplitSecrets(getenv(envvar.Secret))
	c.SecretARN = get(envvar.SecretARN)
	if c.SecretARN != "" && !strings.HasPrefix(c.SecretARN, "arn:") {
		bad(envvar.SecretARN, c.SecretARN, "not an ARN")
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
	duration(envvar.Tolerance, &c.Tolerance)
	if c.Tolerance < time.Second {
		// Signature timestamps are whole seconds: less would refuse nearly
		// every request.
		bad(envvar.Tolerance, get(envvar.Tolerance), "want at least 1s: signature timestamps are whole seconds")
	}
	duration(envvar.PublishTimeout, &c.PublishTimeout)
	size(envvar.MaxBodyBytes, &c.MaxBodyBytes)
	size(envvar.ClaimCheckThreshold, &c.ClaimCheckThreshold)

	if v := get(envvar.SQSQueueURL); v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(envvar.SQSQueueURL, v, "want the queue URL, https://sqs.<region>.amazonaws.com/<account>/<name>")
		} else {
			c.SQSQueueURL = v
		}
	}
	if v := get(envvar.PubSubTopic); v != "" {
		switch {
		case isTopicPath(v):
			c.PubSubTopic = v
		case !strings.Contains(v, "/") && get(envvar.GoogleProject) != "":
			c.PubSubTopic = "projects/" + get(envvar.GoogleProject) + "/topics/" + v
		case !strings.Contains(v, "/"):
			bad(envvar.PubSubTopic, v, "a bare topic name needs "+envvar.GoogleProject)
		default:
			bad(envvar.PubSubTopic, v, "want projects/P/topics/T")
		}
	}
	if v := get(envvar.PubSubOrdering); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(envvar.PubSubOrdering, v, "want true or false")
		}
		c.PubSubOrdering = b
	}
	if v := get(envvar.ClaimCheckBucket); v != "" {
		if !isBucketName(v) {
			bad(envvar.ClaimCheckBucket, v, bucketNameProblem(v))
		} else {
			c.ClaimCheckBucket = v
		}
	}
	if v := get(envvar.SourceAllowlist); v != "" {
		a, err := ParseAllowlist(v)
		if err != nil {
			errs = append(errs, err)
		}
		c.Allowlist = a
	}
	if v := get(envvar.LogLevel); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			bad(envvar.LogLevel, v, "want debug, info, warn or error")
		}
	}
	return c, errors.Join(errs...)
}

// Receiver returns a Receiver set up by c, publishing to sink and spilling
// to spill (nil for none). Without a usable secret it returns the
// Receiver and NewVerifier's error (ErrNoSecret): the Receiver then fails
// closed, answering 500 to every request, and the caller says why at start.
func (c Config) Receiver(sink Sink, spill ObjectStore, logger *slog.Logger) (*Receiver, error) {
	r := &Receiver{
		Sink:           sink,
		Spill:          spill,
		Allow:          c.Allowlist,
		MaxBodyBytes:   c.MaxBodyBytes,
		PublishTimeout: c.PublishTimeout,
		Logger:         logger,
	}
	v, err := NewVerifier(c.Secrets, VerifierOptions{Tolerance: c.Tolerance})
	if err != nil {
		return r, err
	}
	r.Verifier = v
	return r, nil
}
