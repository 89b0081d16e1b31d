package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"cloud.google.com/go/pubsub/v2"
	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/gcf"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
)

const (
	gcpProject   = "elevenrelay-loadtest"
	gcpTopic     = "projects/" + gcpProject + "/topics/webhooks"
	gcpSub       = "projects/" + gcpProject + "/subscriptions/loadtest"
	gcsBucket    = "elevenrelay-loadtest-claims"
	pullMessages = 10 // ten messages under the claim-check limit stay well inside gRPC's 4 MiB default
)

// startPubSub starts the Pub/Sub emulator with the topic and a subscription
// (made before the run, so it sees every message), fake-gcs-server on
// loopback with the claim-check bucket (objects on disk, so that a run of
// gigabytes does not sit in memory), and serves the function on loopback.
func startPubSub(ctx context.Context, cfg runConfig) (t *target, err error) {
	var stops []func()
	stopAll := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	defer func() {
		if err != nil {
			stopAll()
		}
	}()

	emu, err := testenv.LaunchPubSub()
	if err != nil {
		return nil, err
	}
	stops = append(stops, emu.Stop)
	if err := cfg.Setenv("PUBSUB_EMULATOR_HOST", emu.Endpoint); err != nil {
		return nil, err
	}

	dir, err := os.MkdirTemp("", "loadtest-gcs-")
	if err != nil {
		return nil, err
	}
	stops = append(stops, func() { os.RemoveAll(dir) })
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	gcs, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme:      "http",
		Host:        "127.0.0.1",
		Port:        uint16(port),
		StorageRoot: dir,
		// The Storage client reads objects with the XML API at
		// STORAGE_EMULATOR_HOST/<bucket>/<object>, which the server
		// serves only on its public host.
		PublicHost: "127.0.0.1:" + strconv.Itoa(port),
		Writer:     io.Discard,
	})
	if err != nil {
		return nil, fmt.Errorf("fake-gcs-server: %w", err)
	}
	stops = append(stops, gcs.Stop)
	gcs.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: gcsBucket})
	if err := cfg.Setenv("STORAGE_EMULATOR_HOST", gcs.URL()); err != nil {
		return nil, err
	}

	client, err := pubsub.NewClient(ctx, gcpProject)
	if err != nil {
		return nil, err
	}
	stops = append(stops, func() { client.Close() })
	if _, err := client.TopicAdminClient.CreateTopic(ctx, &pb.Topic{Name: gcpTopic}); err != nil {
		return nil, fmt.Errorf("create topic: %w", err)
	}
	if _, err := client.SubscriptionAdminClient.CreateSubscription(ctx, &pb.Subscription{
		Name: gcpSub, Topic: gcpTopic, AckDeadlineSeconds: 600,
	}); err != nil {
		return nil, fmt.Errorf("create subscription: %w", err)
	}
	storageClient, err := storage.NewClient(ctx)
	if err != nil {
		return nil, err
	}
	stops = append(stops, func() { storageClient.Close() })

	fn := gcf.New(ctx, gcf.Options{Getenv: env{
		envvar.Secret:              secret,
		envvar.PubSubTopic:         gcpTopic,
		envvar.ClaimCheckBucket:    gcsBucket,
		envvar.ClaimCheckThreshold: strconv.Itoa(claimCheckLimit),
	}.getenv, LogWriter: cfg.Log})
	stops = append(stops, func() { fn.Close() })
	srv, url, err := serve(fn)
	if err != nil {
		return nil, err
	}
	stops = append(stops, func() { closeServer(srv) })
	// A function that could not start answers 500 to everything; say so
	// now rather than after the run.
	if err := probe(ctx, url); err != nil {
		return nil, err
	}

	fetch := gcf.Fetcher{Client: storageClient}
	drain := func(ctx context.Context, c *collector) error {
		return drainLoop(ctx, c, 4, 2, 5, func(ctx context.Context) (int, error) {
			return pullPubSub(ctx, client, fetch, c)
		})
	}
	return &target{url: url, drain: drain, stop: stopAll}, nil
}

// pullPubSub pulls once, resolves each message through any claim check, and
// acknowledges them. A pull that gets nothing within two seconds counts as
// empty.
func pullPubSub(ctx context.Context, client *pubsub.Client, fetch gcf.Fetcher, c *collector) (int, error) {
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	res, err := client.SubscriptionAdminClient.Pull(pctx, &pb.PullRequest{Subscription: gcpSub, MaxMessages: pullMessages})
	cancel()
	if err != nil {
		if ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded) {
			return 0, nil
		}
		return 0, fmt.Errorf("pull: %w", err)
	}
	if len(res.ReceivedMessages) == 0 {
		return 0, nil
	}
	acks := make([]string, 0, len(res.ReceivedMessages))
	for _, rm := range res.ReceivedMessages {
		m := &pubsub.Message{ID: rm.Message.MessageId, Data: rm.Message.Data, Attributes: rm.Message.Attributes}
		body, rerr := gcf.ResolveMessage(ctx, fetch, m)
		c.add(m.ID, m.Attributes[core.AttrContentSHA256], body, m.Attributes[core.AttrClaimCheck] != "", rerr)
		acks = append(acks, rm.AckId)
	}
	if err := client.SubscriptionAdminClient.Acknowledge(ctx, &pb.AcknowledgeRequest{Subscription: gcpSub, AckIds: acks}); err != nil {
		return 0, fmt.Errorf("acknowledge: %w", err)
	}
	return len(res.ReceivedMessages), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
