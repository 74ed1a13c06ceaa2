package s3local_test

import (
	"bytes"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/s3local"
)

func client(t *testing.T, srv *s3local.Server) *s3.Client {
	t.Helper()
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return s3.NewFromConfig(awslocal.Config(hs.URL), func(o *s3.Options) { o.UsePathStyle = true })
}

// TestDataDirKeepsObjects: with a data dir the store survives a restart,
// and its bucket is not versioned (s3bolt); in memory it is.
func TestDataDirKeepsObjects(t *testing.T) {
	dir := t.TempDir()
	srv, err := s3local.New(s3local.Options{DataDir: dir, Buckets: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Versioned {
		t.Error("s3bolt claims versions")
	}
	if _, err := client(t, srv).PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: bytes.NewReader([]byte("kept"))}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := s3local.New(s3local.Options{DataDir: dir, Buckets: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	out, err := client(t, again).GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	if b, _ := io.ReadAll(out.Body); string(b) != "kept" {
		t.Errorf("after a restart: %q", b)
	}
	mem, err := s3local.New(s3local.Options{Buckets: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := client(t, mem).GetBucketVersioning(t.Context(), &s3.GetBucketVersioningInput{Bucket: aws.String("b")})
	if err != nil || v.Status != "Enabled" {
		t.Errorf("in memory the bucket is not versioned: %v %v", v, err)
	}
}

func TestUnsignedAndBrowserRequestsAreRefused(t *testing.T) {
	srv, err := s3local.New(s3local.Options{Buckets: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	signed := "AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
	for _, tc := range []struct {
		name, path, auth, origin string
		claimed                  bool
		status                   int
	}{
		{"unsigned, to a bucket", "/b/k", "", "", true, 403},
		{"unsigned, to a page", "/outbox", "", "", false, 0},
		{"signed for SQS", "/", "AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0", "", false, 0},
		{"signed, from a page", "/b/k", signed, "https://evil.example", true, 403},
		{"signed", "/b/k", signed, "", true, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.path, nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if got := srv.IsRequest(r); got != tc.claimed {
				t.Fatalf("IsRequest = %v", got)
			}
			if !tc.claimed {
				return
			}
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			if w.Code != tc.status || w.Header().Get("Access-Control-Allow-Origin") != "" && tc.origin != "" {
				t.Errorf("%d %s (CORS %q)", w.Code, w.Body, w.Header().Get("Access-Control-Allow-Origin"))
			}
		})
	}
}
