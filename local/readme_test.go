package local_test

import (
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/elevenrelay/elevenrelay/local"
)

// TestReadmeLocalWalkthrough runs the README's first steps as written, in
// a copy of the repository: `make run` from the "Two commands" block, then
// the make send block and the make sign + curl block, each line as a user
// pastes it. Only the port changes (PORT, and 8080 in URLs), so that the
// test does not clash with a receiver already running.
func TestReadmeLocalWalkthrough(t *testing.T) {
	testenv.RequireTool(t, "make", "install GNU make")
	testenv.RequireTool(t, "curl", "install curl")
	dir := testenv.CopyRepo(t)
	port := strconv.Itoa(testenv.FreePort(t))
	env := []string{"PORT=" + port, "ELEVENLABS_WEBHOOK_SECRET=", "SPOOL_FILE=", "MAKEFLAGS="}
	ports := strings.NewReplacer("127.0.0.1:8080", "127.0.0.1:"+port)

	// "make run" is the server line of the block that also shows make test
	// (which is what runs this test, so it is not run again here).
	var run string
	for _, line := range strings.Split(testenv.ReadmeBlock(t, "make run", "make test"), "\n") {
		if strings.HasPrefix(line, "make run") {
			run = stripComment(line)
		}
	}
	if run != "make run" {
		t.Fatalf("README's server line is %q, want make run", run)
	}
	var logs testenv.Buffer
	srv := testenv.Shell(t, dir, run, env)
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		res, err := http.Get("http://127.0.0.1:" + port + "/healthz")
		if err == nil {
			res.Body.Close()
			break
		}
		if i > 600 {
			t.Fatalf("make run did not serve within a minute: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	send := testenv.ReadmeBlock(t, "make send", "tail -n 1 .local/spool.jsonl")
	out := shell(t, dir, ports.Replace(send), env)
	if n := strings.Count(out, "-> HTTP 200 {\"status\":\"accepted\""); n != 3 {
		t.Fatalf("make send block: %d accepted, want 3\n%s", n, out)
	}
	if !strings.Contains(out, `"message_id"`) || !strings.Contains(out, `"attributes"`) {
		t.Fatalf("tail of the spool shows no message:\n%s", out)
	}

	curl := testenv.ReadmeBlock(t, "make -s sign", "curl")
	if !strings.Contains(curl, "127.0.0.1:8080") {
		t.Fatalf("the curl block no longer targets make run's port:\n%s", curl)
	}
	if out := shell(t, dir, ports.Replace(curl), env); !strings.Contains(out, `{"status":"accepted"`) {
		t.Fatalf("make sign + curl block:\n%s", out)
	}

	lines, err := local.ReadSpool(dir + "/.local/spool.jsonl")
	if err != nil || len(lines) != 4 {
		t.Fatalf("spool after the walkthrough: %d lines, %v; want 4", len(lines), err)
	}
}

func stripComment(line string) string {
	if i := strings.Index(line, "#"); i >= 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line)
}

// shell runs a README block and returns its output; any failing command
// fails the test.
func shell(t *testing.T, dir, script string, env []string) string {
	t.Helper()
	cmd := testenv.Shell(t, dir, script, env)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("README block still running after 3 minutes:\n%s\n%s", script, out)
	}
	if err != nil {
		if _, ok := err.(*exec.ExitError); ok {
			t.Fatalf("README block failed (%v):\n%s\noutput:\n%s", err, script, out)
		}
		t.Fatal(err)
	}
	return string(out)
}
