package lambda

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/elevenrelay/elevenrelay/core"
)

// DefaultMaxBodyBytes caps bodies when WEBHOOK_MAX_BODY_BYTES is not set:
// 6 MiB, Lambda's limit for a synchronous invocation's whole event. No body
// larger can arrive, so the default never refuses one that Lambda
// delivered: a plain JSON body gets through up to 6 MiB less its event
// (about 1–2 KiB of headers and context, plus one byte per escaped quote),
// a base64-encoded one up to about 4.5 MiB decoded. Set the variable lower
// to refuse large bodies with 413 before they are verified.
const DefaultMaxBodyBytes = 6 << 20

// SDK retries are bounded so that the publish timeout, not the retryer,
// decides when to give up; the receiver's timeout bounds the call anyway.
const sdkMaxAttempts = 3

// startupTimeout bounds each AWS call made at start-up (the secret, the
// queue's size limit). Lambda allows the whole init phase 10 s.
const startupTimeout = 3 * time.Second

// Options adjusts New. The zero value is what the deployed function uses.
type Options struct {
	// Getenv reads the configuration; nil means os.Getenv.
	Getenv func(string) string
	// Logger gets the start-up lines and one line per request; nil means
	// JSON lines on standard output at LOG_LEVEL.
	Logger *slog.Logger
	// AWS is the SDK configuration; nil means AWSConfigFromEnv, which
	// reads AWS_REGION, AWS_ENDPOINT_URL and the function's role from the
	// variables Lambda sets.
	AWS *aws.Config
}

// New builds the function's handler once, at cold start: configuration,
// the secret (from Secrets Manager when ELEVENLABS_WEBHOOK_SECRET_ARN is
// set), one SQS client, the queue's message size limit, and the S3 bucket
// for claim checks and spills. It always returns a handler. When something
// required is missing or unreadable, it logs why and the handler answers
// 500 to every request: it never accepts an event it could not verify.
func New(ctx context.Context, opts Options) *Handler {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg, cfgErr := core.LoadConfig(getenv)
	log := opts.Logger
	if log == nil {
		log = core.NewLogger(os.Stdout, cfg.LogLevel)
	}
	failClosed := func(err error) *Handler {
		log.Error("lambda: cannot start; answering 500 to every request", "error", err.Error())
		r := cfg.Receiver(nil, nil, log)
		r.Err = err
		return &Handler{Receiver: r}
	}
	if cfgErr != nil {
		return failClosed(cfgErr)
	}

	var awsCfg aws.Config
	if opts.AWS != nil {
		awsCfg = opts.AWS.Copy()
	} else {
		c, err := AWSConfigFromEnv()
		if err != nil {
			return failClosed(err)
		}
		awsCfg = c
	}

	noSecret := fmt.Errorf("%w: set %s, or %s to a Secrets Manager secret", core.ErrNoSecret, core.EnvSecret, core.EnvSecretARN)
	if cfg.SecretARN == "" && len(cfg.Secrets) == 0 {
		return failClosed(noSecret)
	}
	if cfg.SQSQueueURL == "" {
		return failClosed(fmt.Errorf("%w: set %s to the queue's URL", core.ErrConfig, core.EnvSQSQueueURL))
	}

	// The queue's size limit and the secret are independent calls at start:
	// make them at the same time. NewQueue gets its own copy of cfg, whose
	// Secrets are set below.
	var q *Queue
	wired := make(chan struct{})
	go func(cfg core.Config) {
		defer close(wired)
		q = NewQueue(ctx, cfg, awsCfg, getenv, log)
	}(cfg)
	secretSource := core.EnvSecret
	var secretErr error
	if cfg.SecretARN != "" {
		if len(cfg.Secrets) > 0 {
			log.Warn("lambda: both " + core.EnvSecret + " and " + core.EnvSecretARN + " are set; using the secret from Secrets Manager only")
		}
		sctx, cancel := context.WithTimeout(ctx, startupTimeout)
		cfg.Secrets, secretErr = LoadSecrets(sctx, secretsmanager.NewFromConfig(awsCfg), cfg.SecretARN)
		cancel()
		secretSource = core.EnvSecretARN
	}
	<-wired
	if secretErr != nil {
		return failClosed(fmt.Errorf("%s=%s: %w", core.EnvSecretARN, cfg.SecretARN, secretErr))
	}
	if len(cfg.Secrets) == 0 {
		return failClosed(noSecret)
	}
	var store core.ObjectStore
	if q.Bucket != nil {
		store = q.Bucket
	}
	r := cfg.Receiver(q.Sink, store, log)
	if r.MaxBodyBytes == 0 {
		r.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if r.Verifier == nil { // LoadConfig let an unusable secret through
		return failClosed(core.ErrNoSecret)
	}
	log.Info("lambda: ready",
		"queue_url", cfg.SQSQueueURL, "fifo", cfg.IsFIFO(), "queue_limit_bytes", q.Sink.Limit,
		"claim_check_bucket", cfg.ClaimCheckBucket, "secret_from", secretSource, "secrets", len(cfg.Secrets),
		"max_body_bytes", r.MaxBodyBytes, "publish_timeout", r.PublishTimeout.String())
	if cfg.ClaimCheckBucket == "" {
		log.Warn("lambda: no " + core.EnvClaimCheck + "; bodies larger than the queue's limit get 413, and a queue outage 503 instead of a spill")
	}
	return &Handler{Receiver: r, Inbox: q.Inbox(r.Verifier, r.PublishTimeout, log)}
}

// Queue is the publishing side that New wires from the configuration: SQS
// behind a claim check, and the S3 bucket for claim checks and spills.
// cmd/replay re-publishes spilled bodies through the same Queue, so they
// are claim-checked and deduplicated exactly as the receiver would have.
type Queue struct {
	// Sink publishes to SQS, claim-checking bodies above Sink.Limit.
	Sink *core.ClaimCheck
	// Bucket is the claim-check and spill bucket; nil without
	// CLAIM_CHECK_BUCKET.
	Bucket *S3Store
	// Spilled reads the bucket's spill/ objects back; nil without a bucket.
	Spilled *S3SpillSource

	s3 *s3.Client // nil without a bucket
}

// Inbox is the storage-first inbox of the queue's bucket, verifying with v;
// nil without a bucket. Without a verifier it can list objects, and fails
// (never rejects) any it is asked to process.
func (q *Queue) Inbox(v *core.Verifier, publishTimeout time.Duration, log *slog.Logger) *Inbox {
	if q.s3 == nil {
		return nil
	}
	return newInbox(q.s3, q.Bucket.bucket, v, q.Sink, publishTimeout, log)
}

// NewQueue builds the Queue for cfg.SQSQueueURL and cfg.ClaimCheckBucket:
// one SQS client, the queue's own message size limit (read with
// GetQueueAttributes, DefaultQueueLimit when it cannot be read, lowered by
// CLAIM_CHECK_THRESHOLD_BYTES) and, with a bucket, one S3 client.
func NewQueue(ctx context.Context, cfg core.Config, awsCfg aws.Config, getenv func(string) string, log *slog.Logger) *Queue {
	sqsClient := sqs.NewFromConfig(awsCfg)
	lctx, cancel := context.WithTimeout(ctx, startupTimeout)
	limit, err := QueueLimit(lctx, sqsClient, cfg.SQSQueueURL)
	cancel()
	if err != nil {
		limit = DefaultQueueLimit
		log.Warn("lambda: cannot read the queue's MaximumMessageSize (allow sqs:GetQueueAttributes); assuming 256 KiB",
			"queue_url", cfg.SQSQueueURL, "error", err.Error())
	}
	if t := cfg.ClaimCheckThreshold; t > 0 {
		if t < int64(limit) {
			limit = int(t)
		} else {
			log.Warn("lambda: "+core.EnvClaimCheckLimit+" is above the queue's limit; using the queue's", "queue_limit", limit)
		}
	}
	q := &Queue{Sink: &core.ClaimCheck{Sink: NewSQSSink(sqsClient, cfg.SQSQueueURL), Limit: limit}}
	if cfg.ClaimCheckBucket != "" {
		client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
			// Emulators (moto, LocalStack) answer on one host name, not on
			// a name per bucket.
			o.UsePathStyle = awsCfg.BaseEndpoint != nil || getenv("AWS_ENDPOINT_URL_S3") != ""
		})
		q.s3 = client
		q.Bucket = NewS3Store(client, cfg.ClaimCheckBucket)
		q.Spilled = NewS3SpillSource(client, cfg.ClaimCheckBucket)
		q.Sink.Store, q.Sink.URLPrefix = q.Bucket, q.Bucket.URLPrefix()
	}
	return q
}
