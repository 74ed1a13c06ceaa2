package sqslocal_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/sqslocal"
)

// env is one sqslocal server on 127.0.0.1 and a real aws-sdk-go-v2 SQS
// client pointed at it.
type env struct {
	t      *testing.T
	srv    *sqslocal.Server
	clock  *sqslocal.FakeClock // nil when the test runs on the real clock
	client *sqs.Client
	url    string
}

var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, fake bool) *env {
	t.Helper()
	e := &env{t: t}
	opts := sqslocal.Options{Region: "eu-central-1", AccountID: "123456789012"}
	if fake {
		e.clock = sqslocal.NewFakeClock(epoch)
		opts.Clock = e.clock
	}
	e.srv = sqslocal.New(opts)
	hs := httptest.NewServer(e.srv) // listens on 127.0.0.1:0
	e.url = hs.URL
	e.srv.SetBaseURL(hs.URL)
	t.Cleanup(func() {
		e.srv.Close() // end long polls first, or hs.Close waits for them
		hs.Close()
	})
	e.client = sqs.New(sqs.Options{
		Region:           "eu-central-1",
		BaseEndpoint:     aws.String(hs.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDSQSLOCALTEST", "secret", ""),
		RetryMaxAttempts: 1, // errors under test must not be retried
	})
	return e
}

func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	e.t.Cleanup(cancel)
	return ctx
}

// createQueue creates a queue through the SDK and returns its URL.
func (e *env) createQueue(name string, attrs map[string]string) string {
	e.t.Helper()
	out, err := e.client.CreateQueue(e.ctx(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		e.t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

func (e *env) arn(name string) string { return e.srv.QueueARN(name) }

func (e *env) send(queueURL, body string) *sqs.SendMessageOutput {
	e.t.Helper()
	out, err := e.client.SendMessage(e.ctx(), &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)})
	if err != nil {
		e.t.Fatalf("SendMessage: %v", err)
	}
	return out
}

// receive does a short-poll receive of up to max messages with all
// attributes.
func (e *env) receive(queueURL string, max int32) []types.Message {
	e.t.Helper()
	out, err := e.client.ReceiveMessage(e.ctx(), &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(queueURL),
		MaxNumberOfMessages:         max,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		e.t.Fatalf("ReceiveMessage: %v", err)
	}
	return out.Messages
}

func (e *env) advance(d time.Duration) {
	e.t.Helper()
	if e.clock == nil {
		e.t.Fatal("advance needs a fake clock")
	}
	e.clock.Advance(d)
}

// attr reads one queue attribute.
func (e *env) attr(queueURL, name string) string {
	e.t.Helper()
	out, err := e.client.GetQueueAttributes(e.ctx(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(queueURL), AttributeNames: []types.QueueAttributeName{types.QueueAttributeName(name)},
	})
	if err != nil {
		e.t.Fatalf("GetQueueAttributes %s: %v", name, err)
	}
	return out.Attributes[name]
}

func (e *env) attrInt(queueURL, name string) int {
	e.t.Helper()
	n, err := strconv.Atoi(e.attr(queueURL, name))
	if err != nil {
		e.t.Fatalf("attribute %s: %v", name, err)
	}
	return n
}

func (e *env) pollers(queue string) int {
	for _, st := range e.srv.Stats() {
		if st.Name == queue {
			return st.Pollers
		}
	}
	return -1
}

// waitFor polls cond (state inside the server, not timing) for up to 5s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// wantAPIError checks that err is an API error with the legacy code and,
// when typed is non-nil, that errors.As finds the SDK's typed error.
func wantAPIError(t *testing.T, err error, code string, typed any) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %T (%v), want a smithy.APIError", err, err)
	}
	if apiErr.ErrorCode() != code {
		t.Errorf("ErrorCode() = %q, want %q (error: %v)", apiErr.ErrorCode(), code, err)
	}
	if apiErr.ErrorFault() != smithy.FaultClient {
		t.Errorf("ErrorFault() = %v, want client fault", apiErr.ErrorFault())
	}
	if typed != nil && !errors.As(err, typed) {
		t.Errorf("errors.As(%T) failed for %T: %v", typed, err, err)
	}
}
