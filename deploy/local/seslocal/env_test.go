package seslocal_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
)

// sesEnv is a seslocal server mounted the way otp-local mounts it (SES API
// under /v2/email/, outbox under /outbox) on 127.0.0.1, and a real
// aws-sdk-go-v2 SES v2 client.
type sesEnv struct {
	t      *testing.T
	srv    *seslocal.Server
	url    string
	client *sesv2.Client
}

func newSES(t *testing.T, opts seslocal.Options, clientOpts ...func(*sesv2.Options)) *sesEnv {
	t.Helper()
	srv, err := seslocal.New(opts)
	if err != nil {
		t.Fatalf("seslocal.New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle(seslocal.PathPrefix, srv)
	outbox := srv.OutboxHandler("/outbox")
	mux.Handle("/outbox", outbox)
	mux.Handle("/outbox/", outbox)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return &sesEnv{t: t, srv: srv, url: hs.URL, client: newClient(hs.URL, clientOpts...)}
}

// newClient returns an SES v2 client for the endpoint, without retries
// unless an option adds them.
func newClient(endpoint string, opts ...func(*sesv2.Options)) *sesv2.Client {
	o := sesv2.Options{
		Region:           "eu-west-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDSESLOCALTEST", "secret", ""),
		RetryMaxAttempts: 1,
	}
	for _, fn := range opts {
		fn(&o)
	}
	return sesv2.New(o)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// simple is a valid Simple SendEmail request to "to".
func simple(to, subject string) *sesv2.SendEmailInput {
	return &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("Acme Sign-in <no-reply@acme.test>"),
		Destination:      &types.Destination{ToAddresses: []string{to}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(subject), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Html: &types.Content{Data: aws.String("<p>Your code is <b>123456</b></p>")},
				Text: &types.Content{Data: aws.String("Your code is 123456")},
			},
		}},
		EmailTags: []types.MessageTag{{Name: aws.String("tenant"), Value: aws.String("acme")}},
	}
}

func (e *sesEnv) send(in *sesv2.SendEmailInput) string {
	e.t.Helper()
	out, err := e.client.SendEmail(ctx(e.t), in)
	if err != nil {
		e.t.Fatalf("SendEmail: %v", err)
	}
	return aws.ToString(out.MessageId)
}
