package sqslocal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func TestVisibilityTimeout(t *testing.T) {
	e := newEnv(t, true)
	ctx := e.ctx()
	url := e.createQueue("q", map[string]string{"VisibilityTimeout": "30"})
	sent := e.send(url, "code request")

	first := e.receive(url, 1)
	if len(first) != 1 || aws.ToString(first[0].MessageId) != aws.ToString(sent.MessageId) {
		t.Fatalf("first receive = %v, want the sent message", first)
	}
	steps := []struct {
		name      string
		advance   time.Duration
		wantCount string // "" = no message expected
	}{
		{"hidden right after the receive", 0, ""},
		{"still hidden 1s before the timeout", 29 * time.Second, ""},
		{"redelivered when the timeout expires, count 2", time.Second, "2"},
		{"hidden again after the redelivery", 29 * time.Second, ""},
		{"redelivered again, count 3", time.Second, "3"},
	}
	var last types.Message
	for _, st := range steps {
		e.advance(st.advance)
		got := e.receive(url, 1)
		if st.wantCount == "" {
			if len(got) != 0 {
				t.Fatalf("%s: got %d messages, want none", st.name, len(got))
			}
			continue
		}
		if len(got) != 1 {
			t.Fatalf("%s: got %d messages, want 1", st.name, len(got))
		}
		if c := got[0].Attributes["ApproximateReceiveCount"]; c != st.wantCount {
			t.Errorf("%s: ApproximateReceiveCount = %s, want %s", st.name, c, st.wantCount)
		}
		if aws.ToString(got[0].ReceiptHandle) == aws.ToString(first[0].ReceiptHandle) {
			t.Errorf("%s: redelivery reused the first receipt handle", st.name)
		}
		if got[0].Attributes["ApproximateFirstReceiveTimestamp"] != first[0].Attributes["ApproximateFirstReceiveTimestamp"] {
			t.Errorf("%s: ApproximateFirstReceiveTimestamp changed", st.name)
		}
		last = got[0]
	}

	t.Run("delete with a receipt handle from before the redelivery succeeds but keeps the message", func(t *testing.T) {
		if _, err := e.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: first[0].ReceiptHandle}); err != nil {
			t.Fatalf("DeleteMessage with old handle: %v", err)
		}
		if n := e.attrInt(url, "ApproximateNumberOfMessagesNotVisible"); n != 1 {
			t.Errorf("in-flight messages = %d, want 1 (not deleted)", n)
		}
	})
	t.Run("delete with the latest receipt handle deletes", func(t *testing.T) {
		if _, err := e.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: last.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
		e.advance(time.Hour)
		if got := e.receive(url, 1); len(got) != 0 {
			t.Errorf("message came back after delete: %v", got)
		}
	})
	t.Run("deleting an already deleted message succeeds", func(t *testing.T) {
		if _, err := e.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: last.ReceiptHandle}); err != nil {
			t.Errorf("second delete: %v", err)
		}
	})
}

func TestReceiveVisibilityTimeoutOverride(t *testing.T) {
	e := newEnv(t, true)
	url := e.createQueue("q", map[string]string{"VisibilityTimeout": "300"})
	e.send(url, "x")
	out, err := e.client.ReceiveMessage(e.ctx(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), VisibilityTimeout: 5})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("receive = %v, %v", out, err)
	}
	e.advance(5 * time.Second)
	if got := e.receive(url, 1); len(got) != 1 {
		t.Errorf("with VisibilityTimeout=5 the message is not back after 5s (got %d)", len(got))
	}
}

func TestChangeMessageVisibility(t *testing.T) {
	e := newEnv(t, true)
	ctx := e.ctx()
	url := e.createQueue("q", nil)
	e.send(url, "a")
	e.send(url, "b")
	msgs := e.receive(url, 2)
	if len(msgs) != 2 {
		t.Fatalf("received %d, want 2", len(msgs))
	}
	orig := msgs[0]
	t.Run("zero makes the message visible at once", func(t *testing.T) {
		_, err := e.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: orig.ReceiptHandle, VisibilityTimeout: 0})
		if err != nil {
			t.Fatal(err)
		}
		got := e.receive(url, 2)
		if len(got) != 1 || aws.ToString(got[0].MessageId) != aws.ToString(orig.MessageId) {
			t.Fatalf("after CMV 0 received %v, want message a", got)
		}
		msgs[0] = got[0]
	})
	t.Run("the handle from before a redelivery no longer changes visibility", func(t *testing.T) {
		_, err := e.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: orig.ReceiptHandle, VisibilityTimeout: 10})
		wantAPIError(t, err, "InvalidParameterValue", nil)
	})
	t.Run("batch reports each entry", func(t *testing.T) {
		out, err := e.client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
			QueueUrl: aws.String(url),
			Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
				{Id: aws.String("ok"), ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 100},
				{Id: aws.String("garbage"), ReceiptHandle: aws.String("not-a-handle"), VisibilityTimeout: 100},
				{Id: aws.String("too-long"), ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 43201},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Successful) != 1 || aws.ToString(out.Successful[0].Id) != "ok" {
			t.Errorf("Successful = %+v, want [ok]", out.Successful)
		}
		codes := map[string]string{}
		for _, f := range out.Failed {
			codes[aws.ToString(f.Id)] = aws.ToString(f.Code)
			if !f.SenderFault {
				t.Errorf("entry %s: SenderFault false", aws.ToString(f.Id))
			}
		}
		if codes["garbage"] != "ReceiptHandleIsInvalid" || codes["too-long"] != "InvalidParameterValue" {
			t.Errorf("failure codes = %v", codes)
		}
	})
	t.Run("a message that is no longer in flight cannot be changed", func(t *testing.T) {
		e.advance(time.Hour)
		_, err := e.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 10})
		wantAPIError(t, err, "InvalidParameterValue", nil)
	})
}

func TestRedriveToDeadLetterQueue(t *testing.T) {
	for _, maxReceives := range []int{1, 3} {
		t.Run(fmt.Sprintf("maxReceiveCount %d", maxReceives), func(t *testing.T) {
			e := newEnv(t, true)
			dlqURL := e.createQueue("jobs-dlq", nil)
			url := e.createQueue("jobs", map[string]string{
				"VisibilityTimeout": "10",
				"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, e.arn("jobs-dlq"), maxReceives),
			})
			sent := e.send(url, "poison")
			for i := 1; i <= maxReceives; i++ {
				got := e.receive(url, 1)
				if len(got) != 1 {
					t.Fatalf("receive %d: got %d messages, want 1", i, len(got))
				}
				if c := got[0].Attributes["ApproximateReceiveCount"]; c != strconv.Itoa(i) {
					t.Errorf("receive %d: ApproximateReceiveCount = %s", i, c)
				}
				e.advance(10 * time.Second)
			}
			// The receive that would exceed maxReceiveCount moves it instead.
			if got := e.receive(url, 1); len(got) != 0 {
				t.Fatalf("receive %d returned %d messages, want the move to the DLQ instead", maxReceives+1, len(got))
			}
			if n := e.attrInt(url, "ApproximateNumberOfMessages") + e.attrInt(url, "ApproximateNumberOfMessagesNotVisible"); n != 0 {
				t.Errorf("source still holds %d messages", n)
			}
			got := e.receive(dlqURL, 1)
			if len(got) != 1 {
				t.Fatalf("DLQ holds %d messages, want 1", len(got))
			}
			m := got[0]
			if aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) || aws.ToString(m.Body) != "poison" {
				t.Errorf("DLQ message = %s %q, want the original id and body", aws.ToString(m.MessageId), aws.ToString(m.Body))
			}
			if src := m.Attributes["DeadLetterQueueSourceArn"]; src != e.arn("jobs") {
				t.Errorf("DeadLetterQueueSourceArn = %q, want %q", src, e.arn("jobs"))
			}
			if m.Attributes["SentTimestamp"] != strconv.FormatInt(epoch.UnixMilli(), 10) {
				t.Errorf("SentTimestamp = %s, want the original send time", m.Attributes["SentTimestamp"])
			}
			e.advance(5 * time.Second)
			for _, st := range e.srv.Stats() {
				// The DLQ's age counts from the move, as SQS's metric does.
				if st.Name == "jobs-dlq" && st.OldestAge != 5*time.Second {
					t.Errorf("DLQ OldestAge = %v, want 5s", st.OldestAge)
				}
			}
		})
	}
}

func TestLongPolling(t *testing.T) {
	t.Run("returns as soon as a message arrives", func(t *testing.T) {
		e := newEnv(t, false)
		url := e.createQueue("q", nil)
		type result struct {
			msgs []types.Message
			took time.Duration
			err  error
		}
		done := make(chan result, 1)
		go func() {
			start := time.Now()
			out, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
			r := result{took: time.Since(start), err: err}
			if out != nil {
				r.msgs = out.Messages
			}
			done <- r
		}()
		waitFor(t, "the receive to start waiting", func() bool { return e.pollers("q") == 1 })
		e.send(url, "wake up")
		r := <-done
		if r.err != nil || len(r.msgs) != 1 {
			t.Fatalf("long poll = %v, %v; want one message", r.msgs, r.err)
		}
		if r.took > 5*time.Second {
			t.Errorf("long poll took %v after the send, want an early return", r.took)
		}
	})
	t.Run("waits the full time when nothing arrives", func(t *testing.T) {
		e := newEnv(t, false)
		url := e.createQueue("q", nil)
		start := time.Now()
		out, err := e.client.ReceiveMessage(e.ctx(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 1})
		took := time.Since(start)
		if err != nil || len(out.Messages) != 0 {
			t.Fatalf("receive = %v, %v; want empty", out, err)
		}
		if took < time.Second || took > 3*time.Second {
			t.Errorf("WaitTimeSeconds=1 returned after %v", took)
		}
	})
	t.Run("the queue's ReceiveMessageWaitTimeSeconds applies without WaitTimeSeconds", func(t *testing.T) {
		e := newEnv(t, true)
		url := e.createQueue("q", map[string]string{"ReceiveMessageWaitTimeSeconds": "20"})
		done := make(chan int, 1)
		go func() {
			out, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url)})
			if err != nil {
				done <- -1
				return
			}
			done <- len(out.Messages)
		}()
		waitFor(t, "the receive to wait", func() bool { return e.pollers("q") == 1 && e.clock.PendingTimers() > 0 })
		e.advance(19 * time.Second)
		select {
		case n := <-done:
			t.Fatalf("receive returned (%d messages) before the queue's 20s wait", n)
		case <-time.After(20 * time.Millisecond):
		}
		e.advance(time.Second)
		if n := <-done; n != 0 {
			t.Errorf("receive returned %d messages, want 0 after the wait", n)
		}
	})
	t.Run("a delayed message ends the wait when its delay does", func(t *testing.T) {
		e := newEnv(t, true)
		url := e.createQueue("q", nil)
		if _, err := e.client.SendMessage(e.ctx(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("later"), DelaySeconds: 5}); err != nil {
			t.Fatal(err)
		}
		done := make(chan []types.Message, 1)
		go func() {
			out, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
			if err != nil {
				done <- nil
				return
			}
			done <- out.Messages
		}()
		waitFor(t, "the receive to wait", func() bool { return e.pollers("q") == 1 && e.clock.PendingTimers() > 0 })
		e.advance(5 * time.Second)
		if msgs := <-done; len(msgs) != 1 {
			t.Errorf("receive got %d messages, want the delayed one", len(msgs))
		}
	})
	t.Run("ends when the client gives up", func(t *testing.T) {
		e := newEnv(t, true)
		url := e.createQueue("q", nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := e.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
			done <- err
		}()
		waitFor(t, "the receive to wait", func() bool { return e.pollers("q") == 1 })
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("receive error = %v, want context.Canceled", err)
		}
		waitFor(t, "the server to drop the poll", func() bool { return e.pollers("q") == 0 })
	})
	t.Run("ends with no messages when the server closes", func(t *testing.T) {
		e := newEnv(t, true)
		url := e.createQueue("q", nil)
		done := make(chan error, 1)
		go func() {
			out, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
			if err == nil && len(out.Messages) != 0 {
				err = fmt.Errorf("got %d messages", len(out.Messages))
			}
			done <- err
		}()
		waitFor(t, "the receive to wait", func() bool { return e.pollers("q") == 1 })
		e.srv.Close()
		if err := <-done; err != nil {
			t.Errorf("receive after Close: %v", err)
		}
	})
}

func TestDelay(t *testing.T) {
	tests := []struct {
		name         string
		queueDelay   string
		messageDelay int32
		visibleAfter time.Duration
	}{
		{"per-message delay", "0", 10, 10 * time.Second},
		{"queue default delay", "5", 0, 5 * time.Second},
		{"per-message delay overrides the queue's", "5", 15, 15 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, true)
			url := e.createQueue("q", map[string]string{"DelaySeconds": tc.queueDelay})
			if _, err := e.client.SendMessage(e.ctx(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x"), DelaySeconds: tc.messageDelay}); err != nil {
				t.Fatal(err)
			}
			if d := e.attrInt(url, "ApproximateNumberOfMessagesDelayed"); d != 1 {
				t.Errorf("ApproximateNumberOfMessagesDelayed = %d, want 1", d)
			}
			e.advance(tc.visibleAfter - time.Second)
			if got := e.receive(url, 1); len(got) != 0 {
				t.Fatalf("message visible 1s before its delay ends")
			}
			e.advance(time.Second)
			if got := e.receive(url, 1); len(got) != 1 {
				t.Fatalf("message not visible when its delay ends")
			}
		})
	}
}

func TestMessageAttributesRoundTrip(t *testing.T) {
	e := newEnv(t, true)
	url := e.createQueue("q", map[string]string{"VisibilityTimeout": "0"})
	attrs := map[string]types.MessageAttributeValue{
		"otp.tenant":  {DataType: aws.String("String"), StringValue: aws.String("acme")},
		"otp.version": {DataType: aws.String("Number"), StringValue: aws.String("1")},
		"blob":        {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 0xff}},
		"doc":         {DataType: aws.String("String.json"), StringValue: aws.String(`{"ü":"ß"}`)},
	}
	sent, err := e.client.SendMessage(e.ctx(), &sqs.SendMessageInput{
		QueueUrl: aws.String(url), MessageBody: aws.String("body"), MessageAttributes: attrs,
		MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String("Root=1-5759e988-bd862e3fe1be46a994272793")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sent.MD5OfMessageAttributes == nil || sent.MD5OfMessageSystemAttributes == nil {
		t.Fatalf("SendMessage returned no attribute digests: %+v", sent)
	}
	tests := []struct {
		name      string
		requested []string
		want      []string
	}{
		{"All", []string{"All"}, []string{"blob", "doc", "otp.tenant", "otp.version"}},
		{".* means all", []string{".*"}, []string{"blob", "doc", "otp.tenant", "otp.version"}},
		{"prefix", []string{"otp.*"}, []string{"otp.tenant", "otp.version"}},
		{"exact names", []string{"blob", "missing"}, []string{"blob"}},
		{"none requested", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.client.ReceiveMessage(e.ctx(), &sqs.ReceiveMessageInput{
				QueueUrl: aws.String(url), MessageAttributeNames: tc.requested,
				MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAWSTraceHeader},
			})
			if err != nil || len(out.Messages) != 1 {
				t.Fatalf("receive = %v, %v", out, err)
			}
			m := out.Messages[0]
			var names []string
			for n, v := range m.MessageAttributes {
				names = append(names, n)
				w := attrs[n]
				if aws.ToString(v.DataType) != aws.ToString(w.DataType) || aws.ToString(v.StringValue) != aws.ToString(w.StringValue) || !bytes.Equal(v.BinaryValue, w.BinaryValue) {
					t.Errorf("attribute %s = %+v, want %+v", n, v, w)
				}
			}
			sort.Strings(names)
			if strings.Join(names, ",") != strings.Join(tc.want, ",") {
				t.Errorf("attributes = %v, want %v", names, tc.want)
			}
			switch {
			case len(tc.want) == 0 && m.MD5OfMessageAttributes != nil:
				t.Errorf("MD5OfMessageAttributes present without attributes")
			case len(tc.want) == 4 && aws.ToString(m.MD5OfMessageAttributes) != aws.ToString(sent.MD5OfMessageAttributes):
				t.Errorf("MD5OfMessageAttributes = %s on receive, %s on send", aws.ToString(m.MD5OfMessageAttributes), aws.ToString(sent.MD5OfMessageAttributes))
			case len(tc.want) == 2 && aws.ToString(m.MD5OfMessageAttributes) == aws.ToString(sent.MD5OfMessageAttributes):
				t.Errorf("MD5OfMessageAttributes of a subset equals the digest of all attributes")
			}
			if m.Attributes["AWSTraceHeader"] != "Root=1-5759e988-bd862e3fe1be46a994272793" {
				t.Errorf("AWSTraceHeader = %q", m.Attributes["AWSTraceHeader"])
			}
		})
	}
}

func TestMessageValidation(t *testing.T) {
	e := newEnv(t, true)
	ctx := e.ctx()
	url := e.createQueue("q", nil)
	small := e.createQueue("small", map[string]string{"MaximumMessageSize": "1024"})
	str := func(s string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s)}
	}
	tooMany := map[string]types.MessageAttributeValue{}
	for i := 0; i < 11; i++ {
		tooMany[fmt.Sprintf("a%d", i)] = str("v")
	}
	tests := []struct {
		name  string
		in    *sqs.SendMessageInput
		code  string
		typed any
	}{
		{"empty body", &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("")}, "MissingParameter", nil},
		{"control character in body", &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("a\x01b")}, "InvalidMessageContents", new(*types.InvalidMessageContents)},
		{"body over the queue's maximum size", &sqs.SendMessageInput{QueueUrl: aws.String(small), MessageBody: aws.String(strings.Repeat("x", 1025))}, "InvalidParameterValue", nil},
		{"attributes count towards the size", &sqs.SendMessageInput{QueueUrl: aws.String(small), MessageBody: aws.String(strings.Repeat("x", 1000)), MessageAttributes: map[string]types.MessageAttributeValue{"name": str(strings.Repeat("v", 30))}}, "InvalidParameterValue", nil},
		{"delay above 15 minutes", &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x"), DelaySeconds: 901}, "InvalidParameterValue", nil},
		{"more than 10 attributes", &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x"), MessageAttributes: tooMany}, "InvalidParameterValue", nil},
		{"reserved attribute name", &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x"), MessageAttributes: map[string]types.MessageAttributeValue{"AWS.x": str("v")}}, "InvalidParameterValue", nil},
		{"unknown data type", &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x"), MessageAttributes: map[string]types.MessageAttributeValue{"a": {DataType: aws.String("Date"), StringValue: aws.String("v")}}}, "InvalidParameterValue", nil},
		{"number that is not a number", &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x"), MessageAttributes: map[string]types.MessageAttributeValue{"a": {DataType: aws.String("Number"), StringValue: aws.String("twelve")}}}, "InvalidParameterValue", nil},
		{"FIFO parameter on a standard queue", &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x"), MessageGroupId: aws.String("g")}, "InvalidParameterValue", nil},
		{"nonexistent queue", &sqs.SendMessageInput{QueueUrl: aws.String(e.url + "/123456789012/nope"), MessageBody: aws.String("x")}, "AWS.SimpleQueueService.NonExistentQueue", new(*types.QueueDoesNotExist)},
		{"queue of another account", &sqs.SendMessageInput{QueueUrl: aws.String(e.url + "/000000000000/q"), MessageBody: aws.String("x")}, "AWS.SimpleQueueService.NonExistentQueue", new(*types.QueueDoesNotExist)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.SendMessage(ctx, tc.in)
			wantAPIError(t, err, tc.code, tc.typed)
		})
	}
	t.Run("a body of exactly the maximum size is accepted", func(t *testing.T) {
		e.send(small, strings.Repeat("x", 1024))
	})

	receiveTests := []struct {
		name string
		in   *sqs.ReceiveMessageInput
		code string
	}{
		{"MaxNumberOfMessages 11", &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 11}, "InvalidParameterValue"},
		{"WaitTimeSeconds 21", &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 21}, "InvalidParameterValue"},
		{"VisibilityTimeout above 12 hours", &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), VisibilityTimeout: 43201}, "InvalidParameterValue"},
		{"unknown system attribute", &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MessageSystemAttributeNames: []types.MessageSystemAttributeName{"Colour"}}, "InvalidAttributeName"},
	}
	for _, tc := range receiveTests {
		t.Run("receive: "+tc.name, func(t *testing.T) {
			_, err := e.client.ReceiveMessage(ctx, tc.in)
			wantAPIError(t, err, tc.code, nil)
		})
	}
}

func TestBatchErrors(t *testing.T) {
	e := newEnv(t, true)
	ctx := e.ctx()
	url := e.createQueue("q", nil)
	entries := func(ids ...string) []types.SendMessageBatchRequestEntry {
		out := []types.SendMessageBatchRequestEntry{}
		for _, id := range ids {
			out = append(out, types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String("body " + id)})
		}
		return out
	}
	var eleven []string
	for i := 0; i < 11; i++ {
		eleven = append(eleven, fmt.Sprintf("m%d", i))
	}
	big := strings.Repeat("x", 600_000)
	tests := []struct {
		name    string
		queue   string
		entries []types.SendMessageBatchRequestEntry
		code    string
		typed   any
	}{
		{"empty batch", url, entries(), "AWS.SimpleQueueService.EmptyBatchRequest", new(*types.EmptyBatchRequest)},
		{"eleven entries", url, entries(eleven...), "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", new(*types.TooManyEntriesInBatchRequest)},
		{"duplicate ids", url, entries("a", "b", "a"), "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", new(*types.BatchEntryIdsNotDistinct)},
		{"invalid id", url, entries("not ok!"), "AWS.SimpleQueueService.InvalidBatchEntryId", new(*types.InvalidBatchEntryId)},
		{"total over 1 MiB", url, []types.SendMessageBatchRequestEntry{
			{Id: aws.String("a"), MessageBody: aws.String(big)}, {Id: aws.String("b"), MessageBody: aws.String(big)},
		}, "AWS.SimpleQueueService.BatchRequestTooLong", new(*types.BatchRequestTooLong)},
		{"nonexistent queue", e.url + "/123456789012/nope", entries("a"), "AWS.SimpleQueueService.NonExistentQueue", new(*types.QueueDoesNotExist)},
	}
	for _, tc := range tests {
		t.Run("send batch: "+tc.name, func(t *testing.T) {
			_, err := e.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(tc.queue), Entries: tc.entries})
			wantAPIError(t, err, tc.code, tc.typed)
		})
	}
	t.Run("send batch reports bad entries and sends the rest", func(t *testing.T) {
		in := entries("good1", "good2")
		in = append(in, types.SendMessageBatchRequestEntry{Id: aws.String("late"), MessageBody: aws.String("x"), DelaySeconds: 901})
		out, err := e.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: in})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Successful) != 2 || len(out.Failed) != 1 {
			t.Fatalf("Successful %d, Failed %d; want 2, 1", len(out.Successful), len(out.Failed))
		}
		if f := out.Failed[0]; aws.ToString(f.Id) != "late" || aws.ToString(f.Code) != "InvalidParameterValue" || !f.SenderFault {
			t.Errorf("Failed[0] = %+v", f)
		}
		if n := e.attrInt(url, "ApproximateNumberOfMessages"); n != 2 {
			t.Errorf("queue holds %d messages, want 2", n)
		}
	})
	t.Run("delete batch reports an invalid receipt handle per entry", func(t *testing.T) {
		msgs := e.receive(url, 2)
		if len(msgs) != 2 {
			t.Fatalf("received %d, want 2", len(msgs))
		}
		out, err := e.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
			QueueUrl: aws.String(url),
			Entries: []types.DeleteMessageBatchRequestEntry{
				{Id: aws.String("one"), ReceiptHandle: msgs[0].ReceiptHandle},
				{Id: aws.String("bogus"), ReceiptHandle: aws.String("bogus")},
				{Id: aws.String("two"), ReceiptHandle: msgs[1].ReceiptHandle},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Successful) != 2 || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Code) != "ReceiptHandleIsInvalid" {
			t.Errorf("DeleteMessageBatch = %+v", out)
		}
		if n := e.attrInt(url, "ApproximateNumberOfMessagesNotVisible"); n != 0 {
			t.Errorf("%d messages still in flight after batch delete", n)
		}
	})
	t.Run("delete batch: empty, too many, duplicates", func(t *testing.T) {
		var many []types.DeleteMessageBatchRequestEntry
		for _, id := range eleven {
			many = append(many, types.DeleteMessageBatchRequestEntry{Id: aws.String(id), ReceiptHandle: aws.String("h")})
		}
		cases := []struct {
			entries []types.DeleteMessageBatchRequestEntry
			code    string
		}{
			{[]types.DeleteMessageBatchRequestEntry{}, "AWS.SimpleQueueService.EmptyBatchRequest"},
			{many, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"},
			{[]types.DeleteMessageBatchRequestEntry{{Id: aws.String("x"), ReceiptHandle: aws.String("h")}, {Id: aws.String("x"), ReceiptHandle: aws.String("h")}}, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"},
		}
		for _, c := range cases {
			_, err := e.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: c.entries})
			wantAPIError(t, err, c.code, nil)
		}
	})
	t.Run("delete with an invalid receipt handle", func(t *testing.T) {
		_, err := e.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("AQEBnotarealhandle")})
		wantAPIError(t, err, "ReceiptHandleIsInvalid", new(*types.ReceiptHandleIsInvalid))
	})
	t.Run("delete with a receipt handle of another queue", func(t *testing.T) {
		other := e.createQueue("other", nil)
		e.send(other, "x")
		m := e.receive(other, 1)
		_, err := e.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m[0].ReceiptHandle})
		wantAPIError(t, err, "ReceiptHandleIsInvalid", new(*types.ReceiptHandleIsInvalid))
	})
}

// TestSDKVerifiesMD5s sends bodies that are easy to digest wrongly (multi-byte
// UTF-8, a maximal-size body) and relies on the SDK's checksum middleware,
// which fails SendMessage, SendMessageBatch and ReceiveMessage on a
// mismatch. The tampering case shows that the middleware is active here.
func TestSDKVerifiesMD5s(t *testing.T) {
	e := newEnv(t, true)
	ctx := e.ctx()
	url := e.createQueue("q", nil)
	bodies := []string{"plain", "ünïcødé ✓ 🙂", `{"v":1,"code":"hidden"}`, strings.Repeat("€", 349_525)}
	for i, b := range bodies {
		e.send(url, b)
		_, err := e.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String(fmt.Sprintf("b%d", i)), MessageBody: aws.String(b)},
		}})
		if err != nil {
			t.Fatalf("SendMessageBatch body %d: %v", i, err)
		}
	}
	if got := e.receive(url, 10); len(got) != 2*len(bodies) {
		t.Fatalf("received %d messages, want %d", len(got), 2*len(bodies))
	}

	t.Run("a wrong MD5OfMessageBody fails the SDK call", func(t *testing.T) {
		tamper := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			e.srv.ServeHTTP(rec, r)
			body, _ := io.ReadAll(rec.Result().Body)
			body = bytes.Replace(body, []byte(`"MD5OfMessageBody":"`), []byte(`"MD5OfMessageBody":"0`), 1)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body)
		}))
		defer tamper.Close()
		client := sqs.New(sqs.Options{Region: "eu-central-1", BaseEndpoint: aws.String(tamper.URL),
			Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
		_, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x")})
		if err == nil || !strings.Contains(err.Error(), "checksum") {
			t.Errorf("SendMessage through a tampering proxy = %v, want a checksum error", err)
		}
	})
}

// TestConcurrentProducersAndConsumers is for the race detector: every
// message sent is received and deleted exactly once across competing
// consumers (no visibility timeout expires during the test).
func TestConcurrentProducersAndConsumers(t *testing.T) {
	e := newEnv(t, false)
	url := e.createQueue("q", map[string]string{"VisibilityTimeout": "300"})
	const producers, perProducer, consumers = 4, 25, 4
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < perProducer; i++ {
				if _, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(fmt.Sprintf("%d-%d", p, i))}); err != nil {
					t.Errorf("send: %v", err)
					return
				}
			}
		}(p)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	total := producers * perProducer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var cw sync.WaitGroup
	for c := 0; c < consumers; c++ {
		cw.Add(1)
		go func() {
			defer cw.Done()
			for ctx.Err() == nil {
				mu.Lock()
				finished := len(seen) == total
				mu.Unlock()
				if finished {
					return
				}
				out, err := e.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("receive: %v", err)
					}
					return
				}
				for _, m := range out.Messages {
					mu.Lock()
					seen[aws.ToString(m.Body)]++
					mu.Unlock()
					if _, err := e.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
						t.Errorf("delete: %v", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	cw.Wait()
	if len(seen) != total {
		t.Fatalf("received %d distinct messages, want %d", len(seen), total)
	}
	for body, n := range seen {
		if n != 1 {
			t.Errorf("message %s received %d times", body, n)
		}
	}
}
