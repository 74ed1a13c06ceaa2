package otplocal

import (
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/cloudwatchlocal"
)

// queueSamples is every queue's state as SQS reports it to CloudWatch.
func (sys *System) queueSamples() []cloudwatchlocal.QueueSample {
	stats := sys.SQS.Stats()
	out := make([]cloudwatchlocal.QueueSample, 0, len(stats))
	for _, q := range stats {
		out = append(out, cloudwatchlocal.QueueSample{
			Name: q.Name, Visible: q.Visible, NotVisible: q.InFlight, Delayed: q.Delayed,
			AgeOfOldestMessage: q.AgeOfOldestMessage, HasActive: q.HasActive,
			Sent: q.Sent, Received: q.Received, Deleted: q.Deleted,
		})
	}
	return out
}

// SampleMetrics publishes the queues' AWS/SQS metrics now, as the
// once-a-minute sampler does, for a test that cannot wait for the minute.
func (sys *System) SampleMetrics() { sys.sampler.Sample(time.Now()) }
