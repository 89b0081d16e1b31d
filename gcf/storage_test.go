package gcf_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/pstest"
	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/grpc/codes"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/gcf"
)

// storageClient is a Storage client for the fake server, as a consumer
// would build one (the SDK reads STORAGE_EMULATOR_HOST).
func storageClient(t *testing.T) *storage.Client {
	t.Helper()
	c, err := storage.NewClient(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestClaimCheck sends bodies above and below CLAIM_CHECK_THRESHOLD_BYTES
// through the function to pstest and fake-gcs-server (real HTTP), then
// resolves the queued messages as a consumer would.
func TestClaimCheck(t *testing.T) {
	ps := startPstest(t)
	gcs := startGCS(t)
	e := baseEnv()
	e["CLAIM_CHECK_BUCKET"] = testBucket
	e["CLAIM_CHECK_THRESHOLD_BYTES"] = "4096"
	url, _ := startFunction(t, e)
	fetcher := gcf.Fetcher{Client: storageClient(t)}

	tests := []struct {
		name         string
		body         []byte
		claimChecked bool
	}{
		{"post_call_audio is over the threshold", readBody(t, "post_call_audio"), true},
		{"post_call_transcription is under it", readBody(t, "post_call_transcription"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, url, testSecret, tc.body)
			if a.Status != http.StatusOK || a.Body["status"] != "accepted" {
				t.Fatalf("answer %d %v, want 200 accepted", a.Status, a.Body)
			}
			m := ps.Message(a.Body["message_id"])
			if m == nil {
				t.Fatal("message not in Pub/Sub")
			}
			sum := sha256Hex(tc.body)
			if m.Attributes[core.AttrContentSHA256] != sum {
				t.Errorf("content_sha256 %q, want that of the original body", m.Attributes[core.AttrContentSHA256])
			}
			ptr := m.Attributes[core.AttrClaimCheck]
			if !tc.claimChecked {
				if ptr != "" || string(m.Data) != string(tc.body) {
					t.Fatalf("claim_check %q: want the body itself in the message", ptr)
				}
			} else {
				key := "elevenlabs/" + time.Now().UTC().Format("2006/01/02/") + sum + ".json"
				if want := "gs://" + testBucket + "/" + key; ptr != want {
					t.Fatalf("claim_check %q, want %q", ptr, want)
				}
				var doc struct {
					ClaimCheck struct {
						URL    string `json:"url"`
						Size   int    `json:"size"`
						SHA256 string `json:"sha256"`
					} `json:"claim_check"`
				}
				if err := json.Unmarshal(m.Data, &doc); err != nil || doc.ClaimCheck.URL != ptr || doc.ClaimCheck.Size != len(tc.body) || doc.ClaimCheck.SHA256 != sum {
					t.Fatalf("message data %s is not the pointer SPEC §3 gives", m.Data)
				}
				obj, err := gcs.GetObject(testBucket, key)
				if err != nil {
					t.Fatal(err)
				}
				if string(obj.Content) != string(tc.body) {
					t.Errorf("stored object differs from the body sent")
				}
				if obj.ContentType != "application/json" || obj.Metadata[core.AttrEventType] != "post_call_audio" || obj.Metadata[core.AttrContentSHA256] != sum {
					t.Errorf("object content type %q metadata %v, want application/json and the message attributes", obj.ContentType, obj.Metadata)
				}
			}
			got, err := gcf.ResolveMessage(context.Background(), &pubsub.Message{Data: m.Data, Attributes: m.Attributes}, fetcher)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(tc.body) {
				t.Errorf("resolved bytes differ from the body sent")
			}
		})
	}

	t.Run("tampered object", func(t *testing.T) {
		body := readBody(t, "post_call_audio")
		a := post(t, url, testSecret, append([]byte(" "), body...))
		m := ps.Message(a.Body["message_id"])
		ptr := m.Attributes[core.AttrClaimCheck]
		key := strings.TrimPrefix(ptr, "gs://"+testBucket+"/")
		gcs.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: testBucket, Name: key}, Content: append([]byte("X"), body...)})
		_, err := gcf.ResolveMessage(context.Background(), &pubsub.Message{Data: m.Data, Attributes: m.Attributes}, fetcher)
		if !errors.Is(err, core.ErrClaimCheckMismatch) {
			t.Errorf("err %v, want ErrClaimCheckMismatch", err)
		}
	})
}

// TestNeedsClaimCheck: over the threshold with no bucket is 413, and the
// log says what to configure.
func TestNeedsClaimCheck(t *testing.T) {
	ps := startPstest(t)
	e := baseEnv()
	e["CLAIM_CHECK_THRESHOLD_BYTES"] = "4096"
	url, logs := startFunction(t, e)
	a := post(t, url, testSecret, readBody(t, "post_call_audio"))
	if a.Status != http.StatusRequestEntityTooLarge || a.Body["error"] != core.ErrNeedsClaimCheck.Error() {
		t.Errorf("answer %d %v, want 413 %q", a.Status, a.Body, core.ErrNeedsClaimCheck)
	}
	if !strings.Contains(logs.String(), "set CLAIM_CHECK_BUCKET") {
		t.Errorf("log does not say to set CLAIM_CHECK_BUCKET:\n%s", logs)
	}
	if n := len(ps.Messages()); n != 0 {
		t.Errorf("%d messages published, want 0", n)
	}
}

// TestSpill: when Pub/Sub refuses, the verified body goes to the bucket
// under spill/ and the answer is 200 spilled with the object's key; when
// the bucket fails too, 503.
func TestSpill(t *testing.T) {
	r := &failingPublish{code: codes.PermissionDenied}
	r.fail.Store(true)
	startPstest(t, pstest.ServerReactorOption{FuncName: "Publish", Reactor: r})
	gcs := startGCS(t)
	e := baseEnv()
	e["CLAIM_CHECK_BUCKET"] = testBucket
	url, _ := startFunction(t, e)
	body := readBody(t, "post_call_transcription")

	a := post(t, url, testSecret, body)
	key := "spill/" + time.Now().UTC().Format("2006/01/02/") + sha256Hex(body) + ".json"
	if a.Status != http.StatusOK || a.Body["status"] != "spilled" || a.Body["message_id"] != key {
		t.Fatalf("answer %d %v, want 200 spilled %s", a.Status, a.Body, key)
	}
	obj, err := gcs.GetObject(testBucket, key)
	if err != nil {
		t.Fatal(err)
	}
	if string(obj.Content) != string(body) || obj.Metadata[core.AttrConversationID] != "conv_01jxq5a7w3d9hc6y2b4k8m1n3p" {
		t.Errorf("spilled object %q metadata %v, want the body and its attributes", obj.Content, obj.Metadata)
	}

	gcs.Stop()
	a = post(t, url, testSecret, body)
	if a.Status != http.StatusServiceUnavailable {
		t.Errorf("with Pub/Sub and the bucket down: answer %d %v, want 503", a.Status, a.Body)
	}
}

func TestFetcherURL(t *testing.T) {
	for _, url := range []string{"s3://bucket/key", "gs://bucket", "gs:///key", "gs://bucket/"} {
		_, err := gcf.Fetcher{}.Fetch(context.Background(), url)
		if !errors.Is(err, gcf.ErrNotGCSURL) {
			t.Errorf("Fetch(%q) = %v, want ErrNotGCSURL", url, err)
		}
	}
}
