package gcf

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strings"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"

	"github.com/elevenrelay/elevenrelay/core"
)

// Bucket is a core.ObjectStore on a Cloud Storage bucket: the claim-check
// bucket for large bodies, and the spill bucket when Pub/Sub fails.
type Bucket struct {
	name string
	h    *storage.BucketHandle
}

var _ core.ObjectStore = (*Bucket)(nil)

// NewBucket returns the bucket name reached through client.
func NewBucket(client *storage.Client, name string) *Bucket {
	return &Bucket{name: name, h: client.Bucket(name)}
}

// URLPrefix is how claim checks name the bucket: "gs://<bucket>/".
func (b *Bucket) URLPrefix() string { return "gs://" + b.name + "/" }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Put stores body under key with meta as custom metadata, and returns once
// Cloud Storage has it. The body's CRC32C goes with the upload, so a body
// damaged on the way is refused instead of stored.
//
// The write only creates: its precondition is that no object holds the key
// yet. The function's role (roles/storage.objectCreator) cannot overwrite,
// and need not: the key ends in the body's SHA-256, so an object already
// there holds these bytes (a redelivery on the same day), and the
// precondition's failure (412) counts as stored.
func (b *Bucket) Put(ctx context.Context, key string, body []byte, meta map[string]string) error {
	w := b.h.Object(key).If(storage.Conditions{DoesNotExist: true}).NewWriter(ctx)
	w.ContentType = "application/json"
	w.Metadata = meta
	w.CRC32C = crc32.Checksum(body, castagnoli)
	w.SendCRC32C = true
	// One request for the whole body: it is in memory already (at most the
	// request limit), and a resumable upload would add round trips.
	w.ChunkSize = 0
	_, err := w.Write(body)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil && !alreadyStored(err) {
		return fmt.Errorf("gcs put gs://%s/%s: %w", b.name, key, err)
	}
	return nil
}

// alreadyStored reports whether a write failed only because an object
// already held its key: Cloud Storage's 412 for DoesNotExist.
func alreadyStored(err error) bool {
	var e *googleapi.Error
	return errors.As(err, &e) && e.Code == http.StatusPreconditionFailed
}

// Fetcher is a core.ObjectFetcher for gs:// URLs, for consumers resolving
// claim checks.
type Fetcher struct {
	Client *storage.Client
}

var _ core.ObjectFetcher = Fetcher{}

// ErrNotGCSURL is returned by Fetcher for a URL that is not gs://bucket/key.
var ErrNotGCSURL = errors.New("not a gs://bucket/key URL")

// Fetch reads the object url names (gs://bucket/key) whole.
func (f Fetcher) Fetch(ctx context.Context, url string) ([]byte, error) {
	bucket, key, ok := strings.Cut(strings.TrimPrefix(url, "gs://"), "/")
	if !strings.HasPrefix(url, "gs://") || !ok || bucket == "" || key == "" {
		return nil, fmt.Errorf("%w: %q", ErrNotGCSURL, url)
	}
	r, err := f.Client.Bucket(bucket).Object(key).NewReader(ctx)
	if err != nil {
		return nil, fmt.Errorf("gcs get %s: %w", url, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("gcs get %s: %w", url, err)
	}
	return b, nil
}

// ResolveMessage returns the verified webhook body a Pub/Sub message
// carries: its Data, or, for a claim-checked message, the object its
// pointer names, fetched through f (a [Fetcher]) and checked against the
// size and SHA-256 the pointer promised (core.ErrClaimCheckMismatch if
// not). lambda.ResolveMessage takes the same arguments for an SQS message.
func ResolveMessage(ctx context.Context, f core.ObjectFetcher, m *pubsub.Message) ([]byte, error) {
	return core.Resolve(ctx, m.Data, m.Attributes, f)
}

var _ core.SpillSource = (*Bucket)(nil)

// List returns the names of the objects under prefix, in name order (so
// by day): what the receiver spilled there, for core.Replay.
func (b *Bucket) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	it := b.h.Objects(ctx, &storage.Query{Prefix: prefix})
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return keys, nil
		}
		if err != nil {
			return nil, fmt.Errorf("gcs list gs://%s/%s: %w", b.name, prefix, err)
		}
		keys = append(keys, a.Name)
	}
}

// Get returns an object's body and custom metadata (the message
// attributes). Cloud Storage's JSON API keeps metadata names as written,
// underscores included, so no renaming is needed (unlike S3's headers).
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, map[string]string, error) {
	o := b.h.Object(key)
	attrs, err := o.Attrs(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("gcs get gs://%s/%s: %w", b.name, key, err)
	}
	// Read the generation whose metadata we hold, not a newer one.
	r, err := o.Generation(attrs.Generation).NewReader(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("gcs get gs://%s/%s: %w", b.name, key, err)
	}
	defer r.Close()
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("gcs get gs://%s/%s: %w", b.name, key, err)
	}
	return body, attrs.Metadata, nil
}

// Delete removes the object.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := b.h.Object(key).Delete(ctx); err != nil {
		return fmt.Errorf("gcs delete gs://%s/%s: %w", b.name, key, err)
	}
	return nil
}
