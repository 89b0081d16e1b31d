// Command replay re-publishes the bodies that a receiver spilled to its
// bucket (under spill/) while the queue was down, then deletes each object
// once the queue has accepted it.
//
//	replay -platform aws   # SQS_QUEUE_URL, CLAIM_CHECK_BUCKET, AWS_* (AWS_ENDPOINT_URL)
//	replay -platform gcp   # PUBSUB_TOPIC, CLAIM_CHECK_BUCKET, GOOGLE_CLOUD_PROJECT (emulator variables)
//	replay -dry-run ...    # list what would be replayed, change nothing
//
// On AWS it also processes the storage-first endpoint's stored requests
// (inbox/) that have waited longer than -inbox-age (default 15m), through
// the function's own code: verified, queued or moved to rejected/. That
// needs the webhook secret (ELEVENLABS_WEBHOOK_SECRET or _ARN).
//
// It publishes through the same queue wiring as the receiver (lambda.NewQueue,
// gcf.NewQueue), so a large body is claim-checked and a FIFO queue
// deduplicates on content_sha256: running it twice, or after a crash
// between publish and delete, queues nothing twice on FIFO. On standard
// SQS queues and Pub/Sub, consumers deduplicate on the content_sha256
// attribute, as they must anyway for ElevenLabs' own retries.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/gcf"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/logging"
	"github.com/elevenrelay/elevenrelay/lambda"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command: exit 0 when every spilled object was replayed (or
// listed), 1 when some failed and remain for the next run, 2 for a usage or
// configuration error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	platform := fs.String("platform", "", "aws (SQS and S3) or gcp (Pub/Sub and Cloud Storage)")
	dryRun := fs.Bool("dry-run", false, "list the spilled objects, replay nothing")
	inboxAge := fs.Duration("inbox-age", DefaultInboxAge, "aws: also process storage-first inbox/ objects stored longer ago than this (0: none)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// Everything wrong with the invocation is said at once, the platform
	// first: with a wrong one, the list of missing variables would be wrong.
	if *platform != "aws" && *platform != "gcp" {
		fmt.Fprintf(stderr, "replay: -platform %q (PLATFORM=%s for make replay): want aws or gcp\n", *platform, *platform)
		return 2
	}
	cfg, cfgErr := core.LoadConfig(getenv)
	log := logging.New(stderr, cfg.LogLevel)
	var problems []string
	if cfgErr != nil {
		for _, e := range splitJoined(cfgErr) {
			problems = append(problems, e.Error())
		}
	}
	var missing []string
	if cfg.ClaimCheckBucket == "" && getenv(envvar.ClaimCheckBucket) == "" {
		missing = append(missing, envvar.ClaimCheckBucket+" (the bucket the receiver spills to)")
	}
	switch {
	case *platform == "aws" && cfg.SQSQueueURL == "" && getenv(envvar.SQSQueueURL) == "":
		missing = append(missing, envvar.SQSQueueURL)
	case *platform == "gcp" && cfg.PubSubTopic == "" && getenv(envvar.PubSubTopic) == "":
		missing = append(missing, envvar.PubSubTopic)
	}
	if len(missing) > 0 {
		problems = append(problems, "set "+strings.Join(missing, ", "))
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stderr, "replay:", p)
		}
		return 2
	}
	src, sink, closeQueue, err := open(ctx, *platform, cfg, getenv, log)
	if err != nil {
		fmt.Fprintf(stderr, "replay: %s: %v\n", *platform, err)
		return 2
	}
	defer closeQueue()

	code := 0
	if *platform == "aws" && *inboxAge > 0 {
		if err := processInbox(ctx, cfg, getenv, *inboxAge, *dryRun, log, stdout); err != nil {
			log.Error("replay: inbox/", "error", err.Error())
			code = 1
		}
	}
	if *dryRun {
		keys, err := src.List(ctx, core.SpillPrefix)
		if err != nil {
			fmt.Fprintln(stderr, "replay: listing the bucket:", err)
			return 1
		}
		for _, k := range keys {
			fmt.Fprintln(stdout, k)
		}
		fmt.Fprintf(stdout, "found=%d (dry run: nothing replayed)\n", len(keys))
		return code
	}
	st, err := core.Replay(ctx, src, sink, log)
	fmt.Fprintf(stdout, "found=%d replayed=%d failed=%d skipped=%d\n", st.Found, st.Replayed, st.Failed, st.Skipped)
	if err != nil {
		// The log has a line for each object that failed; this is the
		// first error, which is the only one when listing failed.
		fmt.Fprintln(stderr, "replay:", err)
		return 1
	}
	return code
}

// splitJoined undoes errors.Join, so that each error gets a line.
func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// open wires the platform's queue and spill bucket as the receiver does.
func open(ctx context.Context, platform string, cfg core.Config, getenv func(string) string, log *slog.Logger) (core.SpillSource, core.Sink, func(), error) {
	switch platform {
	case "aws":
		if cfg.SQSQueueURL == "" {
			return nil, nil, nil, errors.New("set " + envvar.SQSQueueURL)
		}
		awsCfg, err := loadAWSConfig(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		if awsCfg.Region == "" {
			// Else every call fails later with the SDK's "Invalid region".
			return nil, nil, nil, errors.New("no AWS region: set AWS_REGION (or a profile's region through AWS_PROFILE)")
		}
		q, err := lambda.NewQueue(ctx, cfg, lambda.Options{Getenv: getenv, Logger: log, AWS: &awsCfg})
		if err != nil {
			return nil, nil, nil, err
		}
		return q.Spilled, q.Sink, func() {}, nil
	case "gcp":
		if cfg.PubSubTopic == "" {
			return nil, nil, nil, errors.New("set " + envvar.PubSubTopic)
		}
		q, err := gcf.NewQueue(ctx, cfg, gcf.Options{Getenv: getenv, Logger: log})
		if err != nil {
			return nil, nil, nil, err
		}
		return q.Bucket, q.Sink, func() { q.Close() }, nil
	}
	return nil, nil, nil, fmt.Errorf("-platform %q: want aws or gcp", platform)
}

// loadAWSConfig is the SDK's default chain, with profiles, SSO and
// instance roles, because replay runs where an operator is, not in Lambda
// (whose bootstrap reads only its environment: lambda.AWSConfigFromEnv).
// Retries are bounded as the receiver's are, so a down queue fails fast.
func loadAWSConfig(ctx context.Context) (aws.Config, error) {
	c, err := config.LoadDefaultConfig(ctx, config.WithRetryMaxAttempts(3))
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS SDK configuration: %w", err)
	}
	return c, nil
}
