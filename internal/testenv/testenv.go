// Package testenv starts the real emulators that integration tests use
// (moto_server for SQS, S3 and Secrets Manager; the Pub/Sub emulator) on
// free loopback ports, and stops them when the test ends.
//
// A missing tool skips the test with what to install, except under CI=true,
// where it fails: CI must never pass by skipping what it was meant to run.
package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Process is an emulator started for a test.
type Process struct {
	// Endpoint is its address: "http://127.0.0.1:PORT" for moto,
	// "127.0.0.1:PORT" for the Pub/Sub emulator.
	Endpoint string
	cmd      *exec.Cmd
	out      *Buffer
	dir      string // removed by Stop
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
		if p.dir != "" {
			_ = os.RemoveAll(p.dir)
		}
	})
}

// Output is what the emulator printed so far, for failure messages.
func (p *Process) Output() string { return p.out.String() }

func start(name string, args []string, env []string) (*Process, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	// Own process group, so Stop also ends children (gcloud starts java).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &Process{cmd: cmd, out: out}, nil
}

// Hints say how to install each emulator, for skips and errors.
const (
	MotoHint   = "install moto with its server extra: pip install 'moto[server]'"
	PubSubHint = "install the Google Cloud CLI with its pubsub-emulator and beta components (Debian: google-cloud-cli-pubsub-emulator)"
)

// StartMoto starts moto_server on a free loopback port and waits until it
// answers. It sets nothing in the environment; see AWSEnv.
func StartMoto(t testing.TB) *Process {
	t.Helper()
	RequireTool(t, "moto_server", MotoHint)
	p, err := LaunchMoto()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

// LaunchMoto is StartMoto for programs (cmd/loadtest): it returns an error
// instead of failing a test, and the caller must call Stop.
func LaunchMoto() (*Process, error) {
	if _, err := exec.LookPath("moto_server"); err != nil {
		return nil, fmt.Errorf("moto_server not found on PATH; %s", MotoHint)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p, err := start("moto_server", []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)}, nil)
	if err != nil {
		return nil, err
	}
	p.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	err = waitFor(p, 60*time.Second, func() bool {
		resp, err := http.Get(p.Endpoint + "/moto-api/data.json")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
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
	RequireTool(t, "gcloud", PubSubHint)
	p, err := LaunchPubSub()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

// LaunchPubSub is StartPubSub for programs: it returns an error instead of
// failing a test, and the caller must call Stop, which also removes the
// emulator's data and configuration directories.
func LaunchPubSub() (p *Process, err error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	return LaunchPubSubOn(port)
}

// LaunchPubSubOn is LaunchPubSub on a given loopback port, for a local run
// whose printed commands name the port.
func LaunchPubSubOn(port int) (p *Process, err error) {
	if _, err := exec.LookPath("gcloud"); err != nil {
		return nil, fmt.Errorf("gcloud not found on PATH; %s", PubSubHint)
	}
	dir, err := os.MkdirTemp("", "pubsub-emulator-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	for _, sub := range []string{"data", "config"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	p, err = start("gcloud", []string{"beta", "emulators", "pubsub", "start",
		"--host-port=127.0.0.1:" + strconv.Itoa(port), "--data-dir=" + filepath.Join(dir, "data"), "--quiet"},
		[]string{"CLOUDSDK_CORE_DISABLE_PROMPTS=1", "CLOUDSDK_CONFIG=" + filepath.Join(dir, "config")})
	if err != nil {
		return nil, err
	}
	p.dir = dir
	p.Endpoint = "127.0.0.1:" + strconv.Itoa(port)
	err = waitFor(p, 90*time.Second, func() bool {
		resp, err := http.Get("http://" + p.Endpoint + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	if err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

func waitFor(p *Process, limit time.Duration, ready func() bool) error {
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
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited before it was ready:\n%s", p.cmd.Path, p.Output())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s:\n%s", p.cmd.Path, limit, p.Output())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
