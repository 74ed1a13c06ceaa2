package sqslocal_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// deadLetter sends bodies to queue and receives each until redrive moves it
// to the DLQ (maxReceiveCount 1, visibility timeout 1s).
func (e *env) deadLetter(queueURL string, bodies ...string) {
	e.t.Helper()
	for _, b := range bodies {
		e.send(queueURL, b)
	}
	if got := e.receive(queueURL, 10); len(got) != len(bodies) {
		e.t.Fatalf("first receive got %d messages, want %d", len(got), len(bodies))
	}
	e.advance(time.Second)
	if got := e.receive(queueURL, 10); len(got) != 0 {
		e.t.Fatalf("second receive got %d messages, want all moved to the DLQ", len(got))
	}
}

func (e *env) redrivenQueues(names ...string) (urls map[string]string) {
	e.t.Helper()
	urls = map[string]string{"dlq": e.createQueue("dlq", nil)}
	for _, n := range names {
		urls[n] = e.createQueue(n, map[string]string{
			"VisibilityTimeout": "1",
			"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":1}`, e.arn("dlq")),
		})
	}
	return urls
}

func (e *env) latestTask(sourceArn string) types.ListMessageMoveTasksResultEntry {
	e.t.Helper()
	out, err := e.client.ListMessageMoveTasks(e.ctx(), &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(sourceArn)})
	if err != nil || len(out.Results) == 0 {
		e.t.Fatalf("ListMessageMoveTasks = %v, %v", out, err)
	}
	return out.Results[0]
}

func bodies(msgs []types.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, aws.ToString(m.Body))
	}
	sort.Strings(out)
	return out
}

func TestMessageMoveTaskBackToSources(t *testing.T) {
	e := newEnv(t, true)
	urls := e.redrivenQueues("orders", "emails")
	e.deadLetter(urls["orders"], "o1", "o2")
	e.deadLetter(urls["emails"], "e1")

	out, err := e.client.StartMessageMoveTask(e.ctx(), &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(e.arn("dlq"))})
	if err != nil || aws.ToString(out.TaskHandle) == "" {
		t.Fatalf("StartMessageMoveTask = %v, %v", out, err)
	}
	waitFor(t, "the task to complete", func() bool { return aws.ToString(e.latestTask(e.arn("dlq")).Status) == "COMPLETED" })

	task := e.latestTask(e.arn("dlq"))
	if aws.ToInt64(task.ApproximateNumberOfMessagesToMove) != 3 || task.ApproximateNumberOfMessagesMoved != 3 {
		t.Errorf("task moved %d of %d, want 3 of 3", task.ApproximateNumberOfMessagesMoved, aws.ToInt64(task.ApproximateNumberOfMessagesToMove))
	}
	if task.TaskHandle != nil || task.DestinationArn != nil {
		t.Errorf("finished task without destination lists TaskHandle %v, DestinationArn %v; want neither", task.TaskHandle, task.DestinationArn)
	}
	if task.StartedTimestamp != epoch.Add(2*time.Second).UnixMilli() { // two deadLetter calls, 1s each
		t.Errorf("StartedTimestamp = %d", task.StartedTimestamp)
	}
	tests := []struct {
		queue string
		want  []string
	}{{"orders", []string{"o1", "o2"}}, {"emails", []string{"e1"}}, {"dlq", nil}}
	for _, tc := range tests {
		t.Run("messages back in "+tc.queue, func(t *testing.T) {
			got := e.receive(urls[tc.queue], 10)
			if fmt.Sprint(bodies(got)) != fmt.Sprint(tc.want) {
				t.Fatalf("bodies = %v, want %v", bodies(got), tc.want)
			}
			for _, m := range got {
				// Redriven messages are new messages.
				if c := m.Attributes["ApproximateReceiveCount"]; c != "1" {
					t.Errorf("%s: ApproximateReceiveCount = %s, want 1", aws.ToString(m.Body), c)
				}
				if _, ok := m.Attributes["DeadLetterQueueSourceArn"]; ok {
					t.Errorf("%s: still carries DeadLetterQueueSourceArn", aws.ToString(m.Body))
				}
			}
		})
	}
}

func TestMessageMoveTaskToDestinationWithRate(t *testing.T) {
	e := newEnv(t, true)
	urls := e.redrivenQueues("orders")
	replay := e.createQueue("replay", nil)
	e.deadLetter(urls["orders"], "a", "b", "c", "d")

	_, err := e.client.StartMessageMoveTask(e.ctx(), &sqs.StartMessageMoveTaskInput{
		SourceArn: aws.String(e.arn("dlq")), DestinationArn: aws.String(e.arn("replay")), MaxNumberOfMessagesPerSecond: aws.Int32(2),
	})
	if err != nil {
		t.Fatal(err)
	}
	moved := func() int64 { return e.latestTask(e.arn("dlq")).ApproximateNumberOfMessagesMoved }
	waitFor(t, "the first second's messages", func() bool { return moved() == 2 })
	waitFor(t, "the task to sleep", func() bool { return e.clock.PendingTimers() > 0 })
	task := e.latestTask(e.arn("dlq"))
	if aws.ToString(task.Status) != "RUNNING" || task.TaskHandle == nil || aws.ToInt32(task.MaxNumberOfMessagesPerSecond) != 2 {
		t.Errorf("running task = status %s, handle %v, rate %v", aws.ToString(task.Status), task.TaskHandle, task.MaxNumberOfMessagesPerSecond)
	}
	if aws.ToString(task.DestinationArn) != e.arn("replay") {
		t.Errorf("DestinationArn = %s", aws.ToString(task.DestinationArn))
	}

	t.Run("a second task for the same source is refused", func(t *testing.T) {
		_, err := e.client.StartMessageMoveTask(e.ctx(), &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(e.arn("dlq"))})
		wantAPIError(t, err, "InvalidParameterValue", nil)
	})

	e.advance(time.Second)
	waitFor(t, "the second second's messages", func() bool { return moved() == 4 })
	waitFor(t, "completion", func() bool { return aws.ToString(e.latestTask(e.arn("dlq")).Status) == "COMPLETED" })
	if got := bodies(e.receive(replay, 10)); fmt.Sprint(got) != "[a b c d]" {
		t.Errorf("replay queue bodies = %v", got)
	}
	if got := e.receive(urls["orders"], 10); len(got) != 0 {
		t.Errorf("original source got %d messages, want none", len(got))
	}
}

func TestCancelMessageMoveTask(t *testing.T) {
	e := newEnv(t, true)
	urls := e.redrivenQueues("orders")
	e.deadLetter(urls["orders"], "a", "b", "c")
	out, err := e.client.StartMessageMoveTask(e.ctx(), &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(e.arn("dlq")), MaxNumberOfMessagesPerSecond: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the task to sleep after one message", func() bool { return e.clock.PendingTimers() > 0 })
	cancelled, err := e.client.CancelMessageMoveTask(e.ctx(), &sqs.CancelMessageMoveTaskInput{TaskHandle: out.TaskHandle})
	if err != nil || cancelled.ApproximateNumberOfMessagesMoved != 1 {
		t.Fatalf("CancelMessageMoveTask = %+v, %v; want 1 moved", cancelled, err)
	}
	e.advance(time.Second)
	waitFor(t, "CANCELLED", func() bool { return aws.ToString(e.latestTask(e.arn("dlq")).Status) == "CANCELLED" })
	if n := e.attrInt(urls["dlq"], "ApproximateNumberOfMessages"); n != 2 {
		t.Errorf("DLQ keeps %d messages, want the 2 not yet moved", n)
	}
	_, err = e.client.CancelMessageMoveTask(e.ctx(), &sqs.CancelMessageMoveTaskInput{TaskHandle: out.TaskHandle})
	wantAPIError(t, err, "InvalidParameterValue", nil)
}

func TestMessageMoveTaskErrors(t *testing.T) {
	e := newEnv(t, true)
	e.redrivenQueues("orders")
	e.createQueue("plain", nil)
	ctx := e.ctx()
	tests := []struct {
		name  string
		in    *sqs.StartMessageMoveTaskInput
		code  string
		typed any
	}{
		{"source does not exist", &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(e.arn("missing"))}, "ResourceNotFoundException", new(*types.ResourceNotFoundException)},
		{"source is not a dead-letter queue", &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(e.arn("plain"))}, "InvalidParameterValue", nil},
		{"destination does not exist", &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(e.arn("dlq")), DestinationArn: aws.String(e.arn("missing"))}, "ResourceNotFoundException", new(*types.ResourceNotFoundException)},
		{"rate above 500", &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(e.arn("dlq")), MaxNumberOfMessagesPerSecond: aws.Int32(501)}, "InvalidParameterValue", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.StartMessageMoveTask(ctx, tc.in)
			wantAPIError(t, err, tc.code, tc.typed)
		})
	}
	t.Run("cancel with a malformed handle", func(t *testing.T) {
		_, err := e.client.CancelMessageMoveTask(ctx, &sqs.CancelMessageMoveTaskInput{TaskHandle: aws.String("nonsense")})
		wantAPIError(t, err, "InvalidParameterValue", nil)
	})
	t.Run("list for a missing source", func(t *testing.T) {
		_, err := e.client.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(e.arn("missing"))})
		wantAPIError(t, err, "ResourceNotFoundException", new(*types.ResourceNotFoundException))
	})
}
