package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/lambda"
)

// DefaultInboxAge is how long a stored request waits in inbox/ before
// replay takes it over: long past the function's retries of a notification
// that arrived, so that replay only picks up what nothing else will.
const DefaultInboxAge = 15 * time.Minute

// processInbox verifies and queues, exactly as the function does, the
// storage-first endpoint's requests that have waited in inbox/ longer than
// age (their notification was lost, or failed until the dead-letter queue
// took it). It needs the webhook secret, as the function does.
func processInbox(ctx context.Context, cfg core.Config, getenv func(string) string, age time.Duration, dryRun bool, log *slog.Logger, stdout io.Writer) error {
	if cfg.SQSQueueURL == "" {
		return errors.New("set " + core.EnvSQSQueueURL)
	}
	awsCfg, err := loadAWSConfig(ctx)
	if err != nil {
		return err
	}
	if cfg.SecretARN != "" {
		if cfg.Secrets, err = lambda.LoadSecrets(ctx, secretsmanager.NewFromConfig(awsCfg), cfg.SecretARN); err != nil {
			return fmt.Errorf("%s: %w", core.EnvSecretARN, err)
		}
	}
	v, verr := core.NewVerifier(cfg.Secrets, core.VerifierOptions{Tolerance: cfg.Tolerance})
	q := lambda.NewQueue(ctx, cfg, awsCfg, getenv, log)
	in := q.Inbox(v, cfg.PublishTimeout, log)
	cutoff := time.Now().Add(-age)
	if verr != nil {
		// Without the secret nothing can be verified: fine while nothing waits.
		n, err := in.CountOlder(ctx, cutoff)
		if err == nil && n > 0 {
			err = fmt.Errorf("%d inbox/ objects wait, and are verified as the function verifies them: set %s or %s", n, core.EnvSecret, core.EnvSecretARN)
		}
		return err
	}
	if dryRun {
		n, err := in.CountOlder(ctx, cutoff)
		fmt.Fprintf(stdout, "inbox: found=%d older than %s (dry run: nothing processed)\n", n, age)
		return err
	}
	found, failed, err := in.ProcessOlder(ctx, cutoff)
	fmt.Fprintf(stdout, "inbox: found=%d processed=%d failed=%d (older than %s)\n", found, found-failed, failed, age)
	return err
}
