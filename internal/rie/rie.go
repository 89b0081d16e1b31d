// Package rie runs a Lambda bootstrap under the AWS Lambda runtime interface
// emulator, the program `sam local` runs inside its container: the real
// init and invoke lifecycle, without Docker.
//
// The emulator is pinned in tools/rie/go.mod (a module of its own, so the
// product's go.mod does not grow) and built through `go tool`, which keeps
// the executable in the Go build cache: the first build takes a while, the
// next ones are a cache look-up.
//
// The emulator listens on two addresses, both given by flag so that several
// can run at once: its invoke API (--runtime-interface-emulator-address,
// 0.0.0.0:8080 by default) and the Runtime API the function polls
// (--runtime-api-address, 127.0.0.1:9001 by default). It hands the second
// to the function in AWS_LAMBDA_RUNTIME_API before it listens, so port 0
// cannot be used: Start picks free loopback ports for both.
package rie

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ToolsDir is where the emulator's pin lives, relative to the repository root.
const ToolsDir = "tools/rie"

// invokePath is the emulator's one endpoint, the Lambda Invoke API's path
// for a function named "function".
const invokePath = "/2015-03-31/functions/function/invocations"

// FindRoot walks up from dir to the repository root: the first directory
// holding ToolsDir/go.mod. Tests run in their package's directory, bench/
// is a module of its own: both find the same root.
func FindRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, ToolsDir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no %s/go.mod above the working directory", ToolsDir)
		}
		dir = parent
	}
}

// Build compiles the pinned emulator (or finds it in the Go build cache)
// and returns the executable's path. root is the repository root.
func Build(ctx context.Context, root string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "tool", "-n", "aws-lambda-rie")
	cmd.Dir = filepath.Join(root, ToolsDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("build the Lambda runtime interface emulator (go tool -n aws-lambda-rie in %s): %w\n%s", ToolsDir, err, stderr.Bytes())
	}
	path := strings.TrimSpace(string(out))
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("build the Lambda runtime interface emulator: %w", err)
	}
	return path, nil
}

// BuildBootstrap compiles the main package pkg (a path relative to root,
// like ./lambda/bootstrap) as it is deployed, for this machine: no cgo,
// -tags lambda.norpc, trimmed paths, no symbols.
func BuildBootstrap(ctx context.Context, root, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// Options say what the emulator runs.
type Options struct {
	// Emulator is the emulator's executable (from Build).
	Emulator string
	// Bootstrap is the function's executable.
	Bootstrap string
	// Env is the environment of the emulator, which passes all of it on to
	// the function. nil means os.Environ(). The function also gets
	// AWS_LAMBDA_RUNTIME_API and the AWS_LAMBDA_* variables the emulator sets.
	Env []string
	// Output receives what the emulator and the function print; nil
	// discards it.
	Output io.Writer
	// Timeout is the function's timeout (AWS_LAMBDA_FUNCTION_TIMEOUT);
	// zero leaves the emulator's default of 300 s.
	Timeout time.Duration
}

// Emulator is a running emulator with its function.
type Emulator struct {
	// URL is the emulator's invoke endpoint, http://127.0.0.1:PORT/….
	URL string
	// RuntimeAPI is the address the function polls, 127.0.0.1:PORT.
	RuntimeAPI string
	cmd        *exec.Cmd
	exited     chan struct{}
	stopOnce   sync.Once
	client     *http.Client
}

// ErrExited says the emulator is no longer running.
var ErrExited = errors.New("rie: the emulator exited")

// Start runs the emulator on free loopback ports and waits until its invoke
// API accepts connections. The function itself starts at the first Invoke,
// as in Lambda (an on-demand init). Stop ends both.
func Start(opts Options) (*Emulator, error) {
	var lastErr error
	// A port found free can be taken before the emulator binds it: try again.
	for attempt := 0; attempt < 3; attempt++ {
		e, err := start(opts)
		if err == nil {
			return e, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func start(opts Options) (*Emulator, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	e := &Emulator{
		URL:        "http://127.0.0.1:" + strconv.Itoa(ports[0]) + invokePath,
		RuntimeAPI: "127.0.0.1:" + strconv.Itoa(ports[1]),
		exited:     make(chan struct{}),
		client:     &http.Client{},
	}
	cmd := exec.Command(opts.Emulator,
		"--runtime-interface-emulator-address", "127.0.0.1:"+strconv.Itoa(ports[0]),
		"--runtime-api-address", e.RuntimeAPI,
		opts.Bootstrap)
	cmd.Dir = filepath.Dir(opts.Bootstrap)
	cmd.Env = opts.Env
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	if opts.Timeout > 0 {
		cmd.Env = append(cmd.Env, "AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(int((opts.Timeout+time.Second-1)/time.Second)))
	}
	if opts.Output != nil {
		cmd.Stdout, cmd.Stderr = opts.Output, opts.Output
	}
	// Own process group: Stop ends the function the emulator started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the emulator: %w", err)
	}
	e.cmd = cmd
	go func() {
		_ = cmd.Wait()
		close(e.exited)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(ports[0]), time.Second)
		if err == nil {
			c.Close()
			return e, nil
		}
		select {
		case <-e.exited:
			return nil, fmt.Errorf("%w before it listened on 127.0.0.1:%d", ErrExited, ports[0])
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, fmt.Errorf("the emulator did not listen on 127.0.0.1:%d within 30s", ports[0])
		}
	}
}

// Pid is the emulator's process id; its process group holds the function.
func (e *Emulator) Pid() int { return e.cmd.Process.Pid }

// Exited is closed once the emulator has exited.
func (e *Emulator) Exited() <-chan struct{} { return e.exited }

// Stop ends the emulator and the function. It is safe to call more than once.
func (e *Emulator) Stop() {
	e.stopOnce.Do(func() {
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		<-e.exited
	})
}

// Invoke sends event to the function, as the Lambda Invoke API does for a
// synchronous invocation, and returns the function's answer: the status is
// the emulator's (200 when the function answered, whatever it answered;
// 502 with the error document when the function failed or crashed).
func (e *Emulator) Invoke(ctx context.Context, event []byte) (status int, answer []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(event))
	if err != nil {
		return 0, nil, err
	}
	resp, err := e.client.Do(req)
	if err != nil {
		select {
		case <-e.exited:
			return 0, nil, fmt.Errorf("%w: %v", ErrExited, err)
		default:
		}
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, err = io.ReadAll(resp.Body)
	return resp.StatusCode, answer, err
}

// initReport is the emulator's log line at the end of the function's init:
// `INIT REPORT(durationMs: 12.345000)`, from the function's exec to its
// first request for work (the REPORT line's "Init Duration" is measured
// differently by this emulator and is not used).
var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// InitDuration finds the init duration the emulator reported in its output.
func InitDuration(output string) (time.Duration, bool) {
	m := initReport.FindStringSubmatch(output)
	if m == nil {
		return 0, false
	}
	ms, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(ms * float64(time.Millisecond)), true
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		lns = append(lns, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
