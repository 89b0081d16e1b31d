package main

import (
	"archive/zip"
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
)

// buildpackMain is the main that Cloud Functions' Go buildpack generates
// for a root package importing the framework's functions package: it
// imports the root package for its init and starts the framework, which
// serves FUNCTION_TARGET. The buildpack puts it in functions.local/app
// under the source and builds that directory.
const buildpackMain = `package main

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

// TestSourceZipBuildsLikeTheBuildpack builds the source zip offline, checks
// what it holds, compiles it the way the Go buildpack does (the generated
// main, vendored dependencies, no module proxy), then runs the binary
// against the in-process Pub/Sub fake and sends it a signed webhook.
func TestSourceZipBuildsLikeTheBuildpack(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the function and all its dependencies")
	}
	// Offline: the module cache is all there is.
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=mod -buildvcs=false")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	out := filepath.Join(t.TempDir(), "gcf-source.zip")
	if _, err := Build(ctx, filepath.Join("..", ".."), out, true); err != nil {
		t.Fatal(err)
	}
	src := unzip(t, out)
	checkContents(t, src)

	appDir := filepath.Join(src, "functions.local", "app")
	if err := os.MkdirAll(appDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(appDir, "main.go"), []byte(buildpackMain), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "function")
	// -trimpath only so that the build cache serves the next run, whose
	// temporary directory has another name.
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./functions.local/app")
	build.Dir = src
	build.Env = append(os.Environ(), "GOFLAGS=-mod=vendor -buildvcs=false", "GOPROXY=off", "GOWORK=off")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build as the buildpack does: %v\n%s", err, b)
	}

	runFunction(t, bin)
}

func unzip(t *testing.T, file string) string {
	t.Helper()
	dir := t.TempDir()
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if err := os.CopyFS(dir, zr); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkContents asserts what the buildpack relies on and what must stay out.
func checkContents(t *testing.T, src string) {
	t.Helper()
	for _, f := range []string{"go.mod", "go.sum", "function.go", "gcf/function.go", "core/receiver.go", "vendor/modules.txt",
		"vendor/github.com/GoogleCloudPlatform/functions-framework-go/funcframework/framework.go"} {
		if _, err := os.Stat(filepath.Join(src, f)); err != nil {
			t.Errorf("zip lacks %s", f)
		}
	}
	roots, _ := filepath.Glob(filepath.Join(src, "*.go"))
	for _, f := range roots {
		b, _ := os.ReadFile(f)
		if !bytes.HasPrefix(bytes.TrimLeft(stripComments(b), "\n"), []byte("package function\n")) {
			t.Errorf("%s: every root file must be in the one non-main root package", filepath.Base(f))
		}
	}
	filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(src, p)
		switch {
		case strings.HasPrefix(rel, "vendor"+string(filepath.Separator)):
		case strings.HasSuffix(p, "_test.go"):
			t.Errorf("zip holds a test file: %s", rel)
		case d.IsDir() && (d.Name() == "lambda" || d.Name() == "cmd" || d.Name() == "testdata"):
			t.Errorf("zip holds %s", rel)
		}
		return nil
	})
	mod, _ := os.ReadFile(filepath.Join(src, "go.mod"))
	for _, dep := range []string{"github.com/aws/", "fake-gcs-server", "testify"} {
		if bytes.Contains(mod, []byte(dep)) {
			t.Errorf("go.mod requires %s, which the function does not use", dep)
		}
	}
}

func stripComments(b []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if !bytes.HasPrefix(l, []byte("//")) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// runFunction starts the built function as Cloud Functions would (PORT,
// FUNCTION_TARGET) and has it publish one signed webhook to pstest.
func runFunction(t *testing.T, bin string) {
	const (
		secret = "wsec_buildpack_test"
		topic  = "projects/elevenrelay-test/topics/webhooks"
	)
	ps := pstest.NewServer()
	t.Cleanup(func() { ps.Close() })
	if _, err := ps.GServer.CreateTopic(context.Background(), &pb.Topic{Name: topic}); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(testenv.FreePort(t))
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"PORT="+port,
		"FUNCTION_TARGET=ElevenLabsWebhook",
		"PUBSUB_EMULATOR_HOST="+ps.Addr,
		"PUBSUB_TOPIC="+topic,
		"ELEVENLABS_WEBHOOK_SECRET="+secret,
	)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("function output:\n%s", logs.String())
		}
	})

	// Wait for the port, as Cloud Run's start-up probe does.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			t.Fatal("function exited before listening")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("function not listening after 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	body := []byte(`{"type":"post_call_transcription","data":{"conversation_id":"conv_1"}}`)
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:"+port+"/", bytes.NewReader(body))
	req.Header.Set(core.SignatureHeader, core.Sign(secret, time.Now(), body))
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("function answered %d, want 200", resp.StatusCode)
	}
	msgs := ps.Messages()
	if len(msgs) != 1 || string(msgs[0].Data) != string(body) || msgs[0].Attributes[core.AttrConversationID] != "conv_1" {
		t.Fatalf("pstest holds %d messages, want the one body sent", len(msgs))
	}
}
