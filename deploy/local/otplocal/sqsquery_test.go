package otplocal

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	awsv1 "github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/awserr"
	credentialsv1 "github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
	sqsv1 "github.com/aws/aws-sdk-go/service/sqs"
)

// TestSQSQueryProtocolRoute drives otp-local's one port with aws-sdk-go
// v1.47.5, whose SQS client speaks only the Query protocol, and checks that
// the dispatcher still sends everything else where it went before.
func TestSQSQueryProtocolRoute(t *testing.T) {
	sys, _ := start(t, Options{})
	ctx := t.Context()
	sess, err := session.NewSessionWithOptions(session.Options{
		SharedConfigState: session.SharedConfigDisable,
		Config: awsv1.Config{
			Region:      awsv1.String("us-east-1"),
			Endpoint:    awsv1.String(sys.URL),
			Credentials: credentialsv1.NewStaticCredentials("otp-local", "otp-local", ""),
			MaxRetries:  awsv1.Int(0),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	client := sqsv1.New(sess)

	send, err := client.GetQueueUrlWithContext(ctx, &sqsv1.GetQueueUrlInput{QueueName: awsv1.String(SendQueue)})
	if err != nil {
		t.Fatalf("GetQueueUrl %s over Query: %v", SendQueue, err)
	}
	if want := sys.URL + "/000000000000/" + SendQueue; awsv1.StringValue(send.QueueUrl) != want {
		t.Errorf("QueueUrl = %q, want %q", awsv1.StringValue(send.QueueUrl), want)
	}

	// A queue of its own: the event source mapping consumes otp-send.
	created, err := client.CreateQueueWithContext(ctx, &sqsv1.CreateQueueInput{QueueName: awsv1.String("query-route")})
	if err != nil {
		t.Fatal(err)
	}
	q := created.QueueUrl
	if _, err := client.SendMessageWithContext(ctx, &sqsv1.SendMessageInput{
		QueueUrl: q, MessageBody: awsv1.String("hello over Query"),
		MessageAttributes: map[string]*sqsv1.MessageAttributeValue{"k": {DataType: awsv1.String("String"), StringValue: awsv1.String("v")}},
	}); err != nil {
		t.Fatal(err)
	}
	got, err := client.ReceiveMessageWithContext(ctx, &sqsv1.ReceiveMessageInput{QueueUrl: q, MessageAttributeNames: awsv1.StringSlice([]string{"All"})})
	if err != nil || len(got.Messages) != 1 || awsv1.StringValue(got.Messages[0].Body) != "hello over Query" ||
		awsv1.StringValue(got.Messages[0].MessageAttributes["k"].StringValue) != "v" {
		t.Fatalf("ReceiveMessage = %v, %v", got, err)
	}
	if _, err := client.DeleteMessageWithContext(ctx, &sqsv1.DeleteMessageInput{QueueUrl: q, ReceiptHandle: got.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	_, err = client.GetQueueUrlWithContext(ctx, &sqsv1.GetQueueUrlInput{QueueName: awsv1.String("nope")})
	var rf awserr.RequestFailure
	if !errors.As(err, &rf) || rf.Code() != "AWS.SimpleQueueService.NonExistentQueue" || rf.StatusCode() != http.StatusBadRequest {
		t.Errorf("GetQueueUrl of a missing queue: %v", err)
	}

	// The ops page's HTML forms are form POSTs too, on their own paths.
	resp, err := http.PostForm(sys.URL+"/ops/faults", url.Values{"fail": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/xml") {
		t.Errorf("POST /ops/faults answered by SQS (Content-Type %s, status %d)", ct, resp.StatusCode)
	}
	// The sign-in page is still at /.
	resp, err = http.Get(sys.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/html") {
		t.Errorf("GET / = %d %s, want the sign-in page", resp.StatusCode, ct)
	}
}
