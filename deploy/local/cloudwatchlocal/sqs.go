package cloudwatchlocal

import (
	"context"
	"sync"
	"time"
)

// SQSNamespace is where SQS publishes its queue metrics, by QueueName.
const SQSNamespace = "AWS/SQS"

// The AWS/SQS metrics the sampler publishes
// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html).
const (
	MetricAgeOfOldestMessage = "ApproximateAgeOfOldestMessage"
	MetricVisible            = "ApproximateNumberOfMessagesVisible"
	MetricNotVisible         = "ApproximateNumberOfMessagesNotVisible"
	MetricDelayed            = "ApproximateNumberOfMessagesDelayed"
	MetricSent               = "NumberOfMessagesSent"
	MetricReceived           = "NumberOfMessagesReceived"
	MetricDeleted            = "NumberOfMessagesDeleted"
)

// QueueSample is one queue's state when sampled.
type QueueSample struct {
	Name                         string
	Visible, NotVisible, Delayed int
	// AgeOfOldestMessage counts only when HasActive: with no message that
	// counts, SQS reports no age at all.
	AgeOfOldestMessage time.Duration
	HasActive          bool
	// Sent, Received and Deleted count since the queue was created; the
	// sampler publishes the difference since its last sample.
	Sent, Received, Deleted int64
}

// SQSSampler publishes the AWS/SQS metrics of the queues Queues reports,
// as SQS publishes them: one value per queue and metric per sample, the
// counters as the change since the previous sample. Every queue is
// sampled: on AWS a queue untouched for six hours stops reporting, and
// otp-local's event source mapping touches the send queue all the time.
type SQSSampler struct {
	Store  *Store
	Queues func() []QueueSample

	mu   sync.Mutex
	last map[string]QueueSample
}

// Sample publishes the queues' state now, stamped at.
func (s *SQSSampler) Sample(at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = map[string]QueueSample{}
	}
	for _, q := range s.Queues() {
		m := func(name string) Metric {
			return Metric{Namespace: SQSNamespace, Name: name, Dimensions: []Dimension{{Name: "QueueName", Value: q.Name}}}
		}
		// What SQS reports only while there is something to report:
		// in-flight and delayed counts while such messages exist, the age
		// while a message counts for it.
		s.Store.Put(m(MetricVisible), "Count", at, float64(q.Visible))
		if q.NotVisible > 0 {
			s.Store.Put(m(MetricNotVisible), "Count", at, float64(q.NotVisible))
		}
		if q.Delayed > 0 {
			s.Store.Put(m(MetricDelayed), "Count", at, float64(q.Delayed))
		}
		if q.HasActive {
			s.Store.Put(m(MetricAgeOfOldestMessage), "Seconds", at, float64(q.AgeOfOldestMessage/time.Second))
		}
		prev := s.last[q.Name]
		s.Store.Put(m(MetricSent), "Count", at, float64(q.Sent-prev.Sent))
		s.Store.Put(m(MetricReceived), "Count", at, float64(q.Received-prev.Received))
		s.Store.Put(m(MetricDeleted), "Count", at, float64(q.Deleted-prev.Deleted))
		s.last[q.Name] = q
	}
}

// Run samples every interval until ctx ends. An interval of a minute (or
// zero) samples at the top of every minute, as CloudWatch receives SQS's
// metrics at one-minute intervals; tests pass a shorter one, and every
// sample within a minute then adds to that minute's statistics.
func (s *SQSSampler) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Minute
	}
	for {
		now := time.Now()
		next := now.Truncate(interval).Add(interval)
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case at := <-t.C:
			s.Sample(at)
		}
	}
}
