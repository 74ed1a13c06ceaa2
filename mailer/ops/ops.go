// Package ops is what an operator does with the send queue and its
// dead-letter queue: read their depth, list dead letters with the reason
// the mailer gave, and redrive them. otpctl and otp-local's ops page both
// use it, against AWS or otp-local alike.
//
// Nothing here shows a code: a dead letter's body is redacted before it
// leaves this package, and any address in it or in the error is masked.
package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

// SQSAPI is the SQS calls operators need.
type SQSAPI interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, opts ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	StartMessageMoveTask(ctx context.Context, in *sqs.StartMessageMoveTaskInput, opts ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error)
	ListMessageMoveTasks(ctx context.Context, in *sqs.ListMessageMoveTasksInput, opts ...func(*sqs.Options)) (*sqs.ListMessageMoveTasksOutput, error)
}

// Queues names the send queue and its dead-letter queue.
type Queues struct {
	Client          SQSAPI
	SendQueue       string // URL
	DeadLetterQueue string // URL
	// ShortPoll lists without waiting. Real SQS answers a short poll from a
	// sample of its servers and can miss messages, so listings long-poll a
	// second by default; an endpoint without sampling (otp-local) can skip it.
	ShortPoll bool
	// InFlightWait is how long a redrive of everything waits for dead
	// letters that are in flight (hidden by someone's listing) to come
	// back and be moved too. Default: a listing's hold, plus a margin.
	InFlightWait time.Duration
}

// Open resolves queue names (as otp-local creates them) or URLs (as the SAM
// stack outputs them).
func Open(ctx context.Context, c SQSAPI, sendQueue, deadLetterQueue string) (Queues, error) {
	q := Queues{Client: c}
	var err error
	if q.SendQueue, err = resolve(ctx, c, sendQueue); err != nil {
		return q, err
	}
	if q.DeadLetterQueue, err = resolve(ctx, c, deadLetterQueue); err != nil {
		return q, err
	}
	return q, nil
}

func resolve(ctx context.Context, c SQSAPI, nameOrURL string) (string, error) {
	if strings.HasPrefix(nameOrURL, "http://") || strings.HasPrefix(nameOrURL, "https://") {
		return nameOrURL, nil
	}
	out, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(nameOrURL)})
	if err != nil {
		return "", fmt.Errorf("find queue %q: %w", nameOrURL, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// QueueStatus is one queue's depth, from SQS, and the age of its oldest
// message, which SQS's API does not report: OldestAges reads it from
// CloudWatch.
type QueueStatus struct {
	Role     string `json:"role"` // "send" or "dead-letter"
	Name     string `json:"name"`
	URL      string `json:"url"`
	Visible  int64  `json:"visible"`
	InFlight int64  `json:"inFlight"`
	Delayed  int64  `json:"delayed"`
	// OldestAgeSeconds is AWS/SQS ApproximateAgeOfOldestMessage, the
	// latest datapoint of the last five minutes; nil without one (an empty
	// queue reports none, and neither does CloudWatch when it cannot be
	// read). OldestAgeAt is that datapoint's minute: SQS's metrics reach
	// CloudWatch once a minute, so the age is at least that old.
	OldestAgeSeconds *float64   `json:"oldestAgeSeconds"`
	OldestAgeAt      *time.Time `json:"oldestAgeAt,omitempty"`
}

// Status reads both queues' counters.
func (q Queues) Status(ctx context.Context) ([]QueueStatus, error) {
	var out []QueueStatus
	for _, x := range []struct{ role, url string }{{"send", q.SendQueue}, {"dead-letter", q.DeadLetterQueue}} {
		attrs, err := q.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(x.url),
			AttributeNames: []types.QueueAttributeName{
				types.QueueAttributeNameApproximateNumberOfMessages,
				types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
				types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
			},
		})
		if err != nil {
			return nil, fmt.Errorf("read %s queue attributes: %w", x.role, err)
		}
		count := func(name types.QueueAttributeName) int64 {
			n, _ := strconv.ParseInt(attrs.Attributes[string(name)], 10, 64)
			return n
		}
		out = append(out, QueueStatus{
			Role: x.role, URL: x.url, Name: x.url[strings.LastIndexByte(x.url, '/')+1:],
			Visible:  count(types.QueueAttributeNameApproximateNumberOfMessages),
			InFlight: count(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible),
			Delayed:  count(types.QueueAttributeNameApproximateNumberOfMessagesDelayed),
		})
	}
	return out, nil
}

// ReasonMaxReceives is the reason of a dead letter that SQS's redrive
// policy moved: the mailer failed it maxReceiveCount times with transient
// errors and never dead-lettered it itself.
const ReasonMaxReceives = "max_receives"

// DeadLetter is one DLQ message as an operator may see it.
type DeadLetter struct {
	MessageID string    `json:"messageId"`
	RequestID string    `json:"requestId,omitempty"`
	Reason    string    `json:"reason"`
	Tenant    string    `json:"tenant,omitempty"`
	To        string    `json:"to,omitempty"` // masked
	Error     string    `json:"error,omitempty"`
	SentAt    time.Time `json:"sentAt"` // when the trigger enqueued it
	Age       string    `json:"age"`    // since SentAt
	// DeadLetteredAt is when it entered the dead-letter queue, the clock
	// of the queue's ApproximateAgeOfOldestMessage: a dead letter the
	// mailer wrote was sent there then. One SQS's redrive policy moved
	// (MovedBySQS) keeps its first SentTimestamp, so its move time is not
	// in the message and DeadLetteredAt is zero.
	DeadLetteredAt time.Time `json:"deadLetteredAt,omitzero"`
	InQueue        string    `json:"inQueue,omitempty"` // since DeadLetteredAt
	MovedBySQS     bool      `json:"movedBySQS,omitempty"`
	ExpiresAt      time.Time `json:"expiresAt,omitzero"`
	Expired        bool      `json:"expired"`
	// CodeRemoved: the mailer took the code out when it dead-lettered the
	// request, so a redrive can only drop it. Only dead letters SQS moved
	// by itself (a mailer that crashed on the last receive) keep theirs.
	CodeRemoved  bool   `json:"codeRemoved"`
	ReceiveCount int    `json:"receiveCount"`
	Body         string `json:"body"` // redacted
	// TemplateSet and TemplateVersion are what rendered the request, when
	// the mailer dead-lettered it after rendering (SES refused it, or it
	// kept failing): which template version was live.
	TemplateSet     string `json:"templateSet,omitempty"`
	TemplateVersion string `json:"templateVersion,omitempty"`
}

// peekVisibility hides messages while they are being listed; they are
// released again as soon as the listing ends.
const peekVisibility = 30

// peek receives up to max messages from the DLQ, hands them to use, and
// makes the ones use did not consume visible again.
func (q Queues) peek(ctx context.Context, max int, use func([]types.Message) (consumed map[string]bool, err error)) error {
	var msgs []types.Message
	seen := map[string]bool{}
	for len(msgs) < max {
		out, err := q.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(q.DeadLetterQueue),
			MaxNumberOfMessages:         int32(min(10, max-len(msgs))),
			VisibilityTimeout:           peekVisibility,
			WaitTimeSeconds:             q.pollWait(),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			return errors.Join(fmt.Errorf("receive from the dead-letter queue: %w", err), q.release(context.WithoutCancel(ctx), msgs, nil))
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			if !seen[aws.ToString(m.MessageId)] {
				seen[aws.ToString(m.MessageId)] = true
				msgs = append(msgs, m)
			}
		}
	}
	consumed, err := use(msgs)
	if rerr := q.release(context.WithoutCancel(ctx), msgs, consumed); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}

func (q Queues) pollWait() int32 {
	if q.ShortPoll {
		return 0
	}
	return 1
}

// release makes messages visible again at once. A message it cannot
// release stays hidden until peekVisibility passes, and a redrive started
// before then would skip it; so failures are reported, not swallowed.
func (q Queues) release(ctx context.Context, msgs []types.Message, consumed map[string]bool) error {
	var entries []types.ChangeMessageVisibilityBatchRequestEntry
	for i, m := range msgs {
		if consumed[aws.ToString(m.MessageId)] {
			continue
		}
		entries = append(entries, types.ChangeMessageVisibilityBatchRequestEntry{
			Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0,
		})
	}
	hidden := 0
	var errs []error
	for start := 0; start < len(entries); start += 10 {
		batch := entries[start:min(start+10, len(entries))]
		out, err := q.Client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
			QueueUrl: aws.String(q.DeadLetterQueue), Entries: batch,
		})
		switch {
		case err != nil:
			hidden += len(batch)
			errs = append(errs, err)
		case len(out.Failed) > 0:
			hidden += len(out.Failed)
			errs = append(errs, fmt.Errorf("%s: %s", aws.ToString(out.Failed[0].Code), aws.ToString(out.Failed[0].Message)))
		}
	}
	if hidden > 0 {
		return fmt.Errorf("%d dead letters stay hidden for %d s after listing: %w", hidden, peekVisibility, errors.Join(errs...))
	}
	return nil
}

// ListDeadLetters returns up to max dead letters, oldest first, redacted.
func (q Queues) ListDeadLetters(ctx context.Context, max int, now time.Time) ([]DeadLetter, error) {
	var out []DeadLetter
	err := q.peek(ctx, max, func(msgs []types.Message) (map[string]bool, error) {
		for _, m := range msgs {
			out = append(out, describe(m, now))
		}
		return nil, nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].SentAt.Before(out[j].SentAt) })
	return out, err
}

func describe(m types.Message, now time.Time) DeadLetter {
	attr := func(name string) string { return aws.ToString(m.MessageAttributes[name].StringValue) }
	d := DeadLetter{
		MessageID: aws.ToString(m.MessageId),
		Reason:    attr(mailer.AttrReason),
		Tenant:    attr(contract.AttrTenant),
		Error:     contract.ScrubAddresses(attr(mailer.AttrError)),
	}
	if d.Reason == "" {
		d.Reason = ReasonMaxReceives
		d.MovedBySQS = true
	} else if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		d.DeadLetteredAt = time.UnixMilli(ms).UTC()
		d.InQueue = now.Sub(d.DeadLetteredAt).Round(time.Second).String()
	}
	if d.MessageID == "" {
		d.MessageID = "?"
	}
	sent := attr(mailer.AttrFirstSent)
	if sent == "" {
		sent = m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)]
	}
	if ms, err := strconv.ParseInt(sent, 10, 64); err == nil {
		d.SentAt = time.UnixMilli(ms).UTC()
		d.Age = now.Sub(d.SentAt).Round(time.Second).String()
	}
	if n, err := strconv.Atoi(attr(mailer.AttrReceiveCount)); err == nil {
		d.ReceiveCount = n
	} else if n, err := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]); err == nil {
		d.ReceiveCount = n
	}
	d.Body, d.RequestID, d.To, d.ExpiresAt = redactBody(aws.ToString(m.Body))
	if d.Tenant == "" {
		d.Tenant = tenantOf(aws.ToString(m.Body))
	}
	d.Expired = !d.ExpiresAt.IsZero() && !now.Before(d.ExpiresAt)
	d.CodeRemoved = attr(mailer.AttrRedacted) == "true"
	d.TemplateSet, d.TemplateVersion = attr(mailer.AttrTemplateSet), attr(mailer.AttrTemplateVersion)
	return d
}

// Sendable reports whether a redrive could still deliver the dead letter's
// code: it has one, and it has not expired.
func (d DeadLetter) Sendable() bool { return d.CodeState() == "fresh" }

// CodeState says what a redrive would do with the dead letter's code:
// "fresh" (it would be sent), "expired" or "removed" (it would be counted
// and dropped), or "none" (the body is no send request with an expiry:
// the mailer would dead-letter it again).
func (d DeadLetter) CodeState() string {
	switch {
	case d.CodeRemoved:
		return "removed"
	case d.ExpiresAt.IsZero():
		return "none"
	case d.Expired:
		return "expired"
	}
	return "fresh"
}

// redactedFields are the body fields an operator never sees.
var redactedFields = map[string]bool{"code": true, "name": true}

// redactBody re-encodes a JSON body with the code and name replaced and the
// address masked. A body that is not a JSON object is withheld entirely:
// it could hold a code anywhere.
func redactBody(body string) (redacted, requestID, to string, expiresAt time.Time) {
	var fields map[string]any
	if err := json.Unmarshal([]byte(body), &fields); err != nil {
		return fmt.Sprintf("(%d bytes that are not a JSON object; withheld)", len(body)), "", "", time.Time{}
	}
	for k, v := range fields {
		switch s, isString := v.(string); {
		case redactedFields[k]:
			fields[k] = "[redacted]"
		case k == "to" && isString:
			to = contract.MaskEmail(s)
			fields[k] = to
		case isString:
			fields[k] = contract.ScrubAddresses(s)
		case k != "v":
			// Nested or numeric values are not part of the contract; a
			// misplaced code could hide in them.
			fields[k] = "[redacted]"
		}
	}
	requestID, _ = fields["id"].(string)
	if s, ok := fields["expiresAt"].(string); ok {
		expiresAt, _ = time.Parse(time.RFC3339, s)
	}
	b, _ := json.Marshal(fields)
	return string(b), requestID, to, expiresAt
}

func tenantOf(body string) string {
	var v struct {
		Tenant string `json:"tenant"`
	}
	_ = json.Unmarshal([]byte(body), &v)
	return v.Tenant
}

// ErrNothingToRedrive is returned when no dead letter matches.
var ErrNothingToRedrive = errors.New("no dead letters match")

// Redrive moves dead letters back to the send queue, all of them or those
// with one reason. The mailer will send those that still hold a valid code
// and drop (and count) the rest: expired ones, and those it removed the
// code from. It returns how many were moved.
func (q Queues) Redrive(ctx context.Context, reason string) (int, error) {
	if reason == "" {
		return q.redriveAll(ctx)
	}
	moved := 0
	err := q.peek(ctx, 10_000, func(msgs []types.Message) (map[string]bool, error) {
		consumed := map[string]bool{}
		for _, m := range msgs {
			if describe(m, time.Now()).Reason != reason {
				continue
			}
			if _, err := q.Client.SendMessage(ctx, &sqs.SendMessageInput{
				QueueUrl: aws.String(q.SendQueue), MessageBody: m.Body, MessageAttributes: sendAttributes(m),
			}); err != nil {
				return consumed, fmt.Errorf("redrive %s: %w", aws.ToString(m.MessageId), err)
			}
			if _, err := q.Client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.DeadLetterQueue), ReceiptHandle: m.ReceiptHandle}); err != nil {
				// Sent but not deleted: the mailer's duplicate filter and the
				// code's expiry keep a second copy from reaching the user twice.
				return consumed, fmt.Errorf("redrive %s: delete from the dead-letter queue: %w", aws.ToString(m.MessageId), err)
			}
			consumed[aws.ToString(m.MessageId)] = true
			moved++
		}
		return consumed, nil
	})
	if err == nil && moved == 0 {
		err = ErrNothingToRedrive
	}
	return moved, err
}

// sendAttributes keeps a message's contract attributes and drops the
// dead-letter ones, which describe a failure that the redrive ends.
func sendAttributes(m types.Message) map[string]types.MessageAttributeValue {
	out := map[string]types.MessageAttributeValue{}
	for _, k := range []string{contract.AttrVersion, contract.AttrTenant, contract.AttrKind, mailer.AttrRedacted} {
		if v, ok := m.MessageAttributes[k]; ok {
			out[k] = types.MessageAttributeValue{DataType: v.DataType, StringValue: v.StringValue}
		}
	}
	return out
}

// redriveAll moves every dead letter with SQS's own message move task. A
// move task skips messages in flight, which a listing (otpctl's own, just
// before, or another operator's) hides for a while; so when some remain,
// it waits for them to come back and moves them with another task.
func (q Queues) redriveAll(ctx context.Context) (int, error) {
	wait := q.InFlightWait
	if wait <= 0 {
		wait = (peekVisibility + 10) * time.Second
	}
	moved := 0
	for {
		n, err := q.moveTask(ctx)
		moved += n
		if err != nil {
			return moved, err
		}
		st, err := q.Status(ctx)
		if err != nil || len(st) < 2 || st[1].InFlight == 0 {
			return moved, nil
		}
		if wait <= 0 {
			return moved, fmt.Errorf("%d dead letters stayed in flight and are still in the DLQ; run the redrive again later", st[1].InFlight)
		}
		if err := q.awaitVisible(ctx, &wait); err != nil {
			return moved, err
		}
	}
}

// awaitVisible polls until the DLQ has no message in flight or *budget is
// spent, deducting the time waited.
func (q Queues) awaitVisible(ctx context.Context, budget *time.Duration) error {
	for *budget > 0 {
		step := min(time.Second, *budget)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(step):
		}
		*budget -= step
		if st, err := q.Status(ctx); err == nil && len(st) == 2 && st[1].InFlight == 0 {
			return nil
		}
	}
	return nil
}

// moveTask runs one message move task to completion.
func (q Queues) moveTask(ctx context.Context) (int, error) {
	arns := map[string]string{}
	for _, u := range []string{q.SendQueue, q.DeadLetterQueue} {
		out, err := q.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
		if err != nil {
			return 0, fmt.Errorf("read queue ARN: %w", err)
		}
		arns[u] = out.Attributes[string(types.QueueAttributeNameQueueArn)]
	}
	task, err := q.Client.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{
		SourceArn: aws.String(arns[q.DeadLetterQueue]), DestinationArn: aws.String(arns[q.SendQueue]),
	})
	if err != nil {
		return 0, fmt.Errorf("start message move task: %w", err)
	}
	for {
		out, err := q.Client.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(arns[q.DeadLetterQueue]), MaxResults: aws.Int32(10)})
		if err != nil {
			return 0, fmt.Errorf("follow message move task: %w", err)
		}
		for i, r := range out.Results {
			// SQS lists the newest task first and shows a TaskHandle only
			// while a task runs; a finished one is recognised by position.
			if h := aws.ToString(r.TaskHandle); h != aws.ToString(task.TaskHandle) && (h != "" || i != 0) {
				continue
			}
			switch aws.ToString(r.Status) {
			case "COMPLETED":
				return int(r.ApproximateNumberOfMessagesMoved), nil
			case "FAILED", "CANCELLED":
				return int(r.ApproximateNumberOfMessagesMoved), fmt.Errorf("message move task %s: %s", aws.ToString(r.Status), aws.ToString(r.FailureReason))
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
