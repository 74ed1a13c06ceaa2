package sqslocal_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	awsv1 "github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/awserr"
	credentialsv1 "github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
	sqsv1 "github.com/aws/aws-sdk-go/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/sqslocal"
)

// aws-sdk-go v1.47.5 is the last v1 release whose SQS client speaks the
// Query protocol (v1.47.6 moved it to JSON), so it stands for every
// Query-only client: it form-encodes requests exactly as botocore does and
// decodes the XML with the model's flattened names.

// queryEnv is one sqslocal server on 127.0.0.1 with a Query-protocol
// client (aws-sdk-go v1) and a JSON-protocol one (aws-sdk-go-v2) on it.
type queryEnv struct {
	t   *testing.T
	srv *sqslocal.Server
	url string
	v1  *sqsv1.SQS
	v2  *sqs.Client

	mu       sync.Mutex
	v1Protos map[string]bool // "<Content-Type> target=<X-Amz-Target>" of each v1 request
}

const queryAccessKey = "AKIDQUERYTEST"

func newQueryEnv(t *testing.T) *queryEnv {
	t.Helper()
	e := &queryEnv{t: t, v1Protos: map[string]bool{}}
	e.srv = sqslocal.New(sqslocal.Options{Region: "eu-central-1", AccountID: "123456789012"})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.UserAgent(), "aws-sdk-go/") {
			e.mu.Lock()
			e.v1Protos[r.Header.Get("Content-Type")+" target="+r.Header.Get("X-Amz-Target")] = true
			e.mu.Unlock()
		}
		e.srv.ServeHTTP(w, r)
	}))
	e.url = hs.URL
	t.Cleanup(func() {
		e.srv.Close()
		hs.Close()
		// Every v1 request must have gone out in the Query protocol, or
		// this test proves nothing about it.
		e.mu.Lock()
		defer e.mu.Unlock()
		if len(e.v1Protos) != 1 || !e.v1Protos["application/x-www-form-urlencoded; charset=utf-8 target="] {
			t.Errorf("aws-sdk-go v1 requests were %v, want only form posts without X-Amz-Target", e.v1Protos)
		}
	})
	sess, err := session.NewSessionWithOptions(session.Options{
		SharedConfigState: session.SharedConfigDisable,
		Config: awsv1.Config{
			Region:      awsv1.String("eu-central-1"),
			Endpoint:    awsv1.String(hs.URL),
			Credentials: credentialsv1.NewStaticCredentials(queryAccessKey, "secret", ""),
			MaxRetries:  awsv1.Int(0), // errors under test must not be retried
		},
	})
	if err != nil {
		t.Fatalf("aws-sdk-go v1 session: %v", err)
	}
	e.v1 = sqsv1.New(sess)
	e.v2 = sqs.New(sqs.Options{
		Region:           "eu-central-1",
		BaseEndpoint:     aws.String(hs.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(queryAccessKey, "secret", ""),
		RetryMaxAttempts: 1,
	})
	return e
}

func (e *queryEnv) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	e.t.Cleanup(cancel)
	return ctx
}

func (e *queryEnv) createQueue(name string, attrs map[string]string) string {
	e.t.Helper()
	out, err := e.v1.CreateQueueWithContext(e.ctx(), &sqsv1.CreateQueueInput{QueueName: awsv1.String(name), Attributes: awsv1.StringMap(attrs)})
	if err != nil {
		e.t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return awsv1.StringValue(out.QueueUrl)
}

func (e *queryEnv) receiveAll(queueURL string, max int64) []*sqsv1.Message {
	e.t.Helper()
	out, err := e.v1.ReceiveMessageWithContext(e.ctx(), &sqsv1.ReceiveMessageInput{
		QueueUrl:              awsv1.String(queueURL),
		MaxNumberOfMessages:   awsv1.Int64(max),
		AttributeNames:        awsv1.StringSlice([]string{"All"}),
		MessageAttributeNames: awsv1.StringSlice([]string{"All"}),
	})
	if err != nil {
		e.t.Fatalf("ReceiveMessage: %v", err)
	}
	return out.Messages
}

func (e *queryEnv) attrs(queueURL string, names ...string) map[string]string {
	e.t.Helper()
	out, err := e.v1.GetQueueAttributesWithContext(e.ctx(), &sqsv1.GetQueueAttributesInput{
		QueueUrl: awsv1.String(queueURL), AttributeNames: awsv1.StringSlice(names),
	})
	if err != nil {
		e.t.Fatalf("GetQueueAttributes %v: %v", names, err)
	}
	return awsv1.StringValueMap(out.Attributes)
}

// wantV1Error checks the code, status and request ID the v1 SDK decoded
// from an ErrorResponse.
func wantV1Error(t *testing.T, err error, code string, status int) {
	t.Helper()
	var rf awserr.RequestFailure
	if !errors.As(err, &rf) {
		t.Fatalf("got %T (%v), want an awserr.RequestFailure %s", err, err, code)
	}
	if rf.Code() != code || rf.StatusCode() != status {
		t.Errorf("error = %s (HTTP %d), want %s (HTTP %d); message %q", rf.Code(), rf.StatusCode(), code, status, rf.Message())
	}
	if rf.Message() == "" {
		t.Errorf("error %s has no message", rf.Code())
	}
	if len(rf.RequestID()) != 36 {
		t.Errorf("request ID %q, want a UUID from <RequestId>", rf.RequestID())
	}
}

// attributes is a message-attribute set of every data type, with values
// that need escaping in XML.
func attributes() map[string]*sqsv1.MessageAttributeValue {
	return map[string]*sqsv1.MessageAttributeValue{
		"kind":     {DataType: awsv1.String("String"), StringValue: awsv1.String("otp <send> & \"friends\"")},
		"attempt":  {DataType: awsv1.String("Number"), StringValue: awsv1.String("3")},
		"blob":     {DataType: awsv1.String("Binary"), BinaryValue: []byte{0, 1, 2, 0xfe, 0xff, '+', '/'}},
		"trace.id": {DataType: awsv1.String("String.uuid"), StringValue: awsv1.String("0f6b0d52-6f0e-4d2c-9d55-8c1d9c3a4a8e")},
	}
}

// v2Attributes is the same set for the JSON client.
func v2Attributes() map[string]types.MessageAttributeValue {
	out := map[string]types.MessageAttributeValue{}
	for n, a := range attributes() {
		out[n] = types.MessageAttributeValue{DataType: a.DataType, StringValue: a.StringValue, BinaryValue: a.BinaryValue}
	}
	return out
}

// xmlHostileBody has every character class that XML treats specially: markup,
// CR (which an XML parser turns into LF unless it is escaped), tab,
// non-ASCII and a character outside the BMP.
const xmlHostileBody = "code 123456 <b>&amp;</b> ]]> \r\n\ttabbed ünïcödé 😀 end\r"

func TestQuerySDKv1Queues(t *testing.T) {
	e := newQueryEnv(t)
	ctx := e.ctx()

	t.Run("CreateQueue and GetQueueUrl", func(t *testing.T) {
		out, err := e.v1.CreateQueueWithContext(ctx, &sqsv1.CreateQueueInput{
			QueueName:  awsv1.String("orders"),
			Attributes: awsv1.StringMap(map[string]string{"VisibilityTimeout": "40", "DelaySeconds": "0"}),
			Tags:       awsv1.StringMap(map[string]string{"team": "otp", "env": "local"}),
		})
		if err != nil {
			t.Fatal(err)
		}
		want := e.url + "/123456789012/orders"
		if got := awsv1.StringValue(out.QueueUrl); got != want {
			t.Errorf("CreateQueue QueueUrl = %q, want %q", got, want)
		}
		// Same attributes again: CreateQueue is idempotent.
		again, err := e.v1.CreateQueueWithContext(ctx, &sqsv1.CreateQueueInput{
			QueueName: awsv1.String("orders"), Attributes: awsv1.StringMap(map[string]string{"VisibilityTimeout": "40"}),
		})
		if err != nil || awsv1.StringValue(again.QueueUrl) != want {
			t.Errorf("CreateQueue again = %v, %v", again, err)
		}
		got, err := e.v1.GetQueueUrlWithContext(ctx, &sqsv1.GetQueueUrlInput{QueueName: awsv1.String("orders")})
		if err != nil || awsv1.StringValue(got.QueueUrl) != want {
			t.Errorf("GetQueueUrl = %v, %v; want %s", got, err, want)
		}
		tags, err := e.v1.ListQueueTagsWithContext(ctx, &sqsv1.ListQueueTagsInput{QueueUrl: awsv1.String(want)})
		if err != nil {
			t.Fatal(err)
		}
		if m := awsv1.StringValueMap(tags.Tags); len(m) != 2 || m["team"] != "otp" || m["env"] != "local" {
			t.Errorf("ListQueueTags = %v", m)
		}
	})

	url := e.url + "/123456789012/orders"

	t.Run("GetQueueAttributes and SetQueueAttributes", func(t *testing.T) {
		dlq := e.createQueue("orders-dlq", nil)
		dlqARN := e.attrs(dlq, "QueueArn")["QueueArn"]
		if dlqARN != "arn:aws:sqs:eu-central-1:123456789012:orders-dlq" {
			t.Fatalf("QueueArn = %q", dlqARN)
		}
		policy := `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":"4"}`
		_, err := e.v1.SetQueueAttributesWithContext(ctx, &sqsv1.SetQueueAttributesInput{
			QueueUrl:   awsv1.String(url),
			Attributes: awsv1.StringMap(map[string]string{"VisibilityTimeout": "45", "RedrivePolicy": policy}),
		})
		if err != nil {
			t.Fatal(err)
		}
		all := e.attrs(url, "All")
		want := map[string]string{
			"VisibilityTimeout":           "45",
			"DelaySeconds":                "0",
			"ApproximateNumberOfMessages": "0",
			"QueueArn":                    "arn:aws:sqs:eu-central-1:123456789012:orders",
			"RedrivePolicy":               `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":4}`,
		}
		for n, v := range want {
			if all[n] != v {
				t.Errorf("attribute %s = %q, want %q", n, all[n], v)
			}
		}
		if len(all) < 12 {
			t.Errorf("All returned only %d attributes: %v", len(all), all)
		}
		sources, err := e.v1.ListDeadLetterSourceQueuesWithContext(ctx, &sqsv1.ListDeadLetterSourceQueuesInput{QueueUrl: awsv1.String(dlq)})
		if err != nil {
			t.Fatal(err)
		}
		if got := awsv1.StringValueSlice(sources.QueueUrls); len(got) != 1 || got[0] != url {
			t.Errorf("ListDeadLetterSourceQueues = %v, want [%s]", got, url)
		}
	})

	t.Run("TagQueue and UntagQueue", func(t *testing.T) {
		if _, err := e.v1.TagQueueWithContext(ctx, &sqsv1.TagQueueInput{
			QueueUrl: awsv1.String(url), Tags: awsv1.StringMap(map[string]string{"cost": "42", "env": "test"}),
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.v1.UntagQueueWithContext(ctx, &sqsv1.UntagQueueInput{
			QueueUrl: awsv1.String(url), TagKeys: awsv1.StringSlice([]string{"team"}),
		}); err != nil {
			t.Fatal(err)
		}
		tags, err := e.v1.ListQueueTagsWithContext(ctx, &sqsv1.ListQueueTagsInput{QueueUrl: awsv1.String(url)})
		if err != nil {
			t.Fatal(err)
		}
		if m := awsv1.StringValueMap(tags.Tags); len(m) != 2 || m["cost"] != "42" || m["env"] != "test" {
			t.Errorf("tags after TagQueue/UntagQueue = %v", m)
		}
	})

	t.Run("ListQueues", func(t *testing.T) {
		for _, n := range []string{"orders-a", "orders-b", "other"} {
			e.createQueue(n, nil)
		}
		all, err := e.v1.ListQueuesWithContext(ctx, &sqsv1.ListQueuesInput{})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(all.QueueUrls); got != 5 || all.NextToken != nil {
			t.Errorf("ListQueues = %d URLs, token %v; want 5 and none", got, all.NextToken)
		}
		var pages [][]string
		in := &sqsv1.ListQueuesInput{QueueNamePrefix: awsv1.String("orders"), MaxResults: awsv1.Int64(2)}
		err = e.v1.ListQueuesPagesWithContext(ctx, in, func(p *sqsv1.ListQueuesOutput, _ bool) bool {
			pages = append(pages, awsv1.StringValueSlice(p.QueueUrls))
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		q := func(n string) string { return e.url + "/123456789012/" + n }
		want := [][]string{{q("orders"), q("orders-a")}, {q("orders-b"), q("orders-dlq")}}
		if len(pages) != 2 || strings.Join(pages[0], " ") != strings.Join(want[0], " ") || strings.Join(pages[1], " ") != strings.Join(want[1], " ") {
			t.Errorf("ListQueues pages = %v, want %v", pages, want)
		}
	})

	t.Run("DeleteQueue", func(t *testing.T) {
		other := e.url + "/123456789012/other"
		if _, err := e.v1.DeleteQueueWithContext(ctx, &sqsv1.DeleteQueueInput{QueueUrl: awsv1.String(other)}); err != nil {
			t.Fatal(err)
		}
		_, err := e.v1.GetQueueUrlWithContext(ctx, &sqsv1.GetQueueUrlInput{QueueName: awsv1.String("other")})
		wantV1Error(t, err, "AWS.SimpleQueueService.NonExistentQueue", 400)
		_, err = e.v1.CreateQueueWithContext(ctx, &sqsv1.CreateQueueInput{QueueName: awsv1.String("other")})
		wantV1Error(t, err, "AWS.SimpleQueueService.QueueDeletedRecently", 400)
	})
}

func TestQuerySDKv1Messages(t *testing.T) {
	e := newQueryEnv(t)
	ctx := e.ctx()
	url := e.createQueue("mail", map[string]string{"VisibilityTimeout": "60"})

	var sent *sqsv1.SendMessageOutput
	t.Run("SendMessage with attributes", func(t *testing.T) {
		var err error
		// The v1 SDK fails the call itself if MD5OfMessageBody is wrong.
		sent, err = e.v1.SendMessageWithContext(ctx, &sqsv1.SendMessageInput{
			QueueUrl: awsv1.String(url), MessageBody: awsv1.String(xmlHostileBody), MessageAttributes: attributes(),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(awsv1.StringValue(sent.MessageId)) != 36 {
			t.Errorf("MessageId = %q", awsv1.StringValue(sent.MessageId))
		}
		// The v1 SDK does not check MD5OfMessageAttributes; the v2 SDK
		// does, over JSON, so the digest it accepts for the same
		// attributes is the one to match.
		ref, err := e.v2.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("reference"), MessageAttributes: v2Attributes()})
		if err != nil {
			t.Fatalf("v2 SendMessage, which checks MD5OfMessageAttributes: %v", err)
		}
		if got, want := awsv1.StringValue(sent.MD5OfMessageAttributes), aws.ToString(ref.MD5OfMessageAttributes); got == "" || got != want {
			t.Errorf("MD5OfMessageAttributes over Query = %q, over JSON = %q", got, want)
		}
	})

	t.Run("ReceiveMessage", func(t *testing.T) {
		msgs := e.receiveAll(url, 10)
		if len(msgs) != 2 {
			t.Fatalf("received %d messages, want 2", len(msgs))
		}
		m := msgs[0]
		if awsv1.StringValue(m.MessageId) != awsv1.StringValue(sent.MessageId) {
			m = msgs[1]
		}
		if got := awsv1.StringValue(m.Body); got != xmlHostileBody {
			t.Errorf("Body = %q, want %q", got, xmlHostileBody)
		}
		if got := awsv1.StringValue(m.MD5OfMessageAttributes); got != awsv1.StringValue(sent.MD5OfMessageAttributes) {
			t.Errorf("received MD5OfMessageAttributes %q, sent %q", got, awsv1.StringValue(sent.MD5OfMessageAttributes))
		}
		for name, want := range attributes() {
			got := m.MessageAttributes[name]
			if got == nil || awsv1.StringValue(got.DataType) != *want.DataType || awsv1.StringValue(got.StringValue) != awsv1.StringValue(want.StringValue) || !bytes.Equal(got.BinaryValue, want.BinaryValue) {
				t.Errorf("message attribute %s = %v, want %v", name, got, want)
			}
		}
		sys := awsv1.StringValueMap(m.Attributes)
		if sys["SenderId"] != queryAccessKey || sys["ApproximateReceiveCount"] != "1" || len(sys["SentTimestamp"]) != 13 || len(sys["ApproximateFirstReceiveTimestamp"]) != 13 {
			t.Errorf("system attributes = %v", sys)
		}
		// The one sent over JSON reads the same over Query.
		other := msgs[0]
		if other == m {
			other = msgs[1]
		}
		if awsv1.StringValue(other.Body) != "reference" || len(other.MessageAttributes) != 4 {
			t.Errorf("JSON-sent message over Query = %v", other)
		}

		// Only the names asked for, and the digest covers only those.
		if _, err := e.v1.ChangeMessageVisibilityWithContext(ctx, &sqsv1.ChangeMessageVisibilityInput{
			QueueUrl: awsv1.String(url), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: awsv1.Int64(0),
		}); err != nil {
			t.Fatalf("ChangeMessageVisibility: %v", err)
		}
		out, err := e.v1.ReceiveMessageWithContext(ctx, &sqsv1.ReceiveMessageInput{
			QueueUrl:              awsv1.String(url),
			AttributeNames:        awsv1.StringSlice([]string{"ApproximateReceiveCount"}),
			MessageAttributeNames: awsv1.StringSlice([]string{"kind", "trace.*"}),
		})
		if err != nil || len(out.Messages) != 1 {
			t.Fatalf("ReceiveMessage after ChangeMessageVisibility 0 = %v, %v", out, err)
		}
		again := out.Messages[0]
		if awsv1.StringValue(again.MessageId) != awsv1.StringValue(m.MessageId) {
			t.Fatalf("got message %s, want %s back", awsv1.StringValue(again.MessageId), awsv1.StringValue(m.MessageId))
		}
		if got := awsv1.StringValueMap(again.Attributes); len(got) != 1 || got["ApproximateReceiveCount"] != "2" {
			t.Errorf("attributes = %v, want ApproximateReceiveCount 2 only", got)
		}
		var names []string
		for n := range again.MessageAttributes {
			names = append(names, n)
		}
		sort.Strings(names)
		if strings.Join(names, ",") != "kind,trace.id" {
			t.Errorf("message attributes = %v, want kind and trace.id", names)
		}
		if awsv1.StringValue(again.MD5OfMessageAttributes) == awsv1.StringValue(sent.MD5OfMessageAttributes) {
			t.Error("MD5OfMessageAttributes of a subset equals that of the whole set")
		}

		if _, err := e.v1.DeleteMessageWithContext(ctx, &sqsv1.DeleteMessageInput{QueueUrl: awsv1.String(url), ReceiptHandle: again.ReceiptHandle}); err != nil {
			t.Fatalf("DeleteMessage: %v", err)
		}
		if _, err := e.v1.DeleteMessageWithContext(ctx, &sqsv1.DeleteMessageInput{QueueUrl: awsv1.String(url), ReceiptHandle: other.ReceiptHandle}); err != nil {
			t.Fatalf("DeleteMessage of the reference message: %v", err)
		}
		if n := e.attrs(url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"); n["ApproximateNumberOfMessages"] != "0" || n["ApproximateNumberOfMessagesNotVisible"] != "0" {
			t.Errorf("queue after deletes: %v", n)
		}
	})

	var handles map[string]string // message ID -> receipt handle
	t.Run("SendMessageBatch", func(t *testing.T) {
		out, err := e.v1.SendMessageBatchWithContext(ctx, &sqsv1.SendMessageBatchInput{
			QueueUrl: awsv1.String(url),
			Entries: []*sqsv1.SendMessageBatchRequestEntry{
				{Id: awsv1.String("a"), MessageBody: awsv1.String("first " + xmlHostileBody), MessageAttributes: attributes()},
				{Id: awsv1.String("b"), MessageBody: awsv1.String("second")},
				{Id: awsv1.String("bad"), MessageBody: awsv1.String("nul \x00 is not XML")},
				{Id: awsv1.String("c"), MessageBody: awsv1.String("third"), DelaySeconds: awsv1.Int64(0)},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		var ok []string
		for _, s := range out.Successful {
			ok = append(ok, awsv1.StringValue(s.Id))
			if awsv1.StringValue(s.Id) == "a" && awsv1.StringValue(s.MD5OfMessageAttributes) != awsv1.StringValue(sent.MD5OfMessageAttributes) {
				t.Errorf("entry a MD5OfMessageAttributes = %q, want %q", awsv1.StringValue(s.MD5OfMessageAttributes), awsv1.StringValue(sent.MD5OfMessageAttributes))
			}
		}
		sort.Strings(ok)
		if strings.Join(ok, ",") != "a,b,c" {
			t.Errorf("Successful = %v, want a, b, c", ok)
		}
		if len(out.Failed) != 1 {
			t.Fatalf("Failed = %v, want one entry", out.Failed)
		}
		f := out.Failed[0]
		if awsv1.StringValue(f.Id) != "bad" || awsv1.StringValue(f.Code) != "InvalidMessageContents" || !awsv1.BoolValue(f.SenderFault) || awsv1.StringValue(f.Message) == "" {
			t.Errorf("Failed[0] = %v", f)
		}
		msgs := e.receiveAll(url, 10)
		if len(msgs) != 3 {
			t.Fatalf("received %d, want 3", len(msgs))
		}
		handles = map[string]string{}
		for _, m := range msgs {
			handles[awsv1.StringValue(m.Body)] = awsv1.StringValue(m.ReceiptHandle)
		}
		if _, ok := handles["first "+xmlHostileBody]; !ok {
			t.Errorf("bodies = %v", handles)
		}
	})

	t.Run("ChangeMessageVisibilityBatch", func(t *testing.T) {
		out, err := e.v1.ChangeMessageVisibilityBatchWithContext(ctx, &sqsv1.ChangeMessageVisibilityBatchInput{
			QueueUrl: awsv1.String(url),
			Entries: []*sqsv1.ChangeMessageVisibilityBatchRequestEntry{
				{Id: awsv1.String("second"), ReceiptHandle: awsv1.String(handles["second"]), VisibilityTimeout: awsv1.Int64(120)},
				{Id: awsv1.String("bogus"), ReceiptHandle: awsv1.String("not-a-handle"), VisibilityTimeout: awsv1.Int64(120)},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Successful) != 1 || awsv1.StringValue(out.Successful[0].Id) != "second" {
			t.Errorf("Successful = %v", out.Successful)
		}
		if len(out.Failed) != 1 || awsv1.StringValue(out.Failed[0].Code) != "ReceiptHandleIsInvalid" {
			t.Errorf("Failed = %v", out.Failed)
		}
	})

	t.Run("DeleteMessageBatch", func(t *testing.T) {
		out, err := e.v1.DeleteMessageBatchWithContext(ctx, &sqsv1.DeleteMessageBatchInput{
			QueueUrl: awsv1.String(url),
			Entries: []*sqsv1.DeleteMessageBatchRequestEntry{
				{Id: awsv1.String("one"), ReceiptHandle: awsv1.String(handles["first "+xmlHostileBody])},
				{Id: awsv1.String("two"), ReceiptHandle: awsv1.String(handles["second"])},
				{Id: awsv1.String("three"), ReceiptHandle: awsv1.String(handles["third"])},
				{Id: awsv1.String("junk"), ReceiptHandle: awsv1.String("junk")},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		var ok []string
		for _, s := range out.Successful {
			ok = append(ok, awsv1.StringValue(s.Id))
		}
		sort.Strings(ok)
		if strings.Join(ok, ",") != "one,three,two" {
			t.Errorf("Successful = %v", ok)
		}
		if len(out.Failed) != 1 || awsv1.StringValue(out.Failed[0].Id) != "junk" || awsv1.StringValue(out.Failed[0].Code) != "ReceiptHandleIsInvalid" {
			t.Errorf("Failed = %v", out.Failed)
		}
		n := e.attrs(url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
		if n["ApproximateNumberOfMessages"] != "0" || n["ApproximateNumberOfMessagesNotVisible"] != "0" {
			t.Errorf("queue after DeleteMessageBatch: %v", n)
		}
	})

	t.Run("long poll", func(t *testing.T) {
		start := time.Now()
		out, err := e.v1.ReceiveMessageWithContext(ctx, &sqsv1.ReceiveMessageInput{QueueUrl: awsv1.String(url), WaitTimeSeconds: awsv1.Int64(1)})
		if err != nil || len(out.Messages) != 0 {
			t.Fatalf("empty long poll = %v, %v", out, err)
		}
		if d := time.Since(start); d < time.Second {
			t.Errorf("a 1 s long poll on an empty queue returned after %v", d)
		}
		// A message sent during a long poll ends it at once.
		got := make(chan *sqsv1.ReceiveMessageOutput, 1)
		go func() {
			out, err := e.v1.ReceiveMessageWithContext(ctx, &sqsv1.ReceiveMessageInput{QueueUrl: awsv1.String(url), WaitTimeSeconds: awsv1.Int64(20)})
			if err != nil {
				t.Errorf("long poll: %v", err)
			}
			got <- out
		}()
		waitFor(t, "the long poll to wait", func() bool { return statsOf(e.srv, "mail").Pollers == 1 })
		if _, err := e.v1.SendMessageWithContext(ctx, &sqsv1.SendMessageInput{QueueUrl: awsv1.String(url), MessageBody: awsv1.String("wake up")}); err != nil {
			t.Fatal(err)
		}
		select {
		case out := <-got:
			if out == nil || len(out.Messages) != 1 || awsv1.StringValue(out.Messages[0].Body) != "wake up" {
				t.Errorf("long poll got %v", out)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the long poll did not return after a send")
		}
	})

	t.Run("PurgeQueue", func(t *testing.T) {
		for range 3 {
			if _, err := e.v1.SendMessageWithContext(ctx, &sqsv1.SendMessageInput{QueueUrl: awsv1.String(url), MessageBody: awsv1.String("x")}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.v1.PurgeQueueWithContext(ctx, &sqsv1.PurgeQueueInput{QueueUrl: awsv1.String(url)}); err != nil {
			t.Fatal(err)
		}
		if n := e.attrs(url, "All")["ApproximateNumberOfMessages"]; n != "0" {
			t.Errorf("ApproximateNumberOfMessages after purge = %s", n)
		}
		_, err := e.v1.PurgeQueueWithContext(ctx, &sqsv1.PurgeQueueInput{QueueUrl: awsv1.String(url)})
		wantV1Error(t, err, "AWS.SimpleQueueService.PurgeQueueInProgress", 403)
	})
}

func statsOf(srv *sqslocal.Server, name string) sqslocal.QueueStats {
	for _, st := range srv.Stats() {
		if st.Name == name {
			return st
		}
	}
	return sqslocal.QueueStats{}
}

func TestQuerySDKv1MoveTasks(t *testing.T) {
	e := newQueryEnv(t)
	ctx := e.ctx()
	dlq := e.createQueue("dlq", nil)
	dlqARN := e.attrs(dlq, "QueueArn")["QueueArn"]
	src := e.createQueue("src", map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":1}`, "VisibilityTimeout": "0",
	})
	if _, err := e.v1.SendMessageWithContext(ctx, &sqsv1.SendMessageInput{QueueUrl: awsv1.String(src), MessageBody: awsv1.String("poison")}); err != nil {
		t.Fatal(err)
	}
	e.receiveAll(src, 1) // first receive; the next one moves it to the DLQ
	if msgs := e.receiveAll(src, 1); len(msgs) != 0 {
		t.Fatalf("second receive returned %d messages, want the message moved", len(msgs))
	}
	started, err := e.v1.StartMessageMoveTaskWithContext(ctx, &sqsv1.StartMessageMoveTaskInput{SourceArn: awsv1.String(dlqARN)})
	if err != nil {
		t.Fatal(err)
	}
	if awsv1.StringValue(started.TaskHandle) == "" {
		t.Error("StartMessageMoveTask returned no TaskHandle")
	}
	waitFor(t, "the move task to finish", func() bool {
		out, err := e.v1.ListMessageMoveTasksWithContext(ctx, &sqsv1.ListMessageMoveTasksInput{SourceArn: awsv1.String(dlqARN), MaxResults: awsv1.Int64(10)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Results) == 1 && awsv1.StringValue(out.Results[0].Status) == "COMPLETED" &&
			awsv1.Int64Value(out.Results[0].ApproximateNumberOfMessagesMoved) == 1 && awsv1.StringValue(out.Results[0].SourceArn) == dlqARN
	})
	_, err = e.v1.CancelMessageMoveTaskWithContext(ctx, &sqsv1.CancelMessageMoveTaskInput{TaskHandle: started.TaskHandle})
	wantV1Error(t, err, "InvalidParameterValue", 400)
}

func TestQuerySDKv1Errors(t *testing.T) {
	e := newQueryEnv(t)
	ctx := e.ctx()
	url := e.createQueue("q", nil)
	missing := e.url + "/123456789012/missing"
	tests := []struct {
		name   string
		call   func() error
		code   string
		status int
	}{
		{"GetQueueUrl of a missing queue", func() error {
			_, err := e.v1.GetQueueUrlWithContext(ctx, &sqsv1.GetQueueUrlInput{QueueName: awsv1.String("missing")})
			return err
		}, "AWS.SimpleQueueService.NonExistentQueue", 400},
		{"SendMessage to a missing queue", func() error {
			_, err := e.v1.SendMessageWithContext(ctx, &sqsv1.SendMessageInput{QueueUrl: awsv1.String(missing), MessageBody: awsv1.String("x")})
			return err
		}, "AWS.SimpleQueueService.NonExistentQueue", 400},
		{"CreateQueue with a bad name", func() error {
			_, err := e.v1.CreateQueueWithContext(ctx, &sqsv1.CreateQueueInput{QueueName: awsv1.String("no spaces")})
			return err
		}, "InvalidParameterValue", 400},
		{"CreateQueue that exists with other attributes", func() error {
			_, err := e.v1.CreateQueueWithContext(ctx, &sqsv1.CreateQueueInput{QueueName: awsv1.String("q"), Attributes: awsv1.StringMap(map[string]string{"DelaySeconds": "5"})})
			return err
		}, "QueueAlreadyExists", 400},
		{"GetQueueAttributes of an unknown attribute", func() error {
			_, err := e.v1.GetQueueAttributesWithContext(ctx, &sqsv1.GetQueueAttributesInput{QueueUrl: awsv1.String(url), AttributeNames: awsv1.StringSlice([]string{"Colour"})})
			return err
		}, "InvalidAttributeName", 400},
		{"SetQueueAttributes out of range", func() error {
			_, err := e.v1.SetQueueAttributesWithContext(ctx, &sqsv1.SetQueueAttributesInput{QueueUrl: awsv1.String(url), Attributes: awsv1.StringMap(map[string]string{"VisibilityTimeout": "99999"})})
			return err
		}, "InvalidAttributeValue", 400},
		{"DeleteMessage with a bad receipt handle", func() error {
			_, err := e.v1.DeleteMessageWithContext(ctx, &sqsv1.DeleteMessageInput{QueueUrl: awsv1.String(url), ReceiptHandle: awsv1.String("nonsense")})
			return err
		}, "ReceiptHandleIsInvalid", 404},
		{"ReceiveMessage of too many", func() error {
			_, err := e.v1.ReceiveMessageWithContext(ctx, &sqsv1.ReceiveMessageInput{QueueUrl: awsv1.String(url), MaxNumberOfMessages: awsv1.Int64(11)})
			return err
		}, "InvalidParameterValue", 400},
		{"SendMessageBatch with repeated ids", func() error {
			_, err := e.v1.SendMessageBatchWithContext(ctx, &sqsv1.SendMessageBatchInput{QueueUrl: awsv1.String(url), Entries: []*sqsv1.SendMessageBatchRequestEntry{
				{Id: awsv1.String("x"), MessageBody: awsv1.String("1")}, {Id: awsv1.String("x"), MessageBody: awsv1.String("2")},
			}})
			return err
		}, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400},
		{"SendMessage with a reserved attribute name", func() error {
			_, err := e.v1.SendMessageWithContext(ctx, &sqsv1.SendMessageInput{QueueUrl: awsv1.String(url), MessageBody: awsv1.String("x"),
				MessageAttributes: map[string]*sqsv1.MessageAttributeValue{"AWS.x": {DataType: awsv1.String("String"), StringValue: awsv1.String("v")}}})
			return err
		}, "InvalidParameterValue", 400},
		{"AddPermission, which sqslocal does not implement", func() error {
			_, err := e.v1.AddPermissionWithContext(ctx, &sqsv1.AddPermissionInput{QueueUrl: awsv1.String(url), Label: awsv1.String("l"),
				AWSAccountIds: awsv1.StringSlice([]string{"111122223333"}), Actions: awsv1.StringSlice([]string{"SendMessage"})})
			return err
		}, "AWS.SimpleQueueService.UnsupportedOperation", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantV1Error(t, tc.call(), tc.code, tc.status)
		})
	}
}
