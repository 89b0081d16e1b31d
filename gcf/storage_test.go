package gcf_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/pstest"
	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/googleapi"
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
					t.Fatalf("message data %s is not the claim-check pointer of docs/spec.md §3", m.Data)
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
			got, err := gcf.ResolveMessage(context.Background(), fetcher, &pubsub.Message{Data: m.Data, Attributes: m.Attributes})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(tc.body) {
				t.Errorf("resolved bytes differ from the body sent")
			}
		})
	}

	// ElevenLabs redelivers: the same body the same day has the same key.
	// The second write must not overwrite (the function's objectCreator
	// role could not), and the second delivery is accepted all the same.
	t.Run("the same body twice", func(t *testing.T) {
		body := append([]byte("\n"), readBody(t, "post_call_audio")...)
		key := "elevenlabs/" + time.Now().UTC().Format("2006/01/02/") + sha256Hex(body) + ".json"
		var gen int64
		for i := range 2 {
			a := post(t, url, testSecret, body)
			if a.Status != http.StatusOK || a.Body["status"] != "accepted" {
				t.Fatalf("delivery %d: answer %d %v, want 200 accepted", i+1, a.Status, a.Body)
			}
			m := ps.Message(a.Body["message_id"])
			if m == nil || m.Attributes[core.AttrClaimCheck] != "gs://"+testBucket+"/"+key {
				t.Fatalf("delivery %d: message %v, want a claim check for %s", i+1, m, key)
			}
			obj, err := gcs.GetObject(testBucket, key)
			if err != nil {
				t.Fatal(err)
			}
			if string(obj.Content) != string(body) {
				t.Errorf("delivery %d: stored object differs from the body sent", i+1)
			}
			if i == 0 {
				gen = obj.Generation
			} else if obj.Generation != gen {
				t.Errorf("generation %d after the second delivery, want %d: the object was overwritten", obj.Generation, gen)
			}
		}
	})

	t.Run("tampered object", func(t *testing.T) {
		body := readBody(t, "post_call_audio")
		a := post(t, url, testSecret, append([]byte(" "), body...))
		m := ps.Message(a.Body["message_id"])
		ptr := m.Attributes[core.AttrClaimCheck]
		key := strings.TrimPrefix(ptr, "gs://"+testBucket+"/")
		gcs.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: testBucket, Name: key}, Content: append([]byte("X"), body...)})
		_, err := gcf.ResolveMessage(context.Background(), fetcher, &pubsub.Message{Data: m.Data, Attributes: m.Attributes})
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
	if a.Status != http.StatusRequestEntityTooLarge || a.Body["error"] != needsClaimCheck {
		t.Errorf("answer %d %v, want 413 %q", a.Status, a.Body, needsClaimCheck)
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

	// What replay reads back through the Storage client: fake-gcs-server,
	// like Cloud Storage's JSON API, keeps metadata names with "_" (S3
	// behind nginx or moto does not; see lambda's s3Metadata).
	src := gcf.NewBucket(storageClient(t), testBucket)
	ctx := context.Background()
	keys, err := src.List(ctx, core.SpillPrefix)
	if err != nil || len(keys) != 1 || keys[0] != key {
		t.Fatalf("List = %v, %v; want [%s]", keys, err, key)
	}
	got, meta, err := src.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	receivedAt, _ := time.Parse(time.RFC3339, meta[core.AttrReceivedAt])
	want := core.NewMessage(body, core.Signature{Timestamp: meta[core.AttrSignatureTimestamp]}, receivedAt)
	if string(got) != string(body) || !reflect.DeepEqual(meta, want.Attributes()) {
		t.Errorf("Get: attributes %v, want %v (and the body)", meta, want.Attributes())
	}
	if err := src.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if keys, err := src.List(ctx, core.SpillPrefix); err != nil || len(keys) != 0 {
		t.Errorf("after Delete: List = %v, %v", keys, err)
	}

	gcs.Stop()
	a = post(t, url, testSecret, body)
	if a.Status != http.StatusServiceUnavailable {
		t.Errorf("with Pub/Sub and the bucket down: answer %d %v, want 503", a.Status, a.Body)
	}
}

// TestPutTwice: Put only creates, and a key already stored counts as
// stored, so the same key put twice succeeds both times and the object
// keeps its first generation.
func TestPutTwice(t *testing.T) {
	gcs := startGCS(t)
	client := storageClient(t)
	b := gcf.NewBucket(client, testBucket)
	ctx := context.Background()
	key := "elevenlabs/2026/11/23/put-twice.json"
	body := readBody(t, "post_call_transcription")

	if err := b.Put(ctx, key, body, map[string]string{"delivery": "1"}); err != nil {
		t.Fatalf("first Put: %v", err)
	}
	first, err := gcs.GetObject(testBucket, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, key, body, map[string]string{"delivery": "2"}); err != nil {
		t.Fatalf("second Put: %v, want nil (the object holds these bytes)", err)
	}
	got, meta, err := b.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(body) {
		t.Errorf("object holds %q, want the body put", got)
	}
	attrs, err := client.Bucket(testBucket).Object(key).Attrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Generation != first.Generation || meta["delivery"] != "1" {
		t.Errorf("generation %d metadata %v after the second Put, want generation %d and delivery 1: overwritten", attrs.Generation, meta, first.Generation)
	}

	// The fake refuses a create over an existing object as Cloud Storage
	// does, with the 412 Put relies on; without that this test proves
	// nothing.
	w := client.Bucket(testBucket).Object(key).If(storage.Conditions{DoesNotExist: true}).NewWriter(ctx)
	w.ChunkSize = 0
	w.Write(body)
	var e *googleapi.Error
	if err := w.Close(); !errors.As(err, &e) || e.Code != http.StatusPreconditionFailed {
		t.Errorf("create over an existing object: %v, want a 412 googleapi.Error", err)
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

// needsClaimCheck is the answer to a body larger than the queue takes when
// no claim-check bucket is configured.
const needsClaimCheck = "body exceeds the queue's message size limit and no claim-check bucket is configured (set CLAIM_CHECK_BUCKET)"
