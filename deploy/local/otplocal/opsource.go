package otplocal

import (
	"context"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/health"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/web"
)

// OpsStatus gathers the ops page: queue depth straight from the queues
// (and the age of the oldest message, which on AWS comes from CloudWatch),
// dead letters as otpctl lists them, and the mailer's EMF metrics.
func (sys *System) OpsStatus(ctx context.Context) (web.OpsStatus, error) {
	var st web.OpsStatus
	for _, q := range sys.SQS.Stats() {
		role := "send"
		switch q.Name {
		case DeadLetters:
			role = "dead-letter"
		case SendQueue:
		default:
			continue
		}
		st.Queues = append(st.Queues, web.QueueRow{Role: role, Name: q.Name, Visible: q.Visible, InFlight: q.InFlight,
			Delayed: q.Delayed, OldestAge: q.OldestAge.Round(time.Second)})
	}
	dead, err := sys.queues.ListDeadLetters(ctx, 50, time.Now())
	if err != nil {
		return st, err
	}
	st.DeadLetters = dead
	st.Mailer = sys.mailerStats.snapshot()
	c := sys.Cognito.Stats()
	st.SignIns = web.SignInStats{Started: c.Started.Load(), Succeeded: c.Succeeded.Load(), Failed: c.Failed.Load()}
	m := sys.Mapping.Stats()
	st.Mapping = web.MappingStats{Invocations: m.Invocations.Load(), Records: m.Records.Load(), Deleted: m.Deleted.Load(),
		ItemFailures: m.ItemFailures.Load(), FunctionErrors: m.FunctionErrors.Load()}
	f := sys.SES.Faults()
	st.SES = web.SESStatus{FailRate: f.FailRate, ThrottleRate: f.ThrottleRate, FailStatus: f.FailStatus, Latency: f.Latency,
		Outbox: sys.SES.Outbox().Count()}
	return st, nil
}

// healthLines is the ops page's health table for otp-local's names.
var healthLines = health.Lines(health.Names{SendQueue: SendQueue, DeadLetterQueue: DeadLetters, Namespace: MetricsNamespace})

// Health is the ops page's last hour, read from the CloudWatch store as
// GetMetricData would answer: the queues' AWS/SQS samples and the
// functions' EMF metrics.
func (sys *System) Health(context.Context) (health.Report, error) {
	return health.Evaluate(sys.Metrics, healthLines, time.Now())
}

// SetSESFaults changes SES fault injection while running.
func (sys *System) SetSESFaults(failRate, throttleRate float64, latency time.Duration) error {
	f := sys.SES.Faults()
	f.FailRate, f.ThrottleRate, f.Latency = failRate, throttleRate, latency
	return sys.SES.SetFaults(f)
}

// Redrive moves dead letters back to the send queue.
func (sys *System) Redrive(ctx context.Context, reason string) (int, error) {
	return sys.queues.Redrive(ctx, reason)
}
