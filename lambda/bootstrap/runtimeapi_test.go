package main

// The in-test Runtime API the storage-first tests were written against,
// kept until they run under the real emulator like the rest.

import (
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

	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/stretchr/testify/require"
)

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
	out, _ := startFunctionProcess(t, bin, api, env)
	return out
}

// startFunctionProcess is startFunction, also giving the process, whose
// memory tests read from /proc.
func startFunctionProcess(t *testing.T, bin string, api *runtimeAPI, env map[string]string) (*testenv.Buffer, *os.Process) {
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
	return out, cmd.Process
}
