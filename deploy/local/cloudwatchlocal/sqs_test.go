package cloudwatchlocal

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestSQSSampler(t *testing.T) {
	s, _ := newTestStore(Options{})
	state := []QueueSample{
		{Name: "otp-send", Visible: 2, NotVisible: 1, AgeOfOldestMessage: 42*time.Second + 900*time.Millisecond, HasActive: true, Sent: 5, Received: 3, Deleted: 1},
		{Name: "otp-send-dlq"},
	}
	sampler := &SQSSampler{Store: s, Queues: func() []QueueSample { return state }}
	sampler.Sample(t0)
	state[0].Sent, state[0].Received, state[0].Deleted, state[0].AgeOfOldestMessage = 9, 3, 4, 102*time.Second
	sampler.Sample(t0.Add(time.Minute))

	for _, tc := range []struct {
		queue, metric string
		want          string // per minute, oldest first
	}{
		{"otp-send", MetricAgeOfOldestMessage, "[42 102]"}, // whole seconds
		{"otp-send", MetricVisible, "[2 2]"},
		{"otp-send", MetricNotVisible, "[1 1]"},
		{"otp-send", MetricSent, "[5 4]"}, // since the start, then since the last sample
		{"otp-send", MetricReceived, "[3 0]"},
		{"otp-send", MetricDeleted, "[1 3]"},
		{"otp-send-dlq", MetricVisible, "[0 0]"},
		{"otp-send-dlq", MetricNotVisible, "[]"}, // reported only while there are some
		{"otp-send-dlq", MetricDelayed, "[]"},
		{"otp-send-dlq", MetricAgeOfOldestMessage, "[]"}, // no message, no age
	} {
		pts, err := s.Series(SQSNamespace, tc.metric, []Dimension{{"QueueName", tc.queue}}, "Maximum", time.Minute, t0)
		if err != nil {
			t.Fatal(err)
		}
		got := []float64{}
		for _, p := range pts {
			got = append(got, p.Value)
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("%s %s = %v, want %s", tc.queue, tc.metric, got, tc.want)
		}
	}
}

func TestSQSSamplerRuns(t *testing.T) {
	s := NewStore(Options{})
	samples := make(chan struct{}, 10)
	sampler := &SQSSampler{Store: s, Queues: func() []QueueSample {
		samples <- struct{}{}
		return nil
	}}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { sampler.Run(ctx, 10*time.Millisecond); close(done) }()
	for range 3 {
		select {
		case <-samples:
		case <-time.After(5 * time.Second):
			t.Fatal("no sample")
		}
	}
	cancel()
	<-done
}
