package lambda

import (
	"bytes"
	"context"
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
// message attributes go with each object as user metadata (x-amz-meta-*).
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
		Metadata:      meta,
	})
	if err != nil {
		return fmt.Errorf("s3 PutObject s3://%s/%s: %w", s.bucket, key, err)
	}
	return nil
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
func NewS3Fetcher(client S3GetObjectAPI) *S3Fetcher { return &S3Fetcher{client: client} }

// Fetch returns the object at url, which must be s3://bucket/key.
func (f *S3Fetcher) Fetch(ctx context.Context, url string) ([]byte, error) {
	bucket, key, err := parseS3URL(url)
	if err != nil {
		return nil, err
	}
	out, err := f.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("s3 GetObject %s: %w", url, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("s3 GetObject %s: reading: %w", url, err)
	}
	return b, nil
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
