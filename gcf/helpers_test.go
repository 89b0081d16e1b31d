package gcf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/gcf"
	"github.com/elevenrelay/elevenrelay/internal/testenv"
)

const (
	testSecret  = "wsec_gcf_test_secret"
	testProject = "elevenrelay-test"
	testTopic   = "projects/" + testProject + "/topics/webhooks"
	testBucket  = "elevenrelay-claims"
)

// env is a test environment for gcf.New: the variables as a map.
type env map[string]string

func (e env) getenv(k string) string { return e[k] }

// baseEnv configures a working function; tests add or remove variables.
func baseEnv() env {
	return env{
		"ELEVENLABS_WEBHOOK_SECRET": "wsec_old_secret, " + testSecret,
		"PUBSUB_TOPIC":              testTopic,
	}
}

// startPstest starts the in-process Pub/Sub fake with the topic created and
// points the Pub/Sub client at it for the rest of the test.
func startPstest(t *testing.T, opts ...pstest.ServerReactorOption) *pstest.Server {
	t.Helper()
	srv := pstest.NewServer(opts...)
	t.Cleanup(func() { srv.Close() })
	if _, err := srv.GServer.CreateTopic(context.Background(), &pb.Topic{Name: testTopic}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PUBSUB_EMULATOR_HOST", srv.Addr)
	return srv
}

// startGCS starts fake-gcs-server over real HTTP on loopback with the
// claim-check bucket, and points the Storage client at it.
func startGCS(t *testing.T) *fakestorage.Server {
	t.Helper()
	return testenv.StartGCS(t, testBucket)
}

// startFunction sets the function up from e and serves it over real HTTP on
// loopback, as the Functions Framework would.
func startFunction(t *testing.T, e env) (url string, logs *testenv.Buffer) {
	t.Helper()
	logs = &testenv.Buffer{}
	f := gcf.New(context.Background(), gcf.Options{Getenv: e.getenv, LogWriter: logs})
	srv := httptest.NewServer(f)
	t.Cleanup(func() {
		srv.Close()
		if err := f.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			t.Logf("function log:\n%s", logs)
		}
	})
	return srv.URL, logs
}

// readBody returns a sample webhook body from events/bodies.
func readBody(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "events", "bodies", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type answer struct {
	Status int
	Body   map[string]string
}

// post sends body signed with secret, as ElevenLabs would, with extra headers.
func post(t *testing.T, url, secret string, body []byte, headers ...string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(core.SignatureHeader, core.Sign(secret, time.Now(), body))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	a := answer{Status: resp.StatusCode}
	if err := json.Unmarshal(raw, &a.Body); err != nil {
		t.Fatalf("answer %d is not a JSON object of strings: %q", resp.StatusCode, raw)
	}
	return a
}

// startEmulatorTopic starts the real Pub/Sub emulator for this test, points
// the SDK at it (PUBSUB_EMULATOR_HOST) and creates testTopic; the returned
// client administers and pulls.
func startEmulatorTopic(ctx context.Context, t *testing.T) (*testenv.Process, *pubsub.Client) {
	t.Helper()
	emu := testenv.StartPubSub(t)
	t.Setenv("PUBSUB_EMULATOR_HOST", emu.Endpoint)
	client, err := pubsub.NewClient(ctx, testProject)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	if _, err := client.TopicAdminClient.CreateTopic(ctx, &pb.Topic{Name: testTopic}); err != nil {
		t.Fatal(err)
	}
	return emu, client
}
