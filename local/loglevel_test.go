package local_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
	"github.com/elevenrelay/elevenrelay/local"
)

// TestLogLevel runs the local receiver binary with LOG_LEVEL=warn: the
// development-secret warning and a refused request are logged, the start-up
// line and an accepted request (info) are not. An unusable LOG_LEVEL stops
// the server with an error naming the variable, as `make run` does.
func TestLogLevel(t *testing.T) {
	dir := t.TempDir()
	server := buildCmd(t, dir, "./cmd/local")
	port := testenv.FreePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	env := append(os.Environ(), "PORT="+strconv.Itoa(port), "SPOOL_FILE="+filepath.Join(dir, "spool.jsonl"),
		"ELEVENLABS_WEBHOOK_SECRET=")

	var logs testenv.Buffer
	srv := exec.Command(server)
	srv.Env = append(env, "LOG_LEVEL=warn")
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	for i := 0; ; i++ {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			break
		}
		if i > 100 {
			t.Fatalf("local receiver did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	body := []byte(`{"type":"post_call_transcription","data":{"conversation_id":"c1"}}`)
	post := func(secret string, want int) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/webhook", strings.NewReader(string(body)))
		req.Header.Set("ElevenLabs-Signature", core.Sign(secret, time.Now(), body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("status %d, want %d", res.StatusCode, want)
		}
	}
	post(local.DevSecret, http.StatusOK)
	post("wsec_someone_else", http.StatusBadRequest)
	srv.Process.Signal(os.Interrupt)
	srv.Wait()
	l := logs.String()
	if !strings.Contains(l, "development secret") || !strings.Contains(l, `"status":400`) {
		t.Fatalf("LOG_LEVEL=warn lost a warning:\n%s", l)
	}
	if strings.Contains(l, "listening") || strings.Contains(l, `"status":200`) || strings.Contains(l, "spooled") {
		t.Fatalf("LOG_LEVEL=warn logged info lines:\n%s", l)
	}

	bad := exec.Command(server)
	bad.Env = append(env, "LOG_LEVEL=loud")
	out, err := bad.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "LOG_LEVEL") {
		t.Fatalf("LOG_LEVEL=loud: want the server to stop naming the variable, got %v\n%s", err, out)
	}
}
