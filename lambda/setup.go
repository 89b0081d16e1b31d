package lambda

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/logging"
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

// Options adjusts New and NewQueue. The zero value is what the deployed
// function uses. gcf.Options has the same fields, less AWS.
type Options struct {
	// Getenv reads the configuration and the AWS SDK's variables; nil means
	// os.Getenv.
	Getenv func(string) string
	// Logger gets the start-up lines and one line per request; nil means
	// JSON lines on LogWriter at LOG_LEVEL.
	Logger *slog.Logger
	// LogWriter is where the default Logger writes; nil means standard
	// output, which Lambda sends to CloudWatch Logs.
	LogWriter io.Writer
	// AWS is the SDK configuration; nil means AWSConfigFromEnv(Getenv),
	// which reads AWS_REGION, AWS_ENDPOINT_URL and the function's role from
	// the variables Lambda sets.
	AWS *aws.Config
}

func (o Options) getenv() func(string) string {
	if o.Getenv == nil {
		return os.Getenv
	}
	return o.Getenv
}

func (o Options) logger(level slog.Level) *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	w := o.LogWriter
	if w == nil {
		w = os.Stdout
	}
	return logging.New(w, level)
}

func (o Options) awsConfig() (aws.Config, error) {
	if o.AWS != nil {
		return o.AWS.Copy(), nil
	}
	return AWSConfigFromEnv(o.getenv())
}

// New builds the function's handler once, at cold start: configuration,
// the secret (from Secrets Manager when ELEVENLABS_WEBHOOK_SECRET_ARN is
// set), one SQS client, the queue's message size limit, and the S3 bucket
// for claim checks and spills. It always returns a handler. When something
// required is missing or unreadable, it logs why and the handler answers
// 500 to every request: it never accepts an event it could not verify.
func New(ctx context.Context, opts Options) *Handler {
	getenv := opts.getenv()
	cfg, cfgErr := core.LoadConfig(getenv)
	log := opts.logger(cfg.LogLevel)
	failClosed := func(err error) *Handler {
		log.Error("lambda: cannot start; answering 500 to every request", "error", err.Error())
		r, _ := cfg.Receiver(nil, nil, log) // err says why already
		r.Err = err
		return &Handler{Receiver: r}
	}
	if cfgErr != nil {
		return failClosed(cfgErr)
	}
	awsCfg, err := opts.awsConfig()
	if err != nil {
		return failClosed(err)
	}

	noSecret := fmt.Errorf("%w: set %s, or %s to a Secrets Manager secret", core.ErrNoSecret, envvar.Secret, envvar.SecretARN)
	if cfg.SecretARN == "" && len(cfg.Secrets) == 0 {
		return failClosed(noSecret)
	}
	if cfg.SQSQueueURL == "" {
		return failClosed(errNoQueue)
	}

	// The queue's size limit and the secret are independent calls at start:
	// make them at the same time. newQueue gets its own copy of cfg, whose
	// Secrets are set below.
	var q *Queue
	wired := make(chan struct{})
	go func(cfg core.Config) {
		defer close(wired)
		q = newQueue(ctx, cfg, awsCfg, getenv, log)
	}(cfg)
	secretSource := envvar.Secret
	var secretErr error
	if cfg.SecretARN != "" {
		if len(cfg.Secrets) > 0 {
			log.Warn("lambda: both " + envvar.Secret + " and " + envvar.SecretARN + " are set; using the secret from Secrets Manager only")
		}
		sctx, cancel := context.WithTimeout(ctx, startupTimeout)
		cfg.Secrets, secretErr = loadSecrets(sctx, secretsmanager.NewFromConfig(awsCfg), cfg.SecretARN)
		cancel()
		secretSource = envvar.SecretARN
	}
	<-wired
	if secretErr != nil {
		return failClosed(fmt.Errorf("%s=%s: %w", envvar.SecretARN, cfg.SecretARN, secretErr))
	}
	if len(cfg.Secrets) == 0 {
		return failClosed(noSecret)
	}
	var store core.ObjectStore
	if q.Bucket != nil {
		store = q.Bucket
	}
	r, err := cfg.Receiver(q.Sink, store, log)
	if err != nil { // LoadConfig let an unusable secret through
		return failClosed(err)
	}
	if r.MaxBodyBytes == 0 {
		r.MaxBodyBytes = DefaultMaxBodyBytes
	}
	log.Info("lambda: ready",
		"queue_url", cfg.SQSQueueURL, "fifo", envvar.FIFOQueue(cfg.SQSQueueURL), "queue_limit_bytes", q.Sink.Limit,
		"claim_check_bucket", cfg.ClaimCheckBucket, "secret_from", secretSource, "secrets", len(cfg.Secrets),
		"max_body_bytes", r.MaxBodyBytes, "publish_timeout", r.PublishTimeout.String())
	if cfg.ClaimCheckBucket == "" {
		log.Warn("lambda: no " + envvar.ClaimCheckBucket + "; bodies larger than the queue's limit get 413, and a queue outage 503 instead of a spill")
	}
	return &Handler{Receiver: r, Inbox: q.inbox(r.Verifier, r.PublishTimeout, log)}
}

// errNoQueue is a configuration without SQS_QUEUE_URL.
var errNoQueue = fmt.Errorf("%w: set %s to the queue's URL", core.ErrConfig, envvar.SQSQueueURL)

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

// inbox is the storage-first inbox of the queue's bucket, verifying with v;
// nil without a bucket. Without a verifier it can list objects, and fails
// (never rejects) any it is asked to process.
func (q *Queue) inbox(v *core.Verifier, publishTimeout time.Duration, log *slog.Logger) *Inbox {
	if q.s3 == nil {
		return nil
	}
	return newInbox(q.s3, q.Bucket.bucket, v, q.Sink, publishTimeout, log)
}

// NewInbox builds the storage-first inbox as New does, for tools such as
// replay: the queue and bucket as NewQueue builds them, and the secret
// (from Secrets Manager when ELEVENLABS_WEBHOOK_SECRET_ARN is set). It
// fails, wrapping core.ErrConfig, without a queue URL, a bucket or an AWS
// configuration, or when the secret cannot be read. Without a secret the
// inbox can count waiting objects, and fails (never rejects) any it is
// asked to process.
func NewInbox(ctx context.Context, cfg core.Config, opts Options) (*Inbox, error) {
	if cfg.ClaimCheckBucket == "" {
		return nil, fmt.Errorf("%w: set %s to the bucket the storage-first endpoint stores into", core.ErrConfig, envvar.ClaimCheckBucket)
	}
	q, err := NewQueue(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	if cfg.SecretARN != "" {
		awsCfg, err := opts.awsConfig()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", core.ErrConfig, err)
		}
		if cfg.Secrets, err = loadSecrets(ctx, secretsmanager.NewFromConfig(awsCfg), cfg.SecretARN); err != nil {
			return nil, fmt.Errorf("%w: %s=%s: %w", core.ErrConfig, envvar.SecretARN, cfg.SecretARN, err)
		}
	}
	v, _ := core.NewVerifier(cfg.Secrets, core.VerifierOptions{Tolerance: cfg.Tolerance}) // nil without a secret
	return q.inbox(v, cfg.PublishTimeout, opts.logger(cfg.LogLevel)), nil
}

// NewQueue builds the Queue for cfg.SQSQueueURL and cfg.ClaimCheckBucket,
// as New does: one SQS client, the queue's own message size limit (read
// with GetQueueAttributes, defaultQueueLimit with a warning when it cannot
// be read, lowered by CLAIM_CHECK_THRESHOLD_BYTES) and, with a bucket, one
// S3 client. It fails, wrapping core.ErrConfig, without a queue URL or an
// AWS configuration.
func NewQueue(ctx context.Context, cfg core.Config, opts Options) (*Queue, error) {
	if cfg.SQSQueueURL == "" {
		return nil, errNoQueue
	}
	awsCfg, err := opts.awsConfig()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", core.ErrConfig, err)
	}
	return newQueue(ctx, cfg, awsCfg, opts.getenv(), opts.logger(cfg.LogLevel)), nil
}

func newQueue(ctx context.Context, cfg core.Config, awsCfg aws.Config, getenv func(string) string, log *slog.Logger) *Queue {
	sqsClient := sqs.NewFromConfig(awsCfg)
	lctx, cancel := context.WithTimeout(ctx, startupTimeout)
	limit, err := queueLimit(lctx, sqsClient, cfg.SQSQueueURL)
	cancel()
	if err != nil {
		limit = defaultQueueLimit
		log.Warn("lambda: cannot read the queue's MaximumMessageSize (allow sqs:GetQueueAttributes); assuming 256 KiB",
			"queue_url", cfg.SQSQueueURL, "error", err.Error())
	}
	if t := cfg.ClaimCheckThreshold; t > 0 {
		if t < int64(limit) {
			limit = int(t)
		} else {
			log.Warn("lambda: "+envvar.ClaimCheckThreshold+" is above the queue's limit; using the queue's", "queue_limit", limit)
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
