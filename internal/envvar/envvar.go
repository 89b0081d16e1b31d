// Package envvar names the environment variables the receiver is configured
// by and holds the rules for reading their values that more than one
// package applies: core's LoadConfig, the platforms' start-up and the
// commands. They live here, not in core's public API, because a library
// user configures a Receiver with a core.Config, not with these names.
package envvar

import "strings"

// The environment variables, as the README's configuration table lists them.
const (
	Secret              = "ELEVENLABS_WEBHOOK_SECRET"
	SecretARN           = "ELEVENLABS_WEBHOOK_SECRET_ARN"
	Tolerance           = "WEBHOOK_TOLERANCE"
	MaxBodyBytes        = "WEBHOOK_MAX_BODY_BYTES"
	PublishTimeout      = "PUBLISH_TIMEOUT"
	SQSQueueURL         = "SQS_QUEUE_URL"
	PubSubTopic         = "PUBSUB_TOPIC"
	GoogleProject       = "GOOGLE_CLOUD_PROJECT"
	PubSubOrdering      = "PUBSUB_ORDERING"
	ClaimCheckBucket    = "CLAIM_CHECK_BUCKET"
	ClaimCheckThreshold = "CLAIM_CHECK_THRESHOLD_BYTES"
	SourceAllowlist     = "SOURCE_ALLOWLIST"
	LogLevel            = "LOG_LEVEL"
)

// SplitSecrets reads a secret value that may hold several secrets
// separated by commas (old and new side by side during a rotation), from
// the environment or from Secrets Manager alike. White space around each is
// dropped, and so are empty parts, so that "a, b," is two secrets.
func SplitSecrets(v string) []string {
	var secrets []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			secrets = append(secrets, s)
		}
	}
	return secrets
}

// TopicProject returns P from a Pub/Sub topic's full name,
// projects/P/topics/T, and false for anything else: neither P nor T may be
// empty or hold a slash.
func TopicProject(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "projects/")
	if !ok {
		return "", false
	}
	project, topic, ok := strings.Cut(rest, "/topics/")
	if !ok || project == "" || strings.Contains(project, "/") || topic == "" || strings.Contains(topic, "/") {
		return "", false
	}
	return project, true
}

// FIFOQueue reports whether the SQS queue at url is a FIFO queue: SQS
// requires FIFO queues' names to end in ".fifo", and no other name may.
func FIFOQueue(url string) bool { return strings.HasSuffix(url, ".fifo") }
