package lambda

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/elevenrelay/elevenrelay/core"
)

// S3PutObjectAPI is the part of the S3 client that S3Store uses.
type S3PutObjectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// S3Store writes objects to one bucket: claim-checked bodies under
// elevenlabs/ and, when the queue is down, spilled bodies under spill/. The
// message attributes go with each object as user metadata, named with "-"
// for "_" (x-amz-meta-content-sha256): see s3Metadata.
type S3Store struct {
	client S3PutObjectAPI
	bucket string
}

var _ core.ObjectStore = (*S3Store)(nil)

// NewS3Store returns a store writing to bucket.
func NewS3Store(client S3PutObjectAPI, bucket string) *S3Store {
	return &S3Store{client: client, bucket: bucket}
}

// URLPrefix is how claim-check pointers name the bucket: "s3://bucket/".
func (s *S3Store) URLPrefix() string { return "s3://" + s.bucket + "/" }

// Put stores body under key and returns once S3 has it.
func (s *S3Store) Put(ctx context.Context, key string, body []byte, meta map[string]string) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String("application/json"),
		Metadata:      s3Metadata(meta),
	})
	if err != nil {
		return fmt.Errorf("s3 PutObject s3://%s/%s: %w", s.bucket, key, err)
	}
	return nil
}

// s3Metadata names the message attributes as S3 user metadata: "_" becomes
// "-" (x-amz-meta-content-sha256). S3 keeps underscores in header names,
// but HTTP servers in front of S3-compatible stores (nginx by default,
// moto's werkzeug) drop such headers without a word, and the spilled
// object would lose the attributes that replay needs. metadataAttributes reads
// them back.
func s3Metadata(attrs map[string]string) map[string]string {
	m := make(map[string]string, len(attrs))
	for k, v := range attrs {
		m[strings.ReplaceAll(k, "_", "-")] = v
	}
	return m
}

// metadataAttributes is the inverse of s3Metadata: the message attributes of an
// object's user metadata (as GetObject or HeadObject return it, names
// lower-cased). Attribute names have no "-", so every "-" was a "_".
func metadataAttributes(meta map[string]string) map[string]string {
	a := make(map[string]string, len(meta))
	for k, v := range meta {
		a[strings.ReplaceAll(strings.ToLower(k), "-", "_")] = v
	}
	return a
}

// S3GetObjectAPI is the part of the S3 client that S3Fetcher uses.
type S3GetObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3Fetcher reads claim-checked bodies back for consumers.
type S3Fetcher struct {
	client S3GetObjectAPI
}

var _ core.ObjectFetcher = (*S3Fetcher)(nil)

// NewS3Fetcher returns a fetcher reading through client (an *s3.Client).
func NewS3Fetcher(client S3GetObjectAPI) *S3Fetcher {
	if c, ok := client.(*s3.Client); ok && c == nil {
		client = nil // a nil *s3.Client in the interface is still no client
	}
	return &S3Fetcher{client: client}
}

// errNoS3Client is a fetch through a fetcher made without a client: a
// consumer that met a claim check with no claim-check bucket configured.
var errNoS3Client = errors.New("no S3 client given to fetch the claim check with")

// Fetch returns the object at url, which must be s3://bucket/key.
func (f *S3Fetcher) Fetch(ctx context.Context, url string) ([]byte, error) {
	if f == nil || f.client == nil {
		return nil, errNoS3Client // core.Resolve names the URL
	}
	bucket, key, err := parseS3URL(url)
	if err != nil {
		return nil, err
	}
	out, err := f.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("s3 GetObject %s: %w", url, err)
	}
	defer out.Body.Close()
	b, err := readSized(out.Body, aws.ToInt64(out.ContentLength))
	if err != nil {
		return nil, fmt.Errorf("s3 GetObject %s: reading: %w", url, err)
	}
	return b, nil
}

// readSized reads r into a buffer of the size S3 announced, so that a
// claim-checked body (tens of MiB) is held once rather than grown by
// doubling, which would briefly hold it twice.
func readSized(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 || size > 1<<30 {
		return io.ReadAll(r)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// parseS3URL splits s3://bucket/key.
func parseS3URL(url string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(url, "s3://")
	if ok {
		bucket, key, ok = strings.Cut(rest, "/")
	}
	if !ok || bucket == "" || key == "" {
		return "", "", fmt.Errorf("%w: %q is not an s3://bucket/key URL", core.ErrClaimCheckMismatch, url)
	}
	return bucket, key, nil
}

// S3SpillAPI is the part of the S3 client that S3SpillSource uses.
type S3SpillAPI interface {
	s3.ListObjectsV2APIClient
	S3GetObjectAPI
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// S3SpillSource reads back what the receiver spilled to the bucket while
// the queue was down, for core.Replay.
type S3SpillSource struct {
	client S3SpillAPI
	bucket string
}

var _ core.SpillSource = (*S3SpillSource)(nil)

// NewS3SpillSource returns the spill source on bucket, reached through
// client (an *s3.Client).
func NewS3SpillSource(client S3SpillAPI, bucket string) *S3SpillSource {
	return &S3SpillSource{client: client, bucket: bucket}
}

// List returns every key under prefix, in S3's order (by key, so by day).
func (s *S3SpillSource) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3 ListObjectsV2 s3://%s/%s: %w", s.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

// Get returns the object's body and its message attributes.
func (s *S3SpillSource) Get(ctx context.Context, key string) ([]byte, map[string]string, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, nil, fmt.Errorf("s3 GetObject s3://%s/%s: %w", s.bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("s3 GetObject s3://%s/%s: reading: %w", s.bucket, key, err)
	}
	return b, metadataAttributes(out.Metadata), nil
}

// Delete removes the object.
func (s *S3SpillSource) Delete(ctx context.Context, key string) error {
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("s3 DeleteObject s3://%s/%s: %w", s.bucket, key, err)
	}
	return nil
}
