package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/logging"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/elevenrelay/elevenrelay/lambda"
)

const (
	sqsQueueName = "elevenrelay-loadtest"
	s3BucketName = "elevenrelay-loadtest-claims"
)

// startSQS starts moto_server with the queue and the claim-check bucket, and
// serves the Lambda handler on loopback behind an API Gateway adapter.
func startSQS(ctx context.Context, cfg runConfig) (t *target, adapter *sqsAdapter, err error) {
	moto, err := testenv.LaunchMoto()
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			moto.Stop()
		}
	}()
	awsCfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion("us-east-1"),
		config.WithBaseEndpoint(moto.Endpoint),
		config.WithCredentialsProvider(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test", Source: "loadtest"}, nil
		})),
		config.WithRetryMaxAttempts(3),
	)
	if err != nil {
		return nil, nil, err
	}
	sqsClient := sqs.NewFromConfig(awsCfg)
	s3Client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = true
		// moto sends no checksum with objects; do not log that for each.
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	q, err := sqsClient.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(sqsQueueName),
		// The limit that sends larger bodies through the claim check; the
		// handler reads it from the queue at start, as in production.
		Attributes: map[string]string{"MaximumMessageSize": strconv.Itoa(claimCheckLimit)},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create queue: %w", err)
	}
	if _, err := s3Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s3BucketName)}); err != nil {
		return nil, nil, fmt.Errorf("create bucket: %w", err)
	}
	queueURL := aws.ToString(q.QueueUrl)

	// What the function's environment holds in production, less what the
	// AWS SDK configuration (awsCfg) stands for.
	e := env{
		envvar.Secret:           secret,
		envvar.SQSQueueURL:      queueURL,
		envvar.ClaimCheckBucket: s3BucketName,
	}
	// The handlers get connections of their own, at most cfg.MotoConns of
	// them; the consumer (sqsClient, s3Client) keeps awsCfg's. moto serves
	// each connection on a thread, behind one lock that is not fair, on one
	// core: 50 senders only queue inside it, and they crowd the consumer
	// out. Its ReceiveMessage then costs time proportional to the queue's
	// length (moto 5.2 recomputes the queue's attributes for each message it
	// returns), so a queue that falls behind falls further behind. The cap
	// queues the senders in the Go transport instead, first come first
	// served, which counts against PUBLISH_TIMEOUT as moto's own queue did.
	handlerCfg := awsCfg.Copy()
	handlerCfg.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxConnsPerHost = cfg.MotoConns
	})
	newHandler := func() (*lambda.Handler, error) {
		h := lambda.New(ctx, lambda.Options{Getenv: e.getenv, Logger: logging.New(cfg.Log, slog.LevelInfo), AWS: &handlerCfg})
		if h.Receiver.Err != nil {
			return nil, fmt.Errorf("lambda handler did not start: %w", h.Receiver.Err)
		}
		return h, nil
	}
	adapter = &sqsAdapter{}
	instances := max(1, cfg.Concurrency)
	if cfg.SharedHandler {
		instances = 1
	}
	adapter.instances = make(chan *lambda.Handler, instances)
	for range instances {
		h, err := newHandler()
		if err != nil {
			return nil, nil, err
		}
		adapter.instances <- h
	}
	adapter.shared = cfg.SharedHandler

	srv, url, err := serve(adapter)
	if err != nil {
		return nil, nil, err
	}
	if err := probe(ctx, url); err != nil {
		closeServer(srv)
		return nil, nil, err
	}
	drain := func(ctx context.Context, c *collector) error {
		return drainLoop(ctx, c, 8, 2, 10, func(ctx context.Context) (int, error) {
			return receiveSQS(ctx, sqsClient, s3Client, queueURL, c)
		})
	}
	stop := func() {
		closeServer(srv)
		moto.Stop()
	}
	return &target{url: url, drain: drain, stop: stop}, adapter, nil
}

// receiveSQS reads up to ten messages with their attributes, resolves their
// bodies through any claim check, and deletes them.
func receiveSQS(ctx context.Context, client *sqs.Client, s3Client *s3.Client, queueURL string, c *collector) (int, error) {
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:              aws.String(queueURL),
		MaxNumberOfMessages:   10,
		WaitTimeSeconds:       1,
		VisibilityTimeout:     600, // longer than the drain: no message comes back while it runs
		MessageAttributeNames: []string{"All"},
	})
	if err != nil {
		return 0, fmt.Errorf("receive: %w", err)
	}
	if len(out.Messages) == 0 {
		return 0, nil
	}
	entries := make([]types.DeleteMessageBatchRequestEntry, 0, len(out.Messages))
	for i, m := range out.Messages {
		body, rerr := lambda.ResolveReceivedMessage(ctx, lambda.NewS3Fetcher(s3Client), m)
		attr := func(k string) string {
			if v, ok := m.MessageAttributes[k]; ok {
				return aws.ToString(v.StringValue)
			}
			return ""
		}
		c.add(aws.ToString(m.MessageId), attr(core.AttrContentSHA256), body, attr(core.AttrClaimCheck) != "", rerr)
		entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	del, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
	if err != nil {
		return 0, fmt.Errorf("delete: %w", err)
	}
	if len(del.Failed) > 0 {
		return 0, fmt.Errorf("delete: %d failed: %s", len(del.Failed), aws.ToString(del.Failed[0].Message))
	}
	return len(out.Messages), nil
}

// sqsAdapter does what API Gateway's HTTP API does in front of a Lambda
// function: it turns each HTTP request into a payload 2.0 event (header
// names lower-cased, repeated headers joined with commas), invokes the
// handler with the event's JSON, and turns the answer back into HTTP. Every
// second event carries its body base64-encoded (isBase64Encoded), as API
// Gateway sends bodies it takes for binary, so both paths of the handler run.
//
// Each request takes a Handler of its own from instances, as a Lambda
// instance serves one request at a time; with shared, all requests use
// the one Handler at once, which shows that Invoke is safe for concurrent
// use.
type sqsAdapter struct {
	instances chan *lambda.Handler
	shared    bool
	requests  atomic.Int64
	base64    atomic.Int64
}

// maxEventBody is Lambda's limit on a synchronous invocation's payload.
const maxEventBody = 6 << 20

func (a *sqsAdapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEventBody+1))
	if err != nil || len(body) > maxEventBody {
		// API Gateway answers 413 itself for a payload Lambda cannot take.
		http.Error(w, `{"message":"Request Entity Too Large"}`, http.StatusRequestEntityTooLarge)
		return
	}
	n := a.requests.Add(1)
	headers := make(map[string]string, len(r.Header))
	for k, vs := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "ANY /webhook",
		RawPath:        r.URL.Path,
		RawQueryString: r.URL.RawQuery,
		Headers:        headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:  "ANY /webhook",
			Stage:     "$default",
			RequestID: "load-" + strconv.FormatInt(n, 10),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: sourceIP, UserAgent: r.UserAgent(),
			},
			TimeEpoch: time.Now().UnixMilli(),
		},
		Body: string(body),
	}
	if n%2 == 0 {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		a.base64.Add(1)
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}

	h := <-a.instances
	if a.shared {
		a.instances <- h
	} else {
		defer func() { a.instances <- h }()
	}
	// API Gateway's HTTP API gives an integration at most 30 s.
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		// A function error: API Gateway answers 500 without the details.
		http.Error(w, `{"message":"Internal Server Error"}`, http.StatusInternalServerError)
		return
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &res); err != nil {
		http.Error(w, `{"message":"Internal Server Error"}`, http.StatusInternalServerError)
		return
	}
	resBody := []byte(res.Body)
	if res.IsBase64Encoded {
		if resBody, err = base64.StdEncoding.DecodeString(res.Body); err != nil {
			http.Error(w, `{"message":"Internal Server Error"}`, http.StatusInternalServerError)
			return
		}
	}
	for k, v := range res.Headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(res.StatusCode)
	w.Write(resBody)
}

// serve serves h over HTTP on a free loopback port.
func serve(h http.Handler) (*http.Server, string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Println("loadtest: serve:", err)
		}
	}()
	return srv, "http://" + l.Addr().String() + "/webhook", nil
}

func closeServer(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}
