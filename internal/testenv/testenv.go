// Package testenv starts the real emulators that integration tests use
// (moto_server for SQS, S3 and Secrets Manager; the Pub/Sub emulator) on
// free loopback ports, and stops them when the test ends.
//
// A missing tool skips the test with what to install, except under CI=true,
// where it fails: CI must never pass by skipping what it was meant to run.
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// InCI reports whether the tests run in CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// RequireTool returns the path of tool, or skips the test (fails under CI)
// with hint, which says how to install it.
func RequireTool(t testing.TB, tool, hint string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err == nil {
		return path
	}
	if InCI() {
		t.Fatalf("%s not found on PATH (CI=true, so this fails instead of skipping): %s", tool, hint)
	}
	t.Skipf("%s not found on PATH; %s", tool, hint)
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Process is an emulator started for a test.
type Process struct {
	// Endpoint is its address: "http://127.0.0.1:PORT" for moto,
	// "127.0.0.1:PORT" for the Pub/Sub emulator.
	Endpoint string
	cmd      *exec.Cmd
	out      *syncBuffer
	stopOnce sync.Once
}

// Stop ends the emulator and everything it started. It is safe to call more
// than once; tests call it to take the emulator down mid-run.
func (p *Process) Stop() {
	p.stopOnce.Do(func() {
		if p.cmd.Process == nil {
			return
		}
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		_ = p.cmd.Wait()
	})
}

// Output is what the emulator printed so far, for failure messages.
func (p *Process) Output() string { return p.out.String() }

func start(t testing.TB, name string, args []string, env []string) *Process {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	// Own process group, so Stop also ends children (gcloud starts java).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Process{cmd: cmd, out: out}
	t.Cleanup(p.Stop)
	return p
}

// StartMoto starts moto_server on a free loopback port and waits until it
// answers. It sets nothing in the environment; see AWSEnv.
func StartMoto(t testing.TB) *Process {
	t.Helper()
	RequireTool(t, "moto_server", "install moto with its server extra: pip install 'moto[server]'")
	port := FreePort(t)
	p := start(t, "moto_server", []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)}, nil)
	p.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	waitFor(t, p, 60*time.Second, func() bool {
		resp, err := http.Get(p.Endpoint + "/moto-api/data.json")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// AWSEnv sets, for the rest of the test, the variables that point
// aws-sdk-go-v2's default config at moto with static test credentials.
func AWSEnv(t testing.TB, endpoint string) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_ACCESS_KEY_ID":           "test",
		"AWS_SECRET_ACCESS_KEY":       "test",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_DEFAULT_REGION":          "us-east-1",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		t.Setenv(k, v)
	}
}

// StartPubSub starts the Pub/Sub emulator (gcloud beta emulators pubsub) on
// a free loopback port and waits until it answers. Point clients at it with
// PUBSUB_EMULATOR_HOST=p.Endpoint.
func StartPubSub(t testing.TB) *Process {
	t.Helper()
	RequireTool(t, "gcloud", "install the Google Cloud CLI with its pubsub-emulator and beta components (Debian: google-cloud-cli-pubsub-emulator)")
	port := FreePort(t)
	dir := t.TempDir()
	p := start(t, "gcloud", []string{"beta", "emulators", "pubsub", "start",
		"--host-port=127.0.0.1:" + strconv.Itoa(port), "--data-dir=" + dir, "--quiet"},
		[]string{"CLOUDSDK_CORE_DISABLE_PROMPTS=1", "CLOUDSDK_CONFIG=" + t.TempDir()})
	p.Endpoint = "127.0.0.1:" + strconv.Itoa(port)
	waitFor(t, p, 90*time.Second, func() bool {
		resp, err := http.Get("http://" + p.Endpoint + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	return p
}

func waitFor(t testing.TB, p *Process, limit time.Duration, ready func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	exited := make(chan struct{})
	go func() {
		// ProcessState is set by Wait in Stop; poll the pid instead.
		for ctx.Err() == nil {
			if err := p.cmd.Process.Signal(syscall.Signal(0)); err != nil {
				close(exited)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	for {
		if ready() {
			return
		}
		select {
		case <-exited:
			t.Fatalf("%s exited before it was ready:\n%s", p.cmd.Path, p.Output())
		case <-ctx.Done():
			t.Fatalf("%s not ready after %s:\n%s", p.cmd.Path, limit, p.Output())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 { // keep the start, where the errors are
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(s.b.String())
}
