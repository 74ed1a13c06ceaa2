package snslocal

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

type fn struct {
	mu    sync.Mutex
	calls []events.SNSEvent
	fail  int // fail this many invocations first
}

func (f *fn) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	var ev events.SNSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, ev)
	if len(f.calls) <= f.fail {
		return nil, errors.New("function error")
	}
	return []byte("null"), nil
}

// TestDeliveryAsLambdaGetsIt: one record with SNS's envelope per message
// and subscription.
func TestDeliveryAsLambdaGetsIt(t *testing.T) {
	s := New(Options{Region: "eu-west-1", AccountID: "123456789012"})
	defer s.Close()
	arn, err := s.CreateTopic("otp-ses-events")
	if err != nil || arn != "arn:aws:sns:eu-west-1:123456789012:otp-ses-events" {
		t.Fatalf("%s %v", arn, err)
	}
	f := &fn{}
	sub, err := s.Subscribe(arn, f)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(context.Background(), arn, "Amazon SES Email Event Notification", `{"eventType":"Send"}`); err != nil {
		t.Fatal(err)
	}
	s.Wait()
	if len(f.calls) != 1 || len(f.calls[0].Records) != 1 {
		t.Fatalf("calls %+v", f.calls)
	}
	r := f.calls[0].Records[0]
	e := r.SNS
	if r.EventSource != "aws:sns" || r.EventVersion != "1.0" || r.EventSubscriptionArn != sub ||
		e.Type != "Notification" || e.TopicArn != arn || e.Subject != "Amazon SES Email Event Notification" ||
		e.Message != `{"eventType":"Send"}` || e.SignatureVersion != "1" || len(e.Signature) != 344 || e.MessageID == "" ||
		time.Since(e.Timestamp) > time.Minute || e.SigningCertURL == "" || e.UnsubscribeURL == "" || e.MessageAttributes == nil {
		t.Errorf("record %+v", r)
	}
	if err := s.Publish(context.Background(), arn+"-nope", "", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a topic that does not exist: %v", err)
	}
}

// TestRetriesAsLambdaAsyncInvocation: a failing invocation is tried twice
// more, then dropped; one that recovers is delivered once.
func TestRetriesAsLambdaAsyncInvocation(t *testing.T) {
	tests := []struct {
		name      string
		fail      int
		calls     int
		want      Stats
		retryWait []time.Duration
	}{
		{"recovers on the second attempt", 1, 2, Stats{Published: 1, Delivered: 1, Failed: 1, Retries: 1}, nil},
		{"fails every time: three attempts, dropped", 10, 3, Stats{Published: 1, Failed: 3, Retries: 2, Dropped: 1}, nil},
		{"no retries configured", 10, 1, Stats{Published: 1, Failed: 1, Dropped: 1}, []time.Duration{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			delays := tc.retryWait
			if delays == nil {
				delays = []time.Duration{time.Millisecond, 2 * time.Millisecond}
			}
			s := New(Options{RetryDelays: delays})
			defer s.Close()
			arn, _ := s.CreateTopic("t")
			f := &fn{fail: tc.fail}
			if _, err := s.Subscribe(arn, f); err != nil {
				t.Fatal(err)
			}
			_ = s.Publish(context.Background(), arn, "", "m")
			s.Wait()
			if len(f.calls) != tc.calls || s.Stats() != tc.want {
				t.Errorf("%d calls, stats %+v; want %d, %+v", len(f.calls), s.Stats(), tc.calls, tc.want)
			}
			if len(f.calls) > 1 && f.calls[0].Records[0].SNS.MessageID != f.calls[1].Records[0].SNS.MessageID {
				t.Error("a retry is the same message")
			}
		})
	}
	if d := New(Options{}).o.RetryDelays; len(d) != 2 || d[0] != time.Minute || d[1] != 2*time.Minute {
		t.Errorf("default retries %v, want Lambda's 1 and 2 minutes", d)
	}
}
