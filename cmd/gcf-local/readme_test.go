package main

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/internal/testenv"
)

// TestReadmeCloudFunctionsLocalRun runs the README's Cloud Functions local
// run as a user pastes it, in a copy of the repository: make gcf-local in
// the background, make send to the function, the printed pull command,
// make gcf-local-stop. Only the ports change (GCF_PORT, PUBSUB_PORT and the URLs), so
// that it does not clash with anything already running.
func TestReadmeCloudFunctionsLocalRun(t *testing.T) {
	testenv.RequireTool(t, "gcloud", testenv.PubSubHint)
	testenv.RequireTool(t, "make", "install GNU make")
	testenv.RequireTool(t, "curl", "install curl")
	block := testenv.ReadmeBlock(t, "make gcf-local &", "make gcf-local-stop")
	for _, want := range []string{"127.0.0.1:8081", "127.0.0.1:8085"} {
		if !strings.Contains(block, want) {
			t.Fatalf("the block no longer uses %s (the defaults of make gcf-local):\n%s", want, block)
		}
	}
	dir := testenv.CopyRepo(t)
	fn, emu := strconv.Itoa(testenv.FreePort(t)), strconv.Itoa(testenv.FreePort(t))
	script := strings.NewReplacer("127.0.0.1:8081", "127.0.0.1:"+fn, "127.0.0.1:8085", "127.0.0.1:"+emu).Replace(block)
	// The harness's own lines: should a command fail, the function and the
	// emulator still stop; when all went well, make gcf-local has ended.
	script = "trap 'make -s gcf-local-stop >/dev/null 2>&1 || true' EXIT\n" + script + "\nwait\n"
	cmd := testenv.Shell(t, dir, script, []string{"GCF_PORT=" + fn, "PUBSUB_PORT=" + emu,
		"ELEVENLABS_WEBHOOK_SECRET=", "PUBSUB_EMULATOR_HOST=", "PUBSUB_TOPIC=", "MAKEFLAGS="})
	var out testenv.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() != 0 {
			t.Fatalf("README block failed (%v):\n%s\noutput:\n%s", err, script, out.String())
		}
	case <-time.After(4 * time.Minute):
		t.Fatalf("README block still running after 5 minutes:\n%s", out.String())
	}
	o := out.String()
	for _, want := range []string{
		"-> HTTP 200 {\"status\":\"accepted\"",    // make send
		"webhooks-local:pull",                     // the printed pull command
		`"receivedMessages"`,                      // the pull found the message
		`"event_type": "post_call_transcription"`, // with its attributes
	} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", o)
	}
}
