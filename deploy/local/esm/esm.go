// Package esm is otp-local's stand-in for Lambda's SQS event source
// mapping: it long-polls a queue with the real SQS client, invokes a
// function with the events.SQSEvent JSON Lambda would send, deletes what
// the function handled and leaves the batchItemFailures for redelivery.
//
// It owns no queue state: visibility, receive counts and redrive to the
// dead-letter queue are the queue's business, as they are on AWS.
package esm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSAPI is what the poller calls.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// Function is a Lambda function as the runtime sees it: JSON in, JSON out.
// The poller invokes it concurrently (up to MaxConcurrency), so it must be
// safe for that: lambdart.NewInProcess(h.Handle) is, a bare
// lambda.NewHandler is not.
type Function interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Config mirrors the event source mapping's settings on AWS.
type Config struct {
	QueueURL string
	QueueARN string
	Region   string
	// BatchSize is the most records per invocation (AWS: 1..10 without a
	// batching window).
	BatchSize int
	// BatchingWindow waits up to this long to fill a batch (AWS:
	// MaximumBatchingWindowInSeconds). Zero invokes with whatever one
	// receive returned.
	BatchingWindow time.Duration
	// MaxConcurrency is the number of invocations in flight at once (AWS:
	// ScalingConfig.MaximumConcurrency, at least 2).
	MaxConcurrency int
	// InvokeTimeout is the function's timeout.
	InvokeTimeout time.Duration

	// What Lambda's API (see API) reports of the mapping and the function;
	// the poller itself needs none of it. FunctionName is required there;
	// AccountID defaults to 000000000000. otp-local limits no memory, so
	// MemorySize is what the deployment gives the function. Environment is
	// the function's configuration, which a deployment check reads.
	FunctionName string
	AccountID    string
	MemorySize   int
	Environment  map[string]string
	// Disabled is a mapping switched off (UpdateEventSourceMapping
	// Enabled=false): State "Disabled", and Run polls nothing.
	Disabled bool
}

// Poller runs the mapping.
type Poller struct {
	Config   Config
	SQS      SQSAPI
	Function Function
	Log      *slog.Logger

	stats   Stats
	created sync.Once
	uuid    string
	since   time.Time
	stopped atomic.Bool
}

// Stats are running totals, for the ops page.
type Stats struct {
	Invocations     atomic.Int64
	Records         atomic.Int64
	Deleted         atomic.Int64
	ItemFailures    atomic.Int64
	FunctionErrors  atomic.Int64
	ReceiveFailures atomic.Int64
}

// Stats returns the running totals.
func (p *Poller) Stats() *Stats { return &p.stats }

func (c Config) validate() error {
	switch {
	case c.QueueURL == "":
		return errors.New("esm: QueueURL is required")
	case c.BatchSize < 1 || c.BatchSize > 10_000:
		return fmt.Errorf("esm: BatchSize %d: want 1..10000", c.BatchSize)
	case c.BatchSize > 10 && c.BatchingWindow <= 0:
		return fmt.Errorf("esm: BatchSize %d needs a BatchingWindow, as on AWS", c.BatchSize)
	case c.MaxConcurrency < 1:
		return fmt.Errorf("esm: MaxConcurrency %d: want at least 1", c.MaxConcurrency)
	}
	return nil
}

// Run polls until ctx ends. Each of MaxConcurrency workers receives,
// invokes and deletes in turn, so at most that many invocations run at once.
func (p *Poller) Run(ctx context.Context) error {
	if err := p.Config.validate(); err != nil {
		return err
	}
	p.identity()
	defer p.stopped.Store(true)
	if p.Config.Disabled {
		<-ctx.Done()
		return nil
	}
	var wg sync.WaitGroup
	for range p.Config.MaxConcurrency {
		wg.Go(func() { p.worker(ctx) })
	}
	wg.Wait()
	return nil
}

// defaultInvokeTimeout applies when Config.InvokeTimeout is not set.
const defaultInvokeTimeout = 30 * time.Second

func (p *Poller) invokeTimeout() time.Duration {
	if p.Config.InvokeTimeout <= 0 {
		return defaultInvokeTimeout
	}
	return p.Config.InvokeTimeout
}

func (p *Poller) worker(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		batch, err := p.collect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.stats.ReceiveFailures.Add(1)
			p.Log.Warn("esm receive failed", slog.String("error", err.Error()))
			sleep(ctx, backoff)
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		if len(batch) > 0 {
			p.invoke(ctx, batch)
		}
	}
}

// collect receives up to BatchSize messages, waiting at most the batching
// window once the first message is in. SQS waits in whole seconds, so the
// last sub-second of a window is short polls; rounding up instead could
// outlive a short visibility timeout and receive a message twice.
func (p *Poller) collect(ctx context.Context) ([]types.Message, error) {
	var batch []types.Message
	seen := map[string]int{}
	var windowEnd time.Time
	for len(batch) < p.Config.BatchSize {
		wait := int32(20) // long poll, as Lambda's pollers do
		var left time.Duration
		if len(batch) > 0 {
			left = time.Until(windowEnd)
			if left <= 0 {
				break
			}
			wait = int32(min(20, int(left/time.Second)))
		}
		out, err := p.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(p.Config.QueueURL),
			MaxNumberOfMessages:         int32(min(10, p.Config.BatchSize-len(batch))),
			WaitTimeSeconds:             wait,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if len(batch) > 0 && ctx.Err() == nil {
				break // invoke with what we have; the error shows up on the next receive
			}
			return batch, err
		}
		if len(batch) == 0 && len(out.Messages) > 0 {
			windowEnd = time.Now().Add(p.Config.BatchingWindow)
		}
		for _, m := range out.Messages {
			if i, dup := seen[aws.ToString(m.MessageId)]; dup {
				batch[i] = m // the newer receipt handle is the valid one
				continue
			}
			seen[aws.ToString(m.MessageId)] = len(batch)
			batch = append(batch, m)
		}
		if p.Config.BatchingWindow <= 0 && len(batch) > 0 {
			break
		}
		if len(out.Messages) == 0 && wait == 0 {
			sleep(ctx, min(left, 50*time.Millisecond))
		}
	}
	return batch, nil
}

// invoke calls the function and deletes what it handled.
func (p *Poller) invoke(ctx context.Context, batch []types.Message) {
	ev := p.event(batch)
	payload, err := json.Marshal(ev)
	if err != nil {
		p.Log.Error("esm cannot encode event", slog.String("error", err.Error()))
		return
	}
	p.stats.Invocations.Add(1)
	p.stats.Records.Add(int64(len(batch)))
	ictx, cancel := context.WithTimeout(ctx, p.invokeTimeout())
	out, err := p.Function.Invoke(ictx, payload)
	cancel()
	if err != nil {
		// As on AWS: a function error returns the whole batch to the queue
		// when the visibility timeout ends.
		p.stats.FunctionErrors.Add(1)
		p.Log.Warn("esm function error, whole batch will be redelivered", slog.Int("records", len(batch)), slog.String("error", err.Error()))
		return
	}
	failed, ok := failures(out, batch)
	if !ok {
		p.stats.FunctionErrors.Add(1)
		p.Log.Warn("esm function response names unknown items, whole batch will be redelivered", slog.Int("records", len(batch)))
		return
	}
	p.stats.ItemFailures.Add(int64(len(failed)))
	p.deleteHandled(ctx, batch, failed)
}

// failures reads batchItemFailures. An identifier that is not in the batch
// (or is empty) makes Lambda treat the whole batch as failed.
func failures(out []byte, batch []types.Message) (map[string]bool, bool) {
	var resp events.SQSEventResponse
	if len(out) > 0 && string(out) != "null" {
		if err := json.Unmarshal(out, &resp); err != nil {
			return nil, false
		}
	}
	inBatch := make(map[string]bool, len(batch))
	for _, m := range batch {
		inBatch[aws.ToString(m.MessageId)] = true
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		if !inBatch[f.ItemIdentifier] {
			return nil, false
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, true
}

func (p *Poller) deleteHandled(ctx context.Context, batch []types.Message, failed map[string]bool) {
	var entries []types.DeleteMessageBatchRequestEntry
	for i, m := range batch {
		if failed[aws.ToString(m.MessageId)] {
			continue
		}
		entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	for start := 0; start < len(entries); start += 10 {
		chunk := entries[start:min(start+10, len(entries))]
		out, err := p.SQS.DeleteMessageBatch(context.WithoutCancel(ctx), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.Config.QueueURL), Entries: chunk})
		if err != nil {
			p.Log.Warn("esm delete failed; messages will be redelivered", slog.Int("records", len(chunk)), slog.String("error", err.Error()))
			continue
		}
		p.stats.Deleted.Add(int64(len(out.Successful)))
		for _, f := range out.Failed {
			p.Log.Warn("esm delete failed for one message", slog.String("code", aws.ToString(f.Code)))
		}
	}
}

// event builds the SQS event Lambda sends, field for field.
func (p *Poller) event(batch []types.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(batch))}
	for i, m := range batch {
		attrs := make(map[string]string, len(m.Attributes))
		for k, v := range m.Attributes {
			attrs[k] = v
		}
		mattrs := make(map[string]events.SQSMessageAttribute, len(m.MessageAttributes))
		for k, v := range m.MessageAttributes {
			mattrs[k] = events.SQSMessageAttribute{
				StringValue: v.StringValue, BinaryValue: v.BinaryValue,
				StringListValues: v.StringListValues, BinaryListValues: v.BinaryListValues,
				DataType: aws.ToString(v.DataType),
			}
		}
		ev.Records[i] = events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             attrs,
			MessageAttributes:      mattrs,
			EventSource:            "aws:sqs",
			EventSourceARN:         p.Config.QueueARN,
			AWSRegion:              p.Config.Region,
		}
	}
	return ev
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
