// Package snslocal is the slice of Amazon SNS otp-local needs: topics that
// SES's event destinations publish to, and Lambda subscriptions that get
// each message as SNS delivers it to a function: an asynchronous
// invocation with an SNS event (one record, the Records[].Sns envelope:
// Type Notification, MessageId, TopicArn, Subject, Message, Timestamp,
// SignatureVersion, Signature, SigningCertUrl, UnsubscribeUrl,
// MessageAttributes), retried on a function error as Lambda retries an
// asynchronous invocation: twice more, a minute and then two minutes
// later, then dropped.
//
// It has no wire API: SES publishes to it in-process, as SES publishes to
// SNS inside AWS. The signature is not one SNS's certificate verifies;
// nothing on the Lambda side checks it (Lambda's permission is the check).
package snslocal

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Function is a subscribed Lambda function: lambdart's Runtime and
// InProcess are.
type Function interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// DefaultRetryDelays are Lambda's asynchronous invocation retries on a
// function error: a minute before the second attempt, two before the third.
var DefaultRetryDelays = []time.Duration{time.Minute, 2 * time.Minute}

// Options configure a Server.
type Options struct {
	Region, AccountID string
	// RetryDelays are the waits before each retry of a failed invocation;
	// nil means DefaultRetryDelays, an empty non-nil slice no retries.
	RetryDelays []time.Duration
	// InvokeTimeout bounds one invocation (the function's timeout).
	InvokeTimeout time.Duration
	Logger        *slog.Logger
	Now           func() time.Time
}

// Server holds topics and their subscriptions. Safe for concurrent use.
type Server struct {
	o       Options
	mu      sync.Mutex
	topics  map[string]*topic // by ARN
	pending sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
	stats   Stats
}

type topic struct {
	arn  string
	subs []subscription
}

type subscription struct {
	arn string
	fn  Function
}

// Stats count what the subscriptions did.
type Stats struct {
	Published, Delivered, Failed, Retries, Dropped int
}

// New returns a Server.
func New(o Options) *Server {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.AccountID == "" {
		o.AccountID = "000000000000"
	}
	if o.RetryDelays == nil {
		o.RetryDelays = DefaultRetryDelays
	}
	if o.InvokeTimeout == 0 {
		o.InvokeTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{o: o, topics: map[string]*topic{}, ctx: ctx, cancel: cancel}
}

var topicNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// CreateTopic makes a topic (again: the same ARN) and returns its ARN.
func (s *Server) CreateTopic(name string) (string, error) {
	if !topicNameRE.MatchString(name) {
		return "", fmt.Errorf("snslocal: invalid topic name %q", name)
	}
	arn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", s.o.Region, s.o.AccountID, name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.topics[arn] == nil {
		s.topics[arn] = &topic{arn: arn}
	}
	return arn, nil
}

// ErrNotFound is Publish's and Subscribe's error for a topic that does
// not exist (SNS's NotFoundException).
var ErrNotFound = errors.New("snslocal: topic does not exist")

// Subscribe delivers the topic's messages to fn and returns the
// subscription's ARN.
func (s *Server) Subscribe(topicARN string, fn Function) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[topicARN]
	if t == nil {
		return "", fmt.Errorf("%w: %s", ErrNotFound, topicARN)
	}
	arn := topicARN + ":" + uuid()
	t.subs = append(t.subs, subscription{arn: arn, fn: fn})
	return arn, nil
}

// Publish hands a message to every subscription of the topic and returns
// at once, as SNS does; deliveries and their retries run in the
// background.
func (s *Server) Publish(_ context.Context, topicARN, subject, message string) error {
	s.mu.Lock()
	t := s.topics[topicARN]
	var subs []subscription
	if t != nil {
		subs = append(subs, t.subs...)
		s.stats.Published++
	}
	s.mu.Unlock()
	if t == nil {
		return fmt.Errorf("%w: %s", ErrNotFound, topicARN)
	}
	id := uuid()
	now := s.o.Now().UTC()
	for _, sub := range subs {
		payload, err := json.Marshal(events.SNSEvent{Records: []events.SNSEventRecord{{
			EventVersion: "1.0", EventSubscriptionArn: sub.arn, EventSource: "aws:sns",
			SNS: events.SNSEntity{
				Type: "Notification", MessageID: id, TopicArn: topicARN, Subject: subject, Message: message,
				Timestamp: now, SignatureVersion: "1", Signature: signature(),
				SigningCertURL:    fmt.Sprintf("https://sns.%s.amazonaws.com/SimpleNotificationService-otplocal.pem", s.o.Region),
				UnsubscribeURL:    fmt.Sprintf("https://sns.%s.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=%s", s.o.Region, sub.arn),
				MessageAttributes: map[string]any{},
			},
		}}})
		if err != nil {
			return fmt.Errorf("snslocal: encode the SNS event: %w", err)
		}
		s.pending.Add(1)
		go s.deliver(sub, id, payload)
	}
	return nil
}

// deliver invokes the function, retrying a failed invocation after each
// of RetryDelays, then drops the message.
func (s *Server) deliver(sub subscription, id string, payload []byte) {
	defer s.pending.Done()
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(s.ctx, s.o.InvokeTimeout)
		_, err := sub.fn.Invoke(ctx, payload)
		cancel()
		s.mu.Lock()
		if err == nil {
			s.stats.Delivered++
		} else {
			s.stats.Failed++
		}
		s.mu.Unlock()
		if err == nil {
			return
		}
		if attempt >= len(s.o.RetryDelays) || s.ctx.Err() != nil {
			s.mu.Lock()
			s.stats.Dropped++
			s.mu.Unlock()
			s.o.Logger.Warn("snslocal: invocation failed, message dropped", "sns_message_id", id, "subscription", sub.arn,
				"attempts", attempt+1, "outcome", "dropped", "error", err.Error())
			return
		}
		s.o.Logger.Info("snslocal: invocation failed, retrying", "sns_message_id", id, "subscription", sub.arn,
			"attempt", attempt+1, "retry_in", s.o.RetryDelays[attempt].String(), "error", err.Error())
		s.mu.Lock()
		s.stats.Retries++
		s.mu.Unlock()
		select {
		case <-time.After(s.o.RetryDelays[attempt]):
		case <-s.ctx.Done():
		}
	}
}

// Stats returns the counts so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Wait returns when every delivery so far has ended, retries included.
func (s *Server) Wait() { s.pending.Wait() }

// Close abandons pending retries and waits for invocations in flight.
func (s *Server) Close() {
	s.cancel()
	s.pending.Wait()
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// signature stands in for SNS's: random, of the right shape (base64 of
// an RSA-2048 signature).
func signature() string {
	var b [256]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}
