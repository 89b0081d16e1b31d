package coldstart

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// HTTPOptions say what to start for an HTTP cold start (a Cloud Function
// under the Functions Framework).
type HTTPOptions struct {
	// Binary is the function's executable; it listens on $PORT.
	Binary string
	// Env is added to PATH and PORT.
	Env []string
	// Body and Header are the one request, a POST to /.
	Body   []byte
	Header http.Header
	// Timeout bounds one run; zero means 30 s.
	Timeout time.Duration
}

// HTTPRun is one process's time from just before the fork to the complete
// first 200 answer, as the first request of a cold Cloud Run instance sees
// it (the platform holds the request until the port accepts).
type HTTPRun struct {
	Response time.Duration
	// PeakRSS is the process's VmHWM after the answer.
	PeakRSS int64
	Status  int
	Body    []byte
}

// RunHTTP starts opts.Binary once on a free loopback port, sends the
// request as soon as the port accepts a connection, and stops it.
func RunHTTP(opts HTTPOptions) (HTTPRun, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return HTTPRun{}, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	addr := "127.0.0.1:" + strconv.Itoa(port)

	cmd := exec.Command(opts.Binary)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "PORT=" + strconv.Itoa(port), "TZ=:UTC"}, opts.Env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// One connection, no keep-alive reuse between runs.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: opts.Timeout}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return HTTPRun{}, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}()
	deadline := start.Add(opts.Timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			return HTTPRun{}, fmt.Errorf("exited before listening: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			return HTTPRun{}, fmt.Errorf("not listening on %s after %s: %s", addr, opts.Timeout, out.String())
		}
		time.Sleep(200 * time.Microsecond)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/", bytes.NewReader(opts.Body))
	if err != nil {
		return HTTPRun{}, err
	}
	for k, v := range opts.Header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return HTTPRun{}, fmt.Errorf("request: %w; output: %s", err, out.String())
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	r := HTTPRun{Response: time.Since(start), Status: resp.StatusCode, Body: body}
	if err != nil {
		return r, err
	}
	if resp.StatusCode != http.StatusOK {
		return r, fmt.Errorf("answered %d %s; output: %s", resp.StatusCode, body, out.String())
	}
	r.PeakRSS = vmHWM(cmd.Process.Pid)
	return r, nil
}

func vmHWM(pid int) int64 {
	return statusField(filepath.Join("/proc", strconv.Itoa(pid), "status"), "VmHWM:")
}

// BuildpackMain is the main that Cloud Functions' Go buildpack generates
// for a source whose root package registers the function in init: it
// imports that package and starts the framework on $PORT. (cmd/gcf-source's
// test builds the source zip with the same program.)
const BuildpackMain = `package main

import (
	"log"
	"net/http"
	"os"

	_ "github.com/elevenrelay/elevenrelay"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
)

func main() {
	http.HandleFunc("/robots.txt", http.NotFound)
	http.HandleFunc("/favicon.ico", http.NotFound)
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if err := funcframework.Start(port); err != nil {
		log.Fatalf("Function failed to start: %v\n", err)
	}
}
`

// BuildGCFSource makes the Cloud Function's source zip as `make gcf-source`
// does (root is the main module), unpacks it, and compiles it the way the Go
// buildpack does (its generated main, the vendored dependencies) into out.
func BuildGCFSource(ctx context.Context, root, out string) error {
	dir, err := os.MkdirTemp("", "gcf-source-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	zipPath := filepath.Join(dir, "gcf-source.zip")
	gen := exec.CommandContext(ctx, "go", "run", "./cmd/gcf-source", "-o", zipPath)
	gen.Dir = root
	if b, err := gen.CombinedOutput(); err != nil {
		return fmt.Errorf("gcf-source: %w\n%s", err, b)
	}
	src := filepath.Join(dir, "src")
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return err
	}
	err = os.CopyFS(src, zr)
	zr.Close()
	if err != nil {
		return err
	}
	app := filepath.Join(src, "functions.local", "app")
	if err := os.MkdirAll(app, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(app, "main.go"), []byte(BuildpackMain), 0o644); err != nil {
		return err
	}
	return goBuild(ctx, src, "./functions.local/app", out, "GOFLAGS=-mod=vendor -buildvcs=false", "GOWORK=off")
}

// BuildGCFHello compiles the reference function (bench/cmd/gcfhello) as the
// buildpack would build it: the same flags as BuildGCFSource.
func BuildGCFHello(ctx context.Context, benchDir, out string) error {
	return goBuild(ctx, benchDir, "./cmd/gcfhello", out)
}

func goBuild(ctx context.Context, dir, pkg, out string, env ...string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0"), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// PubSubEmulator is the Google Cloud Pub/Sub emulator (gcloud beta
// emulators pubsub) on a free loopback port.
type PubSubEmulator struct {
	// Host is its address, for PUBSUB_EMULATOR_HOST.
	Host string
	cmd  *exec.Cmd
	dir  string
	done chan struct{}
}

// StartPubSub starts the emulator and waits until it answers; Stop ends it.
func StartPubSub() (*PubSubEmulator, error) {
	if _, err := exec.LookPath("gcloud"); err != nil {
		return nil, fmt.Errorf("gcloud not found on PATH: install the Google Cloud CLI with its pubsub-emulator and beta components")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	host := ln.Addr().String()
	ln.Close()
	dir, err := os.MkdirTemp("", "bench-pubsub-")
	if err != nil {
		return nil, err
	}
	for _, sub := range []string{"data", "config"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	cmd := exec.Command("gcloud", "beta", "emulators", "pubsub", "start", "--host-port="+host, "--data-dir="+filepath.Join(dir, "data"), "--quiet")
	cmd.Env = append(os.Environ(), "CLOUDSDK_CORE_DISABLE_PROMPTS=1", "CLOUDSDK_CONFIG="+filepath.Join(dir, "config"))
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	e := &PubSubEmulator{Host: host, cmd: cmd, dir: dir, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(e.done) }()
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get("http://" + host + "/")
		if err == nil {
			resp.Body.Close()
			return e, nil
		}
		select {
		case <-e.done:
			e.Stop()
			return nil, fmt.Errorf("the Pub/Sub emulator exited: %s", out.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, fmt.Errorf("the Pub/Sub emulator did not answer within 90s: %s", out.String())
		}
	}
}

// CreateTopic creates topic (projects/P/topics/T) through the emulator's
// REST API.
func (e *PubSubEmulator) CreateTopic(topic string) error {
	req, err := http.NewRequest(http.MethodPut, "http://"+e.Host+"/v1/"+topic, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("create topic %s: %d %s", topic, resp.StatusCode, b)
	}
	return nil
}

// Stop ends the emulator (and the Java process it starts) and removes its
// data.
func (e *PubSubEmulator) Stop() {
	_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
	<-e.done
	os.RemoveAll(e.dir)
}
