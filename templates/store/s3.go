package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// GetObjectAPI is the one S3 call the mailer makes: its IAM policy grants
// s3:GetObject on the store's prefix and nothing else that writes.
type GetObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// AdminAPI is what publishing, listing and rolling back need.
type AdminAPI interface {
	GetObjectAPI
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// NewClient is the S3 client for the store. With an endpoint of its own
// (otp-local, AWS_ENDPOINT_URL) it addresses buckets by path, as a local
// endpoint on 127.0.0.1 has no bucket subdomains; on AWS it uses
// virtual-hosted addressing, as AWS recommends.
func NewClient(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = cfg.BaseEndpoint != nil
	})
}

// status is the HTTP status of a failed S3 call; 0 if it never got one.
func status(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// notModified: a conditional GET whose If-None-Match matched (304).
func notModified(err error) bool { return status(err) == http.StatusNotModified }

// notFound: no such key (404). Without s3:ListBucket S3 answers 403 for a
// missing key instead, which is not taken for an empty store: the SAM
// template grants the mailer ListBucket on the store's bucket for that.
func notFound(err error) bool { return status(err) == http.StatusNotFound }

// conflict: a conditional PUT lost (412: the precondition failed; 409:
// another conditional write to the key was in progress). Both mean read
// again and retry.
func conflict(err error) bool {
	s := status(err)
	return s == http.StatusPreconditionFailed || s == http.StatusConflict
}

// readAll reads an object's body, refusing one over max bytes.
func readAll(body io.ReadCloser, max int64, key string) ([]byte, error) {
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, max+1))
	if err != nil {
		return nil, fmt.Errorf("read s3 object %s: %w", key, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("s3 object %s is over %d bytes", key, max)
	}
	return data, nil
}
