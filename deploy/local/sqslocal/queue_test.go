package sqslocal_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/sqslocal"
)

func TestQueueLifecycle(t *testing.T) {
	e := newEnv(t, true)
	ctx := e.ctx()
	url := e.createQueue("otp-send", map[string]string{"VisibilityTimeout": "60"})
	if want := e.url + "/123456789012/otp-send"; url != want {
		t.Fatalf("QueueUrl = %q, want %q", url, want)
	}

	t.Run("create again with the same attributes returns the same URL", func(t *testing.T) {
		if again := e.createQueue("otp-send", map[string]string{"VisibilityTimeout": "60"}); again != url {
			t.Errorf("second CreateQueue = %q, want %q", again, url)
		}
	})
	t.Run("create again with other attributes fails", func(t *testing.T) {
		_, err := e.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("otp-send"), Attributes: map[string]string{"VisibilityTimeout": "61"}})
		wantAPIError(t, err, "QueueAlreadyExists", new(*types.QueueNameExists))
	})
	t.Run("GetQueueUrl finds it", func(t *testing.T) {
		out, err := e.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("otp-send")})
		if err != nil || aws.ToString(out.QueueUrl) != url {
			t.Errorf("GetQueueUrl = %v, %v; want %s", out, err, url)
		}
	})
	t.Run("a QueueUrl naming another host reaches the same queue", func(t *testing.T) {
		other := "https://sqs.eu-central-1.amazonaws.com/123456789012/otp-send"
		if _, err := e.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(other)}); err != nil {
			t.Errorf("GetQueueAttributes via %s: %v", other, err)
		}
	})
	t.Run("ListQueues filters by prefix", func(t *testing.T) {
		e.createQueue("otp-send-dlq", nil)
		e.createQueue("other", nil)
		out, err := e.client.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("otp-")})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{url, url + "-dlq"}
		if strings.Join(out.QueueUrls, ",") != strings.Join(want, ",") {
			t.Errorf("QueueUrls = %v, want %v", out.QueueUrls, want)
		}
	})
	t.Run("ListQueues pages with MaxResults", func(t *testing.T) {
		first, err := e.client.ListQueues(ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(2)})
		if err != nil || len(first.QueueUrls) != 2 || first.NextToken == nil {
			t.Fatalf("first page = %+v, %v; want 2 URLs and a token", first, err)
		}
		second, err := e.client.ListQueues(ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(2), NextToken: first.NextToken})
		if err != nil || len(second.QueueUrls) != 1 || second.NextToken != nil {
			t.Fatalf("second page = %+v, %v; want 1 URL and no token", second, err)
		}
	})
	t.Run("GetQueueAttributes All describes the queue", func(t *testing.T) {
		out, err := e.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"QueueArn":                              "arn:aws:sqs:eu-central-1:123456789012:otp-send",
			"VisibilityTimeout":                     "60",
			"DelaySeconds":                          "0",
			"MaximumMessageSize":                    "1048576",
			"MessageRetentionPeriod":                "345600",
			"ReceiveMessageWaitTimeSeconds":         "0",
			"ApproximateNumberOfMessages":           "0",
			"ApproximateNumberOfMessagesNotVisible": "0",
			"ApproximateNumberOfMessagesDelayed":    "0",
			"SqsManagedSseEnabled":                  "true",
			"CreatedTimestamp":                      "1740830400",
			"LastModifiedTimestamp":                 "1740830400",
		}
		for k, v := range want {
			if out.Attributes[k] != v {
				t.Errorf("attribute %s = %q, want %q", k, out.Attributes[k], v)
			}
		}
		if _, ok := out.Attributes["RedrivePolicy"]; ok {
			t.Errorf("RedrivePolicy present on a queue without one: %v", out.Attributes)
		}
	})
	t.Run("SetQueueAttributes changes and stamps the queue", func(t *testing.T) {
		e.advance(time.Minute)
		_, err := e.client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
			QueueUrl: aws.String(url), Attributes: map[string]string{"DelaySeconds": "5", "ReceiveMessageWaitTimeSeconds": "2"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.attr(url, "DelaySeconds"); got != "5" {
			t.Errorf("DelaySeconds = %s, want 5", got)
		}
		if got := e.attr(url, "LastModifiedTimestamp"); got != "1740830460" {
			t.Errorf("LastModifiedTimestamp = %s, want 1740830460", got)
		}
	})
	t.Run("tags round-trip", func(t *testing.T) {
		if _, err := e.client.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: aws.String(url), Tags: map[string]string{"app": "otp", "env": "local"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.UntagQueue(ctx, &sqs.UntagQueueInput{QueueUrl: aws.String(url), TagKeys: []string{"env"}}); err != nil {
			t.Fatal(err)
		}
		out, err := e.client.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(url)})
		if err != nil || len(out.Tags) != 1 || out.Tags["app"] != "otp" {
			t.Errorf("ListQueueTags = %v, %v; want app=otp only", out.Tags, err)
		}
	})
	t.Run("deleted queue is gone and its name blocked for 60s", func(t *testing.T) {
		if _, err := e.client.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url + "-dlq")}); err != nil {
			t.Fatal(err)
		}
		_, err := e.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("otp-send-dlq")})
		wantAPIError(t, err, "AWS.SimpleQueueService.NonExistentQueue", new(*types.QueueDoesNotExist))
		_, err = e.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("otp-send-dlq")})
		wantAPIError(t, err, "AWS.SimpleQueueService.QueueDeletedRecently", new(*types.QueueDeletedRecently))
		e.advance(60 * time.Second)
		e.createQueue("otp-send-dlq", nil)
	})
}

func TestQueueAttributeValidation(t *testing.T) {
	e := newEnv(t, true)
	ctx := e.ctx()
	url := e.createQueue("q", nil)
	dlqURL := e.createQueue("q-dlq", map[string]string{
		"RedriveAllowPolicy": `{"redrivePermission":"byQueue","sourceQueueArns":["` + e.arn("q") + `"]}`,
	})
	e.createQueue("stranger", nil)
	tests := []struct {
		name  string
		queue string
		attrs map[string]string
		code  string
		typed any
	}{
		{"visibility timeout above 12 hours", url, map[string]string{"VisibilityTimeout": "43201"}, "InvalidAttributeValue", new(*types.InvalidAttributeValue)},
		{"negative delay", url, map[string]string{"DelaySeconds": "-1"}, "InvalidAttributeValue", new(*types.InvalidAttributeValue)},
		{"wait time above 20 seconds", url, map[string]string{"ReceiveMessageWaitTimeSeconds": "21"}, "InvalidAttributeValue", new(*types.InvalidAttributeValue)},
		{"retention under a minute", url, map[string]string{"MessageRetentionPeriod": "59"}, "InvalidAttributeValue", new(*types.InvalidAttributeValue)},
		{"message size above 1 MiB", url, map[string]string{"MaximumMessageSize": "1048577"}, "InvalidAttributeValue", new(*types.InvalidAttributeValue)},
		{"read-only attribute", url, map[string]string{"QueueArn": "x"}, "InvalidAttributeName", new(*types.InvalidAttributeName)},
		{"unknown attribute", url, map[string]string{"Colour": "blue"}, "InvalidAttributeName", new(*types.InvalidAttributeName)},
		{"redrive to a missing queue", url, map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + e.arn("nope") + `","maxReceiveCount":3}`}, "InvalidParameterValue", nil},
		{"redrive count zero", url, map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + e.arn("q-dlq") + `","maxReceiveCount":0}`}, "InvalidParameterValue", nil},
		{"redrive to itself", url, map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + e.arn("q") + `","maxReceiveCount":3}`}, "InvalidParameterValue", nil},
		{"redrive not allowed by the DLQ", e.url + "/123456789012/stranger", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + e.arn("q-dlq") + `","maxReceiveCount":3}`}, "InvalidParameterValue", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(tc.queue), Attributes: tc.attrs})
			wantAPIError(t, err, tc.code, tc.typed)
		})
	}
	t.Run("a failed SetQueueAttributes changes nothing", func(t *testing.T) {
		_, err := e.client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
			QueueUrl: aws.String(url), Attributes: map[string]string{"DelaySeconds": "7", "VisibilityTimeout": "-5"},
		})
		wantAPIError(t, err, "InvalidAttributeValue", nil)
		if got := e.attr(url, "DelaySeconds"); got != "0" {
			t.Errorf("DelaySeconds = %s after a rejected update, want 0", got)
		}
	})
	t.Run("redrive policy accepts maxReceiveCount as a string and reads back as a number", func(t *testing.T) {
		_, err := e.client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
			QueueUrl:   aws.String(url),
			Attributes: map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + e.arn("q-dlq") + `","maxReceiveCount":"4"}`},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"deadLetterTargetArn":"` + e.arn("q-dlq") + `","maxReceiveCount":4}`
		if got := e.attr(url, "RedrivePolicy"); got != want {
			t.Errorf("RedrivePolicy = %s, want %s", got, want)
		}
		out, err := e.client.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: aws.String(dlqURL)})
		if err != nil || len(out.QueueUrls) != 1 || out.QueueUrls[0] != url {
			t.Errorf("ListDeadLetterSourceQueues = %v, %v; want [%s]", out.QueueUrls, err, url)
		}
	})
	t.Run("unknown attribute name in GetQueueAttributes", func(t *testing.T) {
		_, err := e.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{"Colour"},
		})
		wantAPIError(t, err, "InvalidAttributeName", new(*types.InvalidAttributeName))
	})
	t.Run("queue names", func(t *testing.T) {
		for _, name := range []string{"has space", strings.Repeat("x", 81), "orders.fifo"} {
			_, err := e.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
			wantAPIError(t, err, "InvalidParameterValue", nil)
		}
	})
}

func TestPurgeQueue(t *testing.T) {
	e := newEnv(t, true)
	ctx := e.ctx()
	url := e.createQueue("q", nil)
	for _, b := range []string{"a", "b", "c"} {
		e.send(url, b)
	}
	e.receive(url, 1) // one in flight: purge removes those too
	if _, err := e.client.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatal(err)
	}
	if v, f := e.attrInt(url, "ApproximateNumberOfMessages"), e.attrInt(url, "ApproximateNumberOfMessagesNotVisible"); v+f != 0 {
		t.Errorf("after purge: %d visible, %d in flight; want none", v, f)
	}
	_, err := e.client.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)})
	wantAPIError(t, err, "AWS.SimpleQueueService.PurgeQueueInProgress", new(*types.PurgeQueueInProgress))
	e.advance(60 * time.Second)
	if _, err := e.client.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Errorf("purge 60s later: %v", err)
	}
}

func TestRetentionExpiresMessages(t *testing.T) {
	e := newEnv(t, true)
	url := e.createQueue("q", map[string]string{"MessageRetentionPeriod": "60"})
	e.send(url, "old")
	e.advance(30 * time.Second)
	e.send(url, "new")
	e.advance(30 * time.Second) // "old" is now 60s old
	msgs := e.receive(url, 10)
	if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "new" {
		t.Fatalf("got %d messages (%v), want only \"new\"", len(msgs), msgs)
	}
}

func TestStats(t *testing.T) {
	e := newEnv(t, true)
	e.createQueue("work-dlq", nil)
	url := e.createQueue("work", map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"` + e.arn("work-dlq") + `","maxReceiveCount":5}`,
	})
	e.send(url, "one")
	e.send(url, "two")
	if _, err := e.client.SendMessage(e.ctx(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("later"), DelaySeconds: 60}); err != nil {
		t.Fatal(err)
	}
	e.advance(10 * time.Second)
	e.receive(url, 1)

	stats := e.srv.Stats()
	if len(stats) != 2 {
		t.Fatalf("Stats() has %d queues, want 2", len(stats))
	}
	work, dl := stats[0], stats[1]
	if work.Name != "work" || dl.Name != "work-dlq" {
		t.Fatalf("Stats() names = %s, %s; want work, work-dlq", work.Name, dl.Name)
	}
	if work.Visible != 1 || work.InFlight != 1 || work.Delayed != 1 {
		t.Errorf("work: visible %d, in flight %d, delayed %d; want 1, 1, 1", work.Visible, work.InFlight, work.Delayed)
	}
	if work.OldestAge != 10*time.Second {
		t.Errorf("work.OldestAge = %v, want 10s", work.OldestAge)
	}
	if work.DeadLetterQueue != "work-dlq" || work.MaxReceiveCount != 5 {
		t.Errorf("work redrive = %q/%d, want work-dlq/5", work.DeadLetterQueue, work.MaxReceiveCount)
	}
	if len(dl.DLQOf) != 1 || dl.DLQOf[0] != "work" {
		t.Errorf("work-dlq.DLQOf = %v, want [work]", dl.DLQOf)
	}
	if work.URL != e.url+"/123456789012/work" || work.ARN != "arn:aws:sqs:eu-central-1:123456789012:work" {
		t.Errorf("work URL/ARN = %s %s", work.URL, work.ARN)
	}
}

func TestGoAPI(t *testing.T) {
	e := newEnv(t, true)
	url, err := e.srv.CreateQueue("direct", map[string]string{"VisibilityTimeout": "5"})
	if err != nil {
		t.Fatal(err)
	}
	if want := e.url + "/123456789012/direct"; url != want {
		t.Errorf("CreateQueue URL = %s, want %s", url, want)
	}
	if _, err := e.srv.CreateQueue("direct", map[string]string{"VisibilityTimeout": "6"}); err == nil {
		t.Error("CreateQueue with different attributes succeeded")
	}
	if _, err := e.srv.CreateQueue("bad name", nil); err == nil {
		t.Error("CreateQueue with an invalid name succeeded")
	}
	e.send(url, "hello")
	e.receive(url, 1)
	msgs, err := e.srv.Messages("direct")
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Messages = %v, %v", msgs, err)
	}
	if msgs[0].Body != "hello" || msgs[0].State != "in flight" || msgs[0].ReceiveCount != 1 {
		t.Errorf("Messages()[0] = %+v", msgs[0])
	}
	if got, err := e.srv.QueueURL("direct"); err != nil || got != url {
		t.Errorf("QueueURL = %s, %v", got, err)
	}
	if _, err := e.srv.QueueURL("missing"); err == nil {
		t.Error("QueueURL of a missing queue succeeded")
	}
}

// TestStatsForCloudWatch: what the CloudWatch sampler reads. The age of the
// oldest message leaves out a message received three times or more (SQS
// moves it to the back of the queue, and the metric skips poison pills);
// a redrive policy's move to the DLQ is no send, and the DLQ's age counts
// from the move.
func TestStatsForCloudWatch(t *testing.T) {
	e := newEnv(t, true)
	e.createQueue("work-dlq", nil)
	url := e.createQueue("work", map[string]string{
		"VisibilityTimeout": "1",
		"RedrivePolicy":     `{"deadLetterTargetArn":"` + e.arn("work-dlq") + `","maxReceiveCount":4}`,
	})
	stats := func() (work, dlq sqslocal.QueueStats) {
		st := e.srv.Stats()
		return st[0], st[1]
	}
	if w, _ := stats(); w.HasActive || w.AgeOfOldestMessage != 0 || w.Sent != 0 {
		t.Fatalf("empty queue: %+v", w)
	}
	e.send(url, "poison")
	e.advance(10 * time.Second)
	e.send(url, "fine")
	for i := range 3 { // "poison" three times, "fine" once
		msgs := e.receive(url, 1)
		if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "poison" {
			t.Fatalf("receive %d: %v", i, msgs)
		}
		e.advance(2 * time.Second)
	}
	w, _ := stats()
	if w.OldestAge != 16*time.Second || !w.HasActive || w.AgeOfOldestMessage != 6*time.Second {
		t.Errorf("after three receives of the oldest: OldestAge %v, AgeOfOldestMessage %v (active %v); want 16s, 6s (the next one), true",
			w.OldestAge, w.AgeOfOldestMessage, w.HasActive)
	}
	if w.Sent != 2 || w.Received != 3 || w.Deleted != 0 {
		t.Errorf("sent %d, received %d, deleted %d; want 2, 3, 0", w.Sent, w.Received, w.Deleted)
	}

	// "fine" is received and deleted; "poison" is received a fourth time,
	// then moved to the DLQ on the fifth.
	for _, m := range e.receive(url, 10) {
		if aws.ToString(m.Body) == "fine" {
			if _, err := e.client.DeleteMessage(e.ctx(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.advance(2 * time.Second)
	if got := e.receive(url, 10); len(got) != 0 {
		t.Fatalf("the fifth receive returned %v; the message should have moved to the DLQ", got)
	}
	e.advance(5 * time.Second)
	w, d := stats()
	if w.HasActive || w.Deleted != 1 || w.Received != 5 {
		t.Errorf("work after the move: active %v, deleted %d, received %d; want false, 1, 5", w.HasActive, w.Deleted, w.Received)
	}
	if d.Sent != 0 || !d.HasActive || d.AgeOfOldestMessage != 5*time.Second {
		t.Errorf("DLQ: sent %d, age %v (active %v); want 0 sends and 5s since the move", d.Sent, d.AgeOfOldestMessage, d.HasActive)
	}
}
