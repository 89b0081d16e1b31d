package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/lambda"
)

// DefaultInboxAge is how long a stored request waits in inbox/ before
// replay takes it over: long past the function's retries of a notification
// that arrived, so that replay only picks up what nothing else will.
const DefaultInboxAge = 15 * time.Minute

// processInbox verifies and queues, exactly as the function does, the
// storage-first endpoint's requests that have waited in inbox/ longer than
// age (their notification was lost, or failed until the dead-letter queue
// took it). It needs the webhook secret, as the function does, but only
// when objects are waiting.
func processInbox(ctx context.Context, cfg core.Config, getenv func(string) string, age time.Duration, dryRun bool, log *slog.Logger, stdout io.Writer) error {
	awsCfg, err := loadAWSConfig(ctx)
	if err != nil {
		return err
	}
	in, err := lambda.NewInbox(ctx, cfg, lambda.Options{Getenv: getenv, Logger: log, AWS: &awsCfg})
	if err != nil {
		return err
	}
	cutoff := time.Now().Add(-age)
	if dryRun || len(cfg.Secrets) == 0 && cfg.SecretARN == "" {
		n, err := in.CountOlder(ctx, cutoff)
		if err != nil || dryRun {
			fmt.Fprintf(stdout, "inbox: found=%d older than %s (dry run: nothing processed)\n", n, age)
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d inbox/ objects wait, and are verified as the function verifies them: set %s or %s", n, envvar.Secret, envvar.SecretARN)
		}
		return nil
	}
	found, failed, err := in.ProcessOlder(ctx, cutoff)
	fmt.Fprintf(stdout, "inbox: found=%d processed=%d failed=%d (older than %s)\n", found, found-failed, failed, age)
	return err
}
