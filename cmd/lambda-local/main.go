// Command lambda-local runs the Lambda function locally the way
// `sam local start-api` does, without Docker: moto_server for SQS and S3
// (the queue and the claim-check bucket created), the function's bootstrap
// built as it is deployed and run under the AWS Lambda runtime interface
// emulator, and in front an HTTP server on 127.0.0.1 that turns each
// request into an API Gateway HTTP API (payload 2.0) event and the
// function's answer back into HTTP. `make lambda-local` runs it; Ctrl-C or
// SIGTERM stops everything it started.
//
// It signs nothing: the function verifies with ELEVENLABS_WEBHOOK_SECRET,
// or with the development secret that `make send` signs with.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/rie"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/elevenrelay/elevenrelay/local"
)

const (
	queueName  = "elevenrelay-events"
	bucketName = "elevenrelay-claim-check"
	// region is moto's and the function's; moto keeps a queue per region.
	region = "us-east-1"
)

func main() {
	port := flag.Int("port", envInt("LAMBDA_PORT", 3000), "port of the API Gateway front on 127.0.0.1 (LAMBDA_PORT)")
	memory := flag.Int("memory", 256, "the function's memory size in MB, as the emulator reports it (template.yaml's default)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *port, *memory, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "lambda-local:", err)
		os.Exit(1)
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

func run(ctx context.Context, port, memory int, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	secret := os.Getenv(envvar.Secret)
	if secret == "" {
		secret = local.DevSecret
		log.Warn("lambda-local: " + envvar.Secret + " is not set; the function verifies with the development secret, which `make send` signs with. Never configure it in a deployment.")
	}
	// What can be missing first, before anything is built or started.
	if _, err := exec.LookPath("moto_server"); err != nil {
		return fmt.Errorf("moto_server not found on PATH; %s", testenv.MotoHint)
	}
	// The front's port next: a port in use fails before anything starts.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("listen on 127.0.0.1:%d (set LAMBDA_PORT to another port): %w", port, err)
	}
	defer ln.Close()

	root, err := rie.FindRoot(".")
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "lambda-local: building the runtime interface emulator and the bootstrap…")
	emulator, err := rie.Build(ctx, root)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "lambda-local-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bootstrap := filepath.Join(dir, "bootstrap")
	if err := rie.BuildBootstrap(ctx, root, "./lambda/bootstrap", bootstrap); err != nil {
		return err
	}

	moto, err := testenv.LaunchMoto()
	if err != nil {
		return err
	}
	defer moto.Stop()
	queueURL, err := createQueueAndBucket(ctx, moto.Endpoint)
	if err != nil {
		return err
	}

	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"TZ=UTC",
		"AWS_ENDPOINT_URL=" + moto.Endpoint,
		"AWS_REGION=" + region,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_LAMBDA_FUNCTION_NAME=WebhookFunction",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(memory),
		envvar.Secret + "=" + secret,
		envvar.SQSQueueURL + "=" + queueURL,
		envvar.ClaimCheckBucket + "=" + bucketName,
	}
	for _, name := range []string{envvar.Tolerance, envvar.MaxBodyBytes, envvar.PublishTimeout, envvar.LogLevel, envvar.ClaimCheckThreshold} {
		if v := os.Getenv(name); v != "" {
			env = append(env, name+"="+v)
		}
	}
	fn, err := rie.Start(rie.Options{Emulator: emulator, Bootstrap: bootstrap, Env: env, Output: stdout, Timeout: 20 * time.Second})
	if err != nil {
		return err
	}
	defer fn.Stop()

	srv := &http.Server{
		Handler:           &front{fn: fn, log: log, now: time.Now},
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String() + "/webhook"
	fmt.Fprintf(stdout, `lambda-local: the function answers on %s (any path, as API Gateway's $default route)
  send a signed event:  make send URL=%s
  the queue:            %s
  read the messages:    aws --endpoint-url %s --region %s sqs receive-message --queue-url %s --message-attribute-names All --max-number-of-messages 10
                        (any credentials do: AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test)
  Ctrl-C stops everything.
`, url, url, queueURL, moto.Endpoint, region, queueURL)

	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("the front stopped: %w", err)
	case <-fn.Exited():
		return errors.New("the runtime interface emulator exited")
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	fmt.Fprintln(stdout, "lambda-local: stopped")
	return nil
}

// createQueueAndBucket makes, on moto, the queue and the claim-check bucket
// that template.yaml creates in AWS, and returns the queue's URL.
func createQueueAndBucket(ctx context.Context, endpoint string) (string, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(region),
		config.WithBaseEndpoint(endpoint),
		config.WithCredentialsProvider(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test", Source: "lambda-local"}, nil
		})),
	)
	if err != nil {
		return "", err
	}
	q, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(queueName),
		// The template's queue takes SQS's largest messages.
		Attributes: map[string]string{"MaximumMessageSize": "1048576"},
	})
	if err != nil {
		return "", fmt.Errorf("create the queue on moto: %w", err)
	}
	s3Client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucketName)}); err != nil {
		return "", fmt.Errorf("create the bucket on moto: %w", err)
	}
	return aws.ToString(q.QueueUrl), nil
}
