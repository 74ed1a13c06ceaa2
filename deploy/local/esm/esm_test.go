package esm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/sqslocal"
)

// function records what it is invoked with and answers with respond.
type function struct {
	mu       sync.Mutex
	events   []events.SQSEvent
	receives map[string][]string // body -> ApproximateReceiveCount per delivery
	respond  func(events.SQSEvent) ([]byte, error)
}

func (f *function) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.events = append(f.events, ev)
	if f.receives == nil {
		f.receives = map[string][]string{}
	}
	for _, r := range ev.Records {
		f.receives[r.Body] = append(f.receives[r.Body], r.Attributes["ApproximateReceiveCount"])
	}
	f.mu.Unlock()
	if f.respond == nil {
		return []byte(`{"batchItemFailures":[]}`), nil
	}
	return f.respond(ev)
}

type env struct {
	client    *sqs.Client
	queue     string
	dlq       string
	local     *sqslocal.Server
	runPoller func(*function, Config)
}

func setup(t *testing.T) *env {
	t.Helper()
	local := sqslocal.New(sqslocal.Options{})
	srv := httptest.NewServer(local)
	t.Cleanup(func() { local.Close(); srv.Close() })
	client := sqs.NewFromConfig(awslocal.Config(srv.URL))
	dlq, err := local.CreateQueue("dlq", nil)
	if err != nil {
		t.Fatal(err)
	}
	redrive := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"3"}`, local.QueueARN("dlq"))
	q, err := local.CreateQueue("work", map[string]string{"VisibilityTimeout": "1", "RedrivePolicy": redrive})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{client: client, queue: q, dlq: dlq, local: local}
	e.runPoller = func(f *function, cfg Config) {
		ctx, cancel := context.WithCancel(context.Background())
		cfg.QueueURL, cfg.QueueARN, cfg.Region = q, local.QueueARN("work"), "us-east-1"
		p := &Poller{Config: cfg, SQS: client, Function: f, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		done := make(chan struct{})
		go func() { defer close(done); _ = p.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	return e
}

func (e *env) send(t *testing.T, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if _, err := e.client.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(e.queue), MessageBody: aws.String(b),
			MessageAttributes: map[string]types.MessageAttributeValue{"otp_tenant": {DataType: aws.String("String"), StringValue: aws.String("acme")}}}); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *env) depth(t *testing.T, url string) (visible, inFlight int) {
	t.Helper()
	out, err := e.client.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	visible, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	inFlight, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return visible, inFlight
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHandledMessagesAreDeleted(t *testing.T) {
	e := setup(t)
	f := &function{}
	e.runPoller(f, Config{BatchSize: 10, MaxConcurrency: 2})
	e.send(t, "a", "b", "c")
	eventually(t, "the queue to drain", func() bool { v, n := e.depth(t, e.queue); return v == 0 && n == 0 })
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.receives) != 3 {
		t.Errorf("function saw %v", f.receives)
	}
	r := f.events[0].Records[0]
	if r.EventSource != "aws:sqs" || r.EventSourceARN != e.local.QueueARN("work") || r.AWSRegion != "us-east-1" ||
		r.ReceiptHandle == "" || r.Md5OfBody == "" || r.Attributes["SentTimestamp"] == "" ||
		aws.ToString(r.MessageAttributes["otp_tenant"].StringValue) != "acme" || r.MessageAttributes["otp_tenant"].DataType != "String" {
		t.Errorf("record is not what Lambda sends: %+v", r)
	}
}

func TestItemFailuresAreRedeliveredThenDeadLettered(t *testing.T) {
	e := setup(t)
	f := &function{respond: func(ev events.SQSEvent) ([]byte, error) {
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			if r.Body == "poison" {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		return json.Marshal(resp)
	}}
	e.runPoller(f, Config{BatchSize: 10, MaxConcurrency: 2})
	e.send(t, "fine", "poison")
	eventually(t, "the poison message to reach the DLQ", func() bool { v, _ := e.depth(t, e.dlq); return v == 1 })
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := fmt.Sprint(f.receives["poison"]); got != "[1 2 3]" {
		t.Errorf("poison delivered with receive counts %s, want [1 2 3] then the DLQ", got)
	}
	if got := fmt.Sprint(f.receives["fine"]); got != "[1]" {
		t.Errorf("the handled message was delivered %s times, want once", got)
	}
}

func TestFunctionErrorRedeliversTheWholeBatch(t *testing.T) {
	e := setup(t)
	var mu sync.Mutex
	calls := 0
	f := &function{respond: func(ev events.SQSEvent) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return nil, errors.New("crashed")
		}
		return nil, nil
	}}
	e.send(t, "x", "y")
	e.runPoller(f, Config{BatchSize: 10, BatchingWindow: 200 * time.Millisecond, MaxConcurrency: 1})
	eventually(t, "the queue to drain", func() bool { v, n := e.depth(t, e.queue); return v == 0 && n == 0 })
	f.mu.Lock()
	defer f.mu.Unlock()
	if fmt.Sprint(f.receives["x"], f.receives["y"]) != "[1 2] [1 2]" {
		t.Errorf("deliveries %v: want both messages again after the error", f.receives)
	}
}

func TestUnknownItemIdentifierFailsTheWholeBatch(t *testing.T) {
	out := []byte(`{"batchItemFailures":[{"itemIdentifier":"not-in-batch"}]}`)
	batch := []types.Message{{MessageId: aws.String("m-1")}}
	if _, ok := failures(out, batch); ok {
		t.Error("an identifier outside the batch must fail the whole batch, as Lambda does")
	}
	if failed, ok := failures([]byte(`null`), batch); !ok || len(failed) != 0 {
		t.Error("a null response means every record succeeded")
	}
}

func TestBatchingWindowFillsBatches(t *testing.T) {
	e := setup(t)
	f := &function{}
	for i := range 25 {
		e.send(t, strconv.Itoa(i))
	}
	e.runPoller(f, Config{BatchSize: 25, BatchingWindow: 500 * time.Millisecond, MaxConcurrency: 1})
	eventually(t, "the queue to drain", func() bool { v, n := e.depth(t, e.queue); return v == 0 && n == 0 })
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) != 1 || len(f.events[0].Records) != 25 {
		sizes := []int{}
		for _, ev := range f.events {
			sizes = append(sizes, len(ev.Records))
		}
		t.Errorf("batch sizes %v, want one batch of 25", sizes)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, c := range []Config{
		{BatchSize: 10, MaxConcurrency: 1},
		{QueueURL: "q", BatchSize: 0, MaxConcurrency: 1},
		{QueueURL: "q", BatchSize: 11, MaxConcurrency: 1},
		{QueueURL: "q", BatchSize: 10, MaxConcurrency: 0},
	} {
		if err := c.validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
