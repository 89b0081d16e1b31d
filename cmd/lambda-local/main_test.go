package main

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/elevenrelay/elevenrelay/local"
)

// TestMakeLambdaLocal runs `make lambda-local` as a user does, sends it a
// webhook with `make send`, a tampered one and a GET, then stops it with
// SIGTERM and checks that nothing it started is left running.
func TestMakeLambdaLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the emulator, moto_server and the function")
	}
	makeBin := testenv.RequireTool(t, "make", "install GNU make")
	testenv.RequireTool(t, "moto_server", testenv.MotoHint)
	_, root := testenv.RIE(t) // builds the emulator once, or skips/fails as the other emulator tests do
	t.Setenv(envvar.Secret, "")

	port := testenv.FreePort(t)
	out := &testenv.Buffer{}
	cmd := exec.Command(makeBin, "-s", "lambda-local", "LAMBDA_PORT="+strconv.Itoa(port), "LAMBDA_LOCAL_BIN="+filepath.Join(t.TempDir(), "lambda-local"))
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, as a terminal gives it: the signal goes to the group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// What it starts in process groups of their own (moto_server, the
	// emulator) holds its output open if it is killed before stopping them.
	cmd.WaitDelay = 10 * time.Second
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})

	ready := time.After(5 * time.Minute)
	for !strings.Contains(out.String(), "the function answers on") {
		select {
		case <-exited:
			t.Fatalf("make lambda-local exited (%v):\n%s", waitErr, out)
		case <-ready:
			t.Fatalf("make lambda-local not ready after 5 minutes:\n%s", out)
		case <-time.After(100 * time.Millisecond):
		}
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/webhook"

	t.Run("make send: 200", func(t *testing.T) {
		send := exec.Command(makeBin, "-s", "send", "URL="+url)
		send.Dir = root
		got, err := send.CombinedOutput()
		require.NoError(t, err, "%s\n%s", got, out)
		require.Contains(t, string(got), `HTTP 200 {"status":"accepted","message_id":"`)
	})
	body, err := os.ReadFile(filepath.Join(root, "events", "bodies", "post_call_transcription.json"))
	require.NoError(t, err)
	t.Run("tampered body: 400", func(t *testing.T) {
		sig := core.Sign(local.DevSecret, time.Now(), body)
		tampered := bytes.Replace(body, []byte("post_call_transcription"), []byte("post_call_transcriptioN"), 1)
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(tampered))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(core.SignatureHeader, sig)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
	t.Run("GET: 405", func(t *testing.T) {
		resp, err := http.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		require.Equal(t, "POST", resp.Header.Get("Allow"))
	})

	// What it started, to check it is gone afterwards.
	logs := out.String()
	moto := regexp.MustCompile(`--endpoint-url (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(logs)
	require.NotNil(t, moto, logs)
	bootstrap := regexp.MustCompile(`exec '([^']+)'`).FindStringSubmatch(logs)
	require.NotNil(t, bootstrap, logs)

	require.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM))
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("make lambda-local still running 30s after SIGTERM:\n%s", out)
	}
	require.Contains(t, out.String(), "lambda-local: stopped")
	for _, addr := range []string{strings.TrimPrefix(moto[1], "http://"), "127.0.0.1:" + strconv.Itoa(port)} {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after SIGTERM", addr)
		}
	}
	// The function exits by itself once the emulator is gone.
	deadline := time.Now().Add(10 * time.Second)
	for running(bootstrap[1]) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	require.False(t, running(bootstrap[1]), "the bootstrap %s is still running", bootstrap[1])
	_, err = os.Stat(bootstrap[1])
	require.True(t, os.IsNotExist(err), "the bootstrap's temporary directory is left behind")
}

// running says whether a process runs the executable path.
func running(path string) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && bytes.HasPrefix(b, []byte(path+"\x00")) {
			return true
		}
	}
	return false
}

// Without moto_server, lambda-local says what to install before it builds
// or starts anything.
func TestLambdaLocalWithoutMoto(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), testenv.FreePort(t), 256, &stdout, &stderr)
	require.ErrorContains(t, err, "moto_server not found on PATH; "+testenv.MotoHint)
	require.NotContains(t, stdout.String(), "building")
}
