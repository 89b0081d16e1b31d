package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/elevenrelay/elevenrelay/lambda"
)

const testSecret = "wsec_runtime_api_test_secret"

// invocation is one event for the function and, once it has answered, its
// answer.
type invocation struct {
	id      string
	event   []byte
	answer  []byte
	failure []byte // from /error instead of /response
}

// runtimeAPI serves the Lambda Runtime API to one function process, the way
// the Lambda service (or sam local's emulator) does: the function polls
// /next, and posts each answer to /response or /error.
type runtimeAPI struct {
	srv       *httptest.Server
	next      chan *invocation
	done      chan struct{}
	mu        sync.Mutex
	byID      map[string]*invocation
	answered  chan string
	initError []byte
}

func startRuntimeAPI(t *testing.T) *runtimeAPI {
	t.Helper()
	api := &runtimeAPI{next: make(chan *invocation, 64), done: make(chan struct{}), byID: map[string]*invocation{}, answered: make(chan string, 64)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case inv := <-api.next:
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:WebhookFunction")
			w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0")
			w.Header().Set("Content-Type", "application/json")
			w.Write(inv.event)
		case <-api.done:
			http.Error(w, "test over", http.StatusGone)
		}
	})
	answer := func(failed bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			api.mu.Lock()
			inv := api.byID[r.PathValue("id")]
			if inv != nil {
				if failed {
					inv.failure = body
				} else {
					inv.answer = body
				}
			}
			api.mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
			if inv != nil {
				api.answered <- inv.id
			}
		}
	}
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", answer(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", answer(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		api.mu.Lock()
		api.initError = body
		api.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
	api.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(api.done)
		api.srv.Close()
	})
	return api
}

// invoke queues events and waits for every answer.
func (api *runtimeAPI) invoke(t *testing.T, invs []*invocation) {
	t.Helper()
	api.mu.Lock()
	for _, inv := range invs {
		api.byID[inv.id] = inv
	}
	api.mu.Unlock()
	for _, inv := range invs {
		api.next <- inv
	}
	timeout := time.After(60 * time.Second)
	for range invs {
		select {
		case <-api.answered:
		case <-timeout:
			t.Fatal("the function did not answer every invocation within 60s")
		}
	}
}

// buildBootstrap compiles the function as it is deployed (for this
// machine's architecture) into a temporary directory.
func buildBootstrap(t *testing.T) string {
	t.Helper()
	gobin := testenv.RequireTool(t, "go", "install Go")
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command(gobin, "build", "-tags", "lambda.norpc", "-trimpath", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// startFunction runs the binary against api with env, as the Lambda
// service does, and returns what it prints.
func startFunction(t *testing.T, bin string, api *runtimeAPI, env map[string]string) *testenv.Buffer {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(api.srv.URL, "http://")}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "PATH=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &testenv.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return out
}

// resign gives a committed sample event (whose signature has gone stale) a
// fresh signature over its body, keeping what the file is meant to show:
// the bad-signature events are signed with another secret, the stale ones
// two hours ago.
func resign(t *testing.T, path string, now time.Time) (event []byte, body []byte, signature string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var ev map[string]any
	require.NoError(t, json.Unmarshal(raw, &ev))
	body = []byte(ev["body"].(string))
	if ev["isBase64Encoded"] == true {
		body, err = base64.StdEncoding.DecodeString(string(body))
		require.NoError(t, err)
	}
	secret, at := testSecret, now
	switch {
	case strings.HasSuffix(path, "-bad-signature.json"):
		secret = "wsec_some_other_secret"
	case strings.HasSuffix(path, "-stale.json"):
		at = now.Add(-2 * time.Hour)
	}
	signature = core.Sign(secret, at, body)
	found := false
	if h, ok := ev["headers"].(map[string]any); ok {
		for k := range h {
			if strings.EqualFold(k, core.SignatureHeader) {
				h[k], found = signature, true
			}
		}
	}
	if h, ok := ev["multiValueHeaders"].(map[string]any); ok {
		for k := range h {
			if strings.EqualFold(k, core.SignatureHeader) {
				h[k] = []any{signature}
			}
		}
	}
	require.True(t, found, "%s has no signature header", path)
	event, err = json.Marshal(ev)
	require.NoError(t, err)
	return event, body, signature
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestBootstrap runs the real binary the way sam local does and feeds it
// every event in events/, then reads what it queued back from moto.
func TestBootstrap(t *testing.T) {
	bin := buildBootstrap(t)
	moto := testenv.StartMoto(t)
	testenv.AWSEnv(t, moto.Endpoint)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	require.NoError(t, err)
	sqsClient := sqs.NewFromConfig(cfg)
	s3Client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	q, err := sqsClient.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("elevenrelay-events")})
	require.NoError(t, err)
	_, err = s3Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("claim-check")})
	require.NoError(t, err)

	api := startRuntimeAPI(t)
	out := startFunction(t, bin, api, map[string]string{
		envvar.Secret:              testSecret,
		envvar.SQSQueueURL:         *q.QueueUrl,
		envvar.ClaimCheckBucket:    "claim-check",
		envvar.ClaimCheckThreshold: "4096", // post_call_audio (7 KB) goes through S3
		envvar.LogLevel:            "debug",
	})

	files, err := filepath.Glob(filepath.Join("..", "..", "events", "*.json"))
	require.NoError(t, err)
	now := time.Now()
	var invs []*invocation
	bodies := map[string][]byte{} // by file
	var signatures []string
	for _, f := range files {
		if filepath.Base(f) == "env.json" {
			continue
		}
		event, body, sig := resign(t, f, now)
		invs = append(invs, &invocation{id: filepath.Base(f), event: event})
		bodies[filepath.Base(f)] = body
		signatures = append(signatures, sig[strings.Index(sig, "v0=")+3:])
	}
	require.GreaterOrEqual(t, len(invs), 16)
	api.invoke(t, invs)

	wantQueued := map[string]int{} // content_sha256 → count
	for _, inv := range invs {
		t.Run(inv.id, func(t *testing.T) {
			require.Empty(t, inv.failure, "function error")
			var v2 events.APIGatewayV2HTTPResponse
			require.NoError(t, json.Unmarshal(inv.answer, &v2))
			var v1 events.APIGatewayProxyResponse
			require.NoError(t, json.Unmarshal(inv.answer, &v1))
			require.Equal(t, v2.StatusCode, v1.StatusCode)
			require.Equal(t, "application/json", v2.Headers["Content-Type"])
			switch {
			case strings.HasSuffix(inv.id, "-bad-signature.json"):
				require.Equal(t, 400, v2.StatusCode)
				require.JSONEq(t, `{"error":"Signature hash does not match the expected signature hash for payload"}`, v2.Body)
			case strings.HasSuffix(inv.id, "-stale.json"):
				require.Equal(t, 400, v2.StatusCode)
				require.JSONEq(t, `{"error":"Timestamp outside the tolerance zone"}`, v2.Body)
			default:
				require.Equal(t, 200, v2.StatusCode, v2.Body)
				var a struct {
					Status    string `json:"status"`
					MessageID string `json:"message_id"`
				}
				require.NoError(t, json.Unmarshal([]byte(v2.Body), &a))
				require.Equal(t, "accepted", a.Status)
				require.NotEmpty(t, a.MessageID)
				wantQueued[sha(bodies[inv.id])]++
			}
		})
	}

	// Every accepted event is in the queue, byte for byte, whatever shape
	// it came in; post_call_audio through the claim check.
	gotQueued := map[string]int{}
	deadline := time.Now().Add(20 * time.Second)
	for total := 0; total < 12 && time.Now().Before(deadline); {
		res, err := sqsClient.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"}})
		require.NoError(t, err)
		for _, m := range res.Messages {
			total++
			body, err := lambda.ResolveReceivedMessage(ctx, lambda.NewS3Fetcher(s3Client), m)
			require.NoError(t, err)
			attrs := map[string]string{}
			for k, v := range m.MessageAttributes {
				attrs[k] = aws.ToString(v.StringValue)
			}
			ev := core.NewMessage(body, core.Signature{}, time.Time{})
			require.Equal(t, ev.EventType, attrs[core.AttrEventType])
			require.Equal(t, sha(body), attrs[core.AttrContentSHA256])
			require.Equal(t, ev.ConversationID, attrs[core.AttrConversationID])
			_, claimChecked := attrs[core.AttrClaimCheck]
			require.Equal(t, ev.EventType == "post_call_audio", claimChecked, ev.EventType)
			gotQueued[sha(body)]++
			_, err = sqsClient.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle})
			require.NoError(t, err)
		}
	}
	require.Equal(t, wantQueued, gotQueued)

	logs := out.String()
	require.Contains(t, logs, `"msg":"lambda: ready"`)
	require.Equal(t, len(invs), strings.Count(logs, `"msg":"webhook"`), "one log line per request")
	require.NotContains(t, logs, testSecret)
	for _, sig := range signatures {
		require.NotContains(t, logs, sig)
	}
	for name, body := range bodies {
		mid := string(body[len(body)/2 : len(body)/2+32])
		require.NotContains(t, logs, mid, "a piece of the body of %s is in the log", name)
	}
	api.mu.Lock()
	require.Empty(t, api.initError)
	api.mu.Unlock()
}

// Without a secret the binary still starts, says why at init, and answers
// 500 to every request.
func TestBootstrapFailsClosed(t *testing.T) {
	bin := buildBootstrap(t)
	moto := testenv.StartMoto(t)
	testenv.AWSEnv(t, moto.Endpoint)
	api := startRuntimeAPI(t)
	out := startFunction(t, bin, api, map[string]string{envvar.SQSQueueURL: moto.Endpoint + "/123456789012/elevenrelay-events"})
	event, _, _ := resign(t, filepath.Join("..", "..", "events", "apigw-v2-post_call_transcription.json"), time.Now())
	inv := &invocation{id: "no-secret", event: event}
	api.invoke(t, []*invocation{inv})
	require.JSONEq(t, `{"statusCode":500,"headers":{"Content-Type":"application/json"},"body":"{\"error\":\"Webhook secret not configured\"}","isBase64Encoded":false}`, string(inv.answer))
	require.Contains(t, out.String(), "cannot start; answering 500 to every request")
	require.Contains(t, out.String(), "set ELEVENLABS_WEBHOOK_SECRET")
}
