package sqslocal

import (
	"fmt"
	"sort"
	"time"
)

// The Go API below is for otp-local itself (setup and the ops page). It
// applies the same validation as the HTTP operations.

// CreateQueue creates a standard queue, or returns the existing one's URL
// when every attribute given matches it (as the CreateQueue operation
// does). attrs uses SQS attribute names, e.g. "VisibilityTimeout" or
// "RedrivePolicy". The URL is built on the server's base URL.
func (s *Server) CreateQueue(name string, attrs map[string]string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.createQueue(name, attrs, nil); err != nil {
		return "", fmt.Errorf("sqslocal: create queue %q: %w", name, err)
	}
	return s.queueURL(s.baseURL, name), nil
}

// QueueURL returns the URL of an existing queue, built on the base URL.
func (s *Server) QueueURL(name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queues[name] == nil {
		return "", fmt.Errorf("sqslocal: queue %q: %w", name, errQueueDoesNotExist())
	}
	return s.queueURL(s.baseURL, name), nil
}

// QueueARN returns the ARN a queue with this name has (or would have).
func (s *Server) QueueARN(name string) string { return s.queueARN(name) }

// QueueStats is one queue's state, for an ops page.
type QueueStats struct {
	Name string
	URL  string
	ARN  string
	// Visible, InFlight and Delayed are the ApproximateNumberOfMessages,
	// ...NotVisible and ...Delayed attributes.
	Visible  int
	InFlight int
	Delayed  int
	// OldestAge is the age of the oldest message in the queue (zero when
	// empty). Like SQS's ApproximateAgeOfOldestMessage it counts, for a
	// message redriven into a DLQ, from the move, not the original send.
	OldestAge time.Duration
	// AgeOfOldestMessage is ApproximateAgeOfOldestMessage as SQS reports
	// it to CloudWatch, which differs from OldestAge: a message received
	// three times or more and still not deleted is left out, as SQS moves
	// it to the back of the queue and the metric skips such poison pills
	// until they are consumed. HasActive is false when no message counts,
	// and SQS then reports no age at all.
	AgeOfOldestMessage time.Duration
	HasActive          bool
	// Sent, Received and Deleted count since the queue was created, as
	// NumberOfMessagesSent, ...Received and ...Deleted do per minute: a
	// send, a move task's delivery; each message a receive returns; each
	// delete that removed a message. A redrive policy's move to a DLQ is
	// not a send.
	Sent, Received, Deleted int64
	// DeadLetterQueue and MaxReceiveCount come from the redrive policy.
	DeadLetterQueue string
	MaxReceiveCount int
	// DLQOf lists the queues that use this queue as their dead-letter queue.
	DLQOf []string
	// Pollers is the number of long polls waiting on the queue right now.
	Pollers int
}

// poisonReceives is the receive count from which SQS leaves a message
// out of ApproximateAgeOfOldestMessage: "after a message is received
// three times (or more) and not processed, the message is moved to the
// back of the queue" and the metric points at the next one
// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html).
const poisonReceives = 3

// Stats returns every queue's state, sorted by name.
func (s *Server) Stats() []QueueStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	out := make([]QueueStats, 0, len(s.queues))
	for _, q := range s.queues {
		q.expire(now)
		st := QueueStats{Name: q.name, URL: s.queueURL(s.baseURL, q.name), ARN: q.arn, Pollers: q.pollers}
		st.Visible, st.InFlight, st.Delayed = q.counts(now)
		for _, m := range q.msgs {
			age := now.Sub(m.arrived)
			st.OldestAge = max(st.OldestAge, age)
			if m.receiveCount-m.receivesBefore < poisonReceives {
				st.AgeOfOldestMessage, st.HasActive = max(st.AgeOfOldestMessage, age), true
			}
		}
		st.Sent, st.Received, st.Deleted = q.sentCount, q.receivedCount, q.deletedCount
		if rp := q.cfg.redrive; rp != nil {
			st.DeadLetterQueue, _ = s.nameFromARN(rp.DeadLetterTargetArn)
			st.MaxReceiveCount = rp.MaxReceiveCount
		}
		for _, src := range s.sourcesOf(q) {
			st.DLQOf = append(st.DLQOf, src.name)
		}
		sort.Strings(st.DLQOf)
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// MessageInfo is a read-only view of a message, for an ops page that lists
// a DLQ without receiving from it (a receive would change the messages).
type MessageInfo struct {
	ID           string
	Body         string
	Attributes   map[string]string // string-typed message attributes only
	SentAt       time.Time
	ReceiveCount int
	State        string // "visible", "in flight" or "delayed"
	// DeadLetterSource is the queue the message was dead-lettered from.
	DeadLetterSource string
}

// Messages returns the messages of a queue in enqueue order, without
// receiving them.
func (s *Server) Messages(queueName string) ([]MessageInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[queueName]
	if q == nil {
		return nil, fmt.Errorf("sqslocal: messages of %q: %w", queueName, errQueueDoesNotExist())
	}
	now := s.clock.Now()
	q.expire(now)
	out := make([]MessageInfo, 0, len(q.msgs))
	for _, m := range q.msgs {
		info := MessageInfo{ID: m.id, Body: m.body, SentAt: m.sent, ReceiveCount: m.receiveCount}
		switch {
		case m.visible(now):
			info.State = "visible"
		case m.inFlight:
			info.State = "in flight"
		default:
			info.State = "delayed"
		}
		if m.dlqSourceArn != "" {
			info.DeadLetterSource, _ = s.nameFromARN(m.dlqSourceArn)
		}
		for n, a := range m.attrs {
			if a.StringValue != nil {
				if info.Attributes == nil {
					info.Attributes = map[string]string{}
				}
				info.Attributes[n] = *a.StringValue
			}
		}
		out = append(out, info)
	}
	return out, nil
}
