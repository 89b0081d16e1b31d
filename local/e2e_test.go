package local_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// TestMakeRunThenSend does what the README's first steps do, with the real
// binaries over real HTTP: start the local receiver, send every sample event
// with the send tool, and read the spool.
func TestMakeRunThenSend(t *testing.T) {
	dir := t.TempDir()
	server, send := buildCmd(t, dir, "./cmd/local"), buildCmd(t, dir, "./cmd/send")

	port := testenv.FreePort(t)
	spool := filepath.Join(dir, "spool.jsonl")
	var logs bytes.Buffer
	srv := exec.Command(server)
	srv.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "SPOOL_FILE="+spool, "ELEVENLABS_WEBHOOK_SECRET=")
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	base := "http://127.0.0.1:" + strconv.Itoa(port)
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

	files, _ := filepath.Glob(filepath.Join("..", "events", "bodies", "*.json"))
	if len(files) < 4 {
		t.Fatalf("want the four sample bodies, found %v", files)
	}
	sendEnv := append(os.Environ(), "ELEVENLABS_WEBHOOK_SECRET=")
	for _, f := range files {
		out, err := runCmd(sendEnv, send, "-url", base+"/webhook", "-file", f)
		if err != nil || !strings.Contains(out, "HTTP 200 {\"status\":\"accepted\"") {
			t.Fatalf("send %s: %v\n%s", f, err, out)
		}
	}
	// A stale signature is refused and nothing is spooled for it.
	out, err := runCmd(sendEnv, send, "-url", base+"/webhook", "-file", files[0], "-age", "31m")
	if err == nil || !strings.Contains(out, `HTTP 400 {"error":"Timestamp outside the tolerance zone"}`) {
		t.Fatalf("stale send: %v\n%s", err, out)
	}
	// A different secret is refused.
	out, err = runCmd(append(os.Environ(), "ELEVENLABS_WEBHOOK_SECRET=wsec_someone_else"), send, "-url", base+"/webhook", "-file", files[0])
	if err == nil || !strings.Contains(out, "HTTP 400") {
		t.Fatalf("wrong-secret send: %v\n%s", err, out)
	}
	// The header printer gives a header that verifies.
	out, err = runCmd(sendEnv, send, "-header", "-file", files[0])
	if err != nil || !strings.HasPrefix(out, "ElevenLabs-Signature: t=") {
		t.Fatalf("send -header: %v %s", err, out)
	}
	body, _ := os.ReadFile(files[0])
	v, _ := core.NewVerifier([]string{local.DevSecret}, core.VerifierOptions{})
	if _, err := v.Verify(body, strings.TrimSpace(strings.TrimPrefix(out, "ElevenLabs-Signature: "))); err != nil {
		t.Fatalf("printed header does not verify: %v", err)
	}

	lines, err := local.ReadSpool(spool)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(files) {
		t.Fatalf("spool has %d lines, want %d", len(lines), len(files))
	}
	for i, f := range files {
		want, _ := os.ReadFile(f)
		got := lines[i].RawBody()
		if !bytes.Equal(got, want) {
			t.Fatalf("spooled body %d differs from %s", i, f)
		}
		sum := sha256.Sum256(want)
		a := lines[i].Attributes
		wantType := strings.TrimSuffix(filepath.Base(f), ".json")
		if a[core.AttrEventType] != wantType || a[core.AttrContentSHA256] != hex.EncodeToString(sum[:]) ||
			a[core.AttrSignatureTimestamp] == "" || a[core.AttrReceivedAt] == "" {
			t.Fatalf("attributes of %s = %v", f, a)
		}
	}
	srv.Process.Signal(os.Interrupt)
	srv.Wait()
	l := logs.String()
	if !strings.Contains(l, "development secret") {
		t.Fatalf("no warning about the development secret:\n%s", l)
	}
	// Neither secrets nor Go identifiers ("local.DevSecret") in what users read.
	for _, secret := range []string{local.DevSecret, "v0=", "Ava from Northwind", "local.DevSecret"} {
		if strings.Contains(l, secret) {
			t.Fatalf("server log contains %q", secret)
		}
	}
}

// buildCmd builds the module's command pkg (./cmd/…) into dir.
func buildCmd(t *testing.T, dir, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func runCmd(env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	b, err := cmd.CombinedOutput()
	return string(b), err
}

// TestKillRestartTornLine is the crash the spool must survive: two events
// accepted, the server killed with SIGKILL, the spool's last line torn (as
// a kill during a write leaves it), a restart, a third event. Every line
// parses, the torn one is moved aside, and the third event is readable.
func TestKillRestartTornLine(t *testing.T) {
	dir := t.TempDir()
	bin := buildCmd(t, dir, "./cmd/local")
	spool := filepath.Join(dir, "spool.jsonl")
	port := testenv.FreePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	env := append(os.Environ(), "PORT="+strconv.Itoa(port), "SPOOL_FILE="+spool, "ELEVENLABS_WEBHOOK_SECRET="+testSecret)
	start := func() *exec.Cmd {
		var logs testenv.Buffer
		srv := exec.Command(bin)
		srv.Env = env
		srv.Stdout, srv.Stderr = &logs, &logs
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
		for i := 0; ; i++ {
			res, err := http.Get(base + "/healthz")
			if err == nil {
				res.Body.Close()
				return srv
			}
			if i > 100 {
				t.Fatalf("local receiver did not start: %v\n%s", err, logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	s := &server{base: base}
	srv := start()
	for _, b := range []string{`{"type":"a"}`, `{"type":"b"}`} {
		if status, answer := s.post(t, nil, []byte(b), nil); status != 200 {
			t.Fatalf("before the kill: %d %s", status, answer)
		}
	}
	srv.Process.Kill() // SIGKILL: no shutdown, no flush
	srv.Wait()
	st, err := os.Stat(spool)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(spool, st.Size()-40); err != nil {
		t.Fatal(err)
	}

	start()
	if status, answer := s.post(t, nil, []byte(`{"type":"c"}`), nil); status != 200 {
		t.Fatalf("after the restart: %d %s", status, answer)
	}
	raw, _ := os.ReadFile(spool)
	for i, l := range bytes.Split(bytes.TrimSuffix(raw, []byte("\n")), []byte("\n")) {
		if !json.Valid(l) {
			t.Fatalf("spool line %d is not JSON after the restart: %q", i+1, l)
		}
	}
	lines, err := local.ReadSpool(spool)
	if err != nil || len(lines) != 2 || string(lines[1].RawBody()) != `{"type":"c"}` {
		t.Fatalf("spool: %d lines, %v", len(lines), err)
	}
	if moved, _ := filepath.Glob(spool + ".torn-*"); len(moved) != 1 {
		t.Fatalf("torn fragment files: %v, want one", moved)
	}
}
