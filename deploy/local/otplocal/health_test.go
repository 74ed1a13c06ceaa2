package otplocal

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/cloudwatchlocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/health"
)

// emfLines writes EMF lines as the functions write them, through the
// path a function's log stream takes (emfSink), so what reaches the
// CloudWatch store is what a function's line would put there. The
// mailer's shapes are mailer/metrics.go's; the feedback function's
// (SES events: delivered, bounced, complained) are those of the feedback
// branch's mailer/feedback/metrics.go: by tenant and account-wide.
type emfLines struct {
	t testing.TB
	w io.Writer
}

func newEMFLines(t testing.TB, sys *System) emfLines {
	return emfLines{t, newEMFSink(io.Discard, sys.Metrics, nil, nil)}
}

func (e emfLines) write(line map[string]any) {
	e.t.Helper()
	b, err := json.Marshal(line)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.w.Write(append(b, '\n')); err != nil {
		e.t.Fatal(err)
	}
}

type directive struct {
	Namespace  string              `json:"Namespace"`
	Dimensions [][]string          `json:"Dimensions"`
	Metrics    []map[string]string `json:"Metrics"`
}

func metrics(unit string, names ...string) []map[string]string {
	var out []map[string]string
	for _, n := range names {
		out = append(out, map[string]string{"Name": n, "Unit": unit})
	}
	return out
}

func emfMeta(at time.Time, ds ...directive) map[string]any {
	return map[string]any{"Timestamp": at.UnixMilli(), "CloudWatchMetrics": ds}
}

// sent is one mailer batch line of sent emails and their time to send.
func (e emfLines) sent(at time.Time, tenant string, tts ...float64) {
	e.write(map[string]any{"tenant": tenant, "outcome": "sent", "Messages": len(tts), "Retries": 0, "SESLatency": tts, "TimeToSend": tts,
		"_aws": emfMeta(at, directive{MetricsNamespace, [][]string{{"tenant", "outcome"}, {"outcome"}},
			append(metrics("Count", "Messages", "Retries"), metrics("Milliseconds", "SESLatency", "TimeToSend")...)})})
}

// deadLettered is the mailer's line of n dead letters for reason.
func (e emfLines) deadLettered(at time.Time, tenant, reason string, n int) {
	e.write(map[string]any{"tenant": tenant, "outcome": "dlq_" + reason, "Messages": n, "Retries": 0, "DeadLettered": n,
		"_aws": emfMeta(at, directive{MetricsNamespace, [][]string{{"tenant", "outcome"}, {"outcome"}}, metrics("Count", "Messages", "Retries")},
			directive{MetricsNamespace, [][]string{{"tenant"}, {}}, metrics("Count", "DeadLettered")})})
}

// delivered is the feedback function's line of one SES Delivery event.
func (e emfLines) delivered(at time.Time, tenant string, ttd time.Duration) {
	e.write(map[string]any{"tenant": tenant, "outcome": "delivered", "Delivered": 1, "BounceRate": 0, "ComplaintRate": 0, "TimeToDelivery": ttd.Milliseconds(),
		"_aws": emfMeta(at, directive{MetricsNamespace, [][]string{{"tenant"}, {}},
			append(metrics("Count", "Delivered"), append(metrics("None", "BounceRate", "ComplaintRate"), metrics("Milliseconds", "TimeToDelivery")...)...)})})
}

// bounced is one SES Bounce event: hard (Permanent) or soft.
func (e emfLines) bounced(at time.Time, tenant, bounceType string) {
	rate := 0
	if bounceType == "hard" {
		rate = 1
	}
	e.write(map[string]any{"tenant": tenant, "outcome": "bounced", "bounce_type": bounceType, "Bounced": 1, "BounceRate": rate,
		"_aws": emfMeta(at, directive{MetricsNamespace, [][]string{{"tenant"}, {}}, metrics("None", "BounceRate")},
			directive{MetricsNamespace, [][]string{{"tenant", "bounce_type"}, {"bounce_type"}}, metrics("Count", "Bounced")})})
}

// complained is one SES Complaint event.
func (e emfLines) complained(at time.Time, tenant string) {
	e.write(map[string]any{"tenant": tenant, "outcome": "complained", "Complained": 1, "ComplaintRate": 1,
		"_aws": emfMeta(at, directive{MetricsNamespace, [][]string{{"tenant"}, {}}, append(metrics("Count", "Complained"), metrics("None", "ComplaintRate")...)})})
}

// opsHealth reads /ops/api/health as a script would.
func opsHealth(t testing.TB, sys *System) health.Report {
	t.Helper()
	resp, err := http.Get(sys.URL + "/ops/api/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("/ops/api/health: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	var rep health.Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Lines) != 8 {
		t.Fatalf("%d lines, want 8", len(rep.Lines))
	}
	return rep
}

// healthWhen polls the health JSON until ok, as a script would.
func healthWhen(t testing.TB, ctx context.Context, sys *System, ok func(health.Report) bool) health.Report {
	t.Helper()
	for {
		rep := opsHealth(t, sys)
		if ok(rep) {
			return rep
		}
		if ctx.Err() != nil {
			t.Fatalf("health never got there: %+v", rep)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func healthLine(t testing.TB, rep health.Report, id string) health.LineReport {
	t.Helper()
	for _, l := range rep.Lines {
		if l.ID == id {
			return l
		}
	}
	t.Fatalf("no line %s", id)
	return health.LineReport{}
}

// wantStates checks lines' states, saying what each line said.
func wantStates(t *testing.T, when string, rep health.Report, want map[string]health.State) {
	t.Helper()
	for id, st := range want {
		if l := healthLine(t, rep, id); l.State != st {
			t.Errorf("%s: %s is %s (%q), want %s", when, id, l.State, l.Rule.Says, st)
		}
	}
}

// TestOpsHealth: sign-ins, then an SES outage that dead-letters a send
// request, then SES's feedback as EMF lines: the health JSON's states
// move as the stack's alarms would, from the same CloudWatch numbers.
func TestOpsHealth(t *testing.T) {
	// A short visibility and retry budget: a request that SES keeps
	// failing uses up its five receives in seconds.
	sys, _ := start(t, Options{QueueVisibility: time.Second, MailerRetryBudget: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()

	// Before anything: nothing is an error; the queues wait for their
	// first sample, the rates and times for traffic.
	rep := opsHealth(t, sys)
	wantStates(t, "at start", rep, map[string]health.State{"send-queue": health.NoData, "dead-letter-queue": health.NoData,
		"oldest-message": health.Green, "emails": health.Green, "bounces": health.NoData, "complaints": health.NoData,
		"time-to-send": health.NoData, "time-to-delivery": health.NoData})
	if l := healthLine(t, rep, "time-to-delivery"); l.Rule.Value != nil || len(l.Series[0].Points) != 0 {
		t.Errorf("time to delivery before any delivery: %+v", l)
	}

	// A sign-in: an email sent, its time to send.
	if _, err := client(sys, sys.Clients[0].ID).Start(ctx, "rosa@example.com", DemoPassword); err != nil {
		t.Fatal(err)
	}
	inbox(t, sys, "rosa@example.com", 1)
	sys.SampleMetrics()
	// The mailer writes its metrics once the batch is done, just after SES
	// has the email.
	rep = healthWhen(t, ctx, sys, func(rep health.Report) bool { return len(healthLine(t, rep, "emails").Series[0].Points) > 0 })
	wantStates(t, "after a sign-in", rep, map[string]health.State{"send-queue": health.Green, "dead-letter-queue": health.Green,
		"emails": health.Green, "time-to-send": health.Green})
	emails := healthLine(t, rep, "emails")
	if n := len(emails.Series[0].Points); n != 1 || emails.Series[0].Points[0].Value != 1 || emails.Series[0].Label != "sent" {
		t.Errorf("emails sent: %+v", emails.Series[0])
	}
	if tts := healthLine(t, rep, "time-to-send"); tts.Rule.Value == nil || *tts.Rule.Value <= 0 || !strings.HasPrefix(tts.Rule.Says, "p99 ") {
		t.Errorf("time to send: %+v", tts.Rule)
	}
	if dlq := healthLine(t, rep, "dead-letter-queue"); dlq.Rule.Alarm != "DeadLetterQueueNotEmptyAlarm" || dlq.Rule.Text != "red when any message waits" {
		t.Errorf("the DLQ's rule: %+v", dlq.Rule)
	}

	// SES fails every call: the next sign-in's request is retried on each
	// of its five receives, then dead-lettered.
	if err := sys.SetSESFaults(1, 0, 0); err != nil {
		t.Fatal(err)
	}
	page := httpGet(t, sys.URL+"/ops?refresh=0")
	if !strings.Contains(page, `id="fault-banner"`) || !strings.Contains(page, "100 % fail (500 InternalFailure)") {
		t.Errorf("no banner while SES fails every call")
	}
	if _, err := client(sys, sys.Clients[0].ID).Start(ctx, "lena@example.com", DemoPassword); err != nil {
		t.Fatal(err)
	}
	for {
		if st, err := sys.OpsStatus(ctx); err == nil && len(st.DeadLetters) == 1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the failing request was not dead-lettered")
		}
		time.Sleep(100 * time.Millisecond)
	}
	sys.SampleMetrics()
	rep = healthWhen(t, ctx, sys, func(rep health.Report) bool { return len(healthLine(t, rep, "emails").Series[1].Points) > 0 })
	wantStates(t, "after a dead letter", rep, map[string]health.State{"dead-letter-queue": health.Red, "emails": health.Red})
	if rep.State != health.Red {
		t.Errorf("overall %s, want red", rep.State)
	}
	dlq := healthLine(t, rep, "dead-letter-queue")
	if v, ok := dlq.Series[0].Latest(); !ok || v != 1 || dlq.Rule.Says != "1 waiting" {
		t.Errorf("DLQ: latest %v %v, says %q", v, ok, dlq.Rule.Says)
	}
	if dl := healthLine(t, rep, "emails").Series[1]; dl.Label != "dead-lettered" || len(dl.Points) != 1 || dl.Points[0].Value != 1 {
		t.Errorf("dead-lettered: %+v", dl)
	}
	if err := sys.SetSESFaults(0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(httpGet(t, sys.URL+"/ops?refresh=0"), `id="fault-banner"`) {
		t.Error("the banner stays after the faults are cleared")
	}

	// SES's feedback, written as the feedback function writes it: the
	// bounce rate over the hour goes green, amber, red. Rosa's email was
	// delivered, and the feedback function counted it: 40 delivered.
	sys.WaitFeedback()
	e := newEMFLines(t, sys)
	now := time.Now()
	for i := range 39 {
		e.delivered(now.Add(-time.Duration(i)*time.Minute), "acme", 2*time.Second)
	}
	e.bounced(now, "acme", "soft") // a soft bounce counts in the volume, not in the rate
	rep = opsHealth(t, sys)
	wantStates(t, "40 delivered", rep, map[string]health.State{"bounces": health.Green, "complaints": health.Green, "time-to-delivery": health.Green})
	e.bounced(now, "acme", "hard") // 1 of 42
	e.bounced(now, "acme", "hard") // 2 of 43: 4.7 %
	rep = opsHealth(t, sys)
	wantStates(t, "2 hard bounces of 43", rep, map[string]health.State{"bounces": health.Amber})
	if got := healthLine(t, rep, "bounces").Rule.Says; got != "4.7 % bounce rate (2 of 43)" {
		t.Errorf("bounces say %q", got)
	}
	e.bounced(now, "acme", "hard") // 3 of 44: 6.8 %
	e.complained(now, "acme")      // 1 of 40 delivered
	rep = opsHealth(t, sys)
	wantStates(t, "3 hard bounces, a complaint", rep, map[string]health.State{"bounces": health.Red, "complaints": health.Red})
	ttd := healthLine(t, rep, "time-to-delivery")
	if len(ttd.Series[1].Points) != 39 || ttd.Rule.Says != "p99 2 s" { // one a minute
		t.Errorf("time to delivery: %d points, says %q", len(ttd.Series[1].Points), ttd.Rule.Says)
	}
}

// history writes an hour of synthetic traffic into the CloudWatch store,
// for the ops page's screenshot and browser test: steady sign-ins, an SES
// outage half an hour ago (the queue backs up, the oldest message ages
// past the alarm, three requests are dead-lettered and later redriven),
// and SES's feedback (deliveries, a few bounces). The AWS/SQS samples go
// through the sampler the system runs, the EMF lines through a function's
// log path; the current minute is left to the live system.
func history(t testing.TB, sys *System) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 16))
	now := time.Now()
	minute := now.Truncate(time.Minute)
	var queues []cloudwatchlocal.QueueSample
	sampler := cloudwatchlocal.SQSSampler{Store: sys.Metrics, Queues: func() []cloudwatchlocal.QueueSample { return queues }}
	e := newEMFLines(t, sys)
	tenants := []string{"acme", "globex"}
	for k := 59; k >= 1; k-- {
		at := minute.Add(-time.Duration(k) * time.Minute).Add(30 * time.Second)
		outage := k <= 36 && k >= 29 // SES failing: nothing sent, the queue grows
		recovering := k <= 28 && k >= 26
		perMinute := 6 + rng.IntN(8)
		send := cloudwatchlocal.QueueSample{Name: SendQueue}
		dlq := cloudwatchlocal.QueueSample{Name: DeadLetters}
		switch {
		case outage:
			send.Visible = 4 * (37 - k)
			send.NotVisible = 10
			send.HasActive, send.AgeOfOldestMessage = true, time.Duration(12*(37-k))*time.Second
		case recovering:
			send.Visible = 8 * (k - 25)
			send.NotVisible = 20
			send.HasActive, send.AgeOfOldestMessage = true, time.Duration(20*(k-25))*time.Second
		default:
			send.Visible = rng.IntN(3)
			send.NotVisible = rng.IntN(4)
			if send.Visible > 0 {
				send.HasActive, send.AgeOfOldestMessage = true, time.Duration(rng.IntN(3))*time.Second
			}
		}
		if k <= 28 && k >= 12 { // three dead letters, redriven at 12 minutes ago
			dlq.Visible, dlq.HasActive, dlq.AgeOfOldestMessage = 3, true, time.Duration(28-k)*time.Minute
		}
		queues = []cloudwatchlocal.QueueSample{send, dlq}
		sampler.Sample(at)
		if outage {
			continue
		}
		if k == 28 {
			e.deadLettered(at, "acme", "max_receives", 3)
		}
		n := perMinute
		if recovering {
			n = perMinute + 4*(29-k)*3 // the backlog drains
		}
		for _, tenant := range tenants {
			var tts []float64
			for range n / 2 {
				ms := 18 + rng.Float64()*30
				if recovering {
					ms = 40_000 + rng.Float64()*60_000 // they waited out the outage
				}
				tts = append(tts, ms)
			}
			if len(tts) == 0 {
				continue
			}
			e.sent(at, tenant, tts...)
			for _, ms := range tts { // delivered a few seconds after SES accepted it
				e.delivered(at.Add(2*time.Second), tenant, time.Duration(ms)*time.Millisecond+time.Duration(1500+rng.IntN(2500))*time.Millisecond)
			}
		}
		if k%9 == 0 {
			e.bounced(at, "globex", "soft")
		}
		if k == 44 || k == 17 {
			e.bounced(at, "acme", "hard")
		}
	}
}

// TestHistoryFixture: the screenshot's hour reads as described.
func TestHistoryFixture(t *testing.T) {
	sys, _ := start(t, Options{})
	history(t, sys)
	rep := opsHealth(t, sys)
	var out []string
	for _, l := range rep.Lines {
		out = append(out, fmt.Sprintf("%s=%s (%s)", l.ID, l.State, l.Rule.Says))
	}
	t.Log(strings.Join(out, "\n"))
	age := healthLine(t, rep, "oldest-message").Series[0].Points
	peak := 0.0
	for _, p := range age {
		peak = max(peak, p.Value)
	}
	if peak < 60 {
		t.Errorf("the outage's oldest message peaks at %v s, want past the alarm's 60", peak)
	}
	wantStates(t, "the hour", rep, map[string]health.State{"bounces": health.Green, "complaints": health.Green, "time-to-delivery": health.Green})
	if l := healthLine(t, rep, "emails"); len(l.Series[0].Points) < 45 || len(l.Series[1].Points) != 1 {
		t.Errorf("emails: %d minutes of sends, %d of dead letters", len(l.Series[0].Points), len(l.Series[1].Points))
	}
}

// deadLetterNow puts one malformed send request through the mailer into
// the dead-letter queue, and samples the queues.
func deadLetterNow(t testing.TB, sys *System) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if _, err := sqs.NewFromConfig(awslocal.Config(sys.URL)).SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(sys.Queues().SendQueue), MessageBody: aws.String(`{"v":1`)}); err != nil {
		t.Fatal(err)
	}
	for {
		if st, err := sys.OpsStatus(ctx); err == nil && len(st.DeadLetters) > 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the malformed message was not dead-lettered")
		}
		time.Sleep(50 * time.Millisecond)
	}
	sys.SampleMetrics()
}
