package otplocal

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/health"
)

// sums asks otp-local's CloudWatch, through the SDK, for the Sum of each
// query over the last five minutes.
func sums(ctx context.Context, t *testing.T, cw *cloudwatch.Client, qs ...types.MetricDataQuery) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for id, values := range latest(ctx, t, cw, qs...) {
		for _, v := range values {
			out[id] += v
		}
	}
	return out
}

// TestFeedbackEndToEnd: sign-ins of acme's and globex's users at the
// mailbox simulator's success@, bounce@ and complaint@ go through the
// whole path (Create, the queue, the mailer, SES through the
// configuration set, SNS, the feedback function), and SES's events become
// the per-tenant and account-wide metrics the stack's alarms read: acme's
// bounce rate crosses the alarm's 2.5 %, and the health lines turn red.
// Each feedback line names its send request and the address's to_hash.
func TestFeedbackEndToEnd(t *testing.T) {
	seed := DefaultSeed()
	acme, globex := []string{"success+a1", "success+a2", "success+a3", "bounce+a1", "complaint+a1"}, []string{"success+g1", "success+g2"}
	for _, u := range acme {
		seed.Users = append(seed.Users, SeedUser{Email: u + "@simulator.amazonses.com", Password: DemoPassword, Tenant: "acme"})
	}
	for _, u := range globex {
		seed.Users = append(seed.Users, SeedUser{Email: u + "@simulator.amazonses.com", Password: DemoPassword, Tenant: "globex"})
	}
	sys, logs := start(t, Options{Seed: seed, SESEventDelay: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	errs := make(chan error, len(acme)+len(globex))
	for _, u := range append(append([]string{}, acme...), globex...) {
		wg.Go(func() {
			if _, err := client(sys, "otplocaldefaultweb0000001").Start(ctx, u+"@simulator.amazonses.com", DemoPassword); err != nil {
				errs <- fmt.Errorf("%s: %w", u, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	requests := map[string]string{} // address -> request id, from the emails the mailer sent
	for _, u := range append(append([]string{}, acme...), globex...) {
		e, _ := inbox(t, sys, u+"@simulator.amazonses.com", 1)
		if e.ConfigurationSet != EventsConfigurationSet {
			t.Errorf("%s: sent through configuration set %q, want %s", u, e.ConfigurationSet, EventsConfigurationSet)
		}
		requests[u] = e.Tags["request_id"]
	}
	sys.WaitFeedback()

	cw := cloudwatch.NewFromConfig(awslocal.Config(sys.URL))
	q := func(id, name string, dims ...string) types.MetricDataQuery {
		return metricQuery(id, MetricsNamespace, name, "Sum", dims...)
	}
	var got map[string]float64
	want := map[string]float64{
		"acmeDelivered": 4, "acmeHard": 1, "acmeComplained": 1, "globexDelivered": 2, "globexHard": 0,
		"delivered": 6, "hard": 1, "soft": 0, "complained": 1, "sent": 7, "acmeSent": 5,
	}
	// The EMF lines reach the store as the function writes them, just
	// after the events: poll until every count is in.
	for {
		got = sums(ctx, t, cw,
			q("acmeDelivered", "Delivered", "tenant", "acme"), q("acmeHard", "Bounced", "tenant", "acme", "bounce_type", "hard"),
			q("acmeComplained", "Complained", "tenant", "acme"), q("globexDelivered", "Delivered", "tenant", "globex"),
			q("globexHard", "Bounced", "tenant", "globex", "bounce_type", "hard"),
			q("delivered", "Delivered"), q("hard", "Bounced", "bounce_type", "hard"), q("soft", "Bounced", "bounce_type", "soft"),
			q("complained", "Complained"), q("sent", "Sent"), q("acmeSent", "Sent", "tenant", "acme"))
		ok := true
		for k, v := range want {
			ok = ok && got[k] == v
		}
		if ok || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	// The BounceRateAlarm's expression: hard bounces over the emails with
	// a verdict (delivered, hard or soft bounced), in per cent.
	if rate := 100 * got["acmeHard"] / (got["acmeDelivered"] + got["acmeHard"]); rate < 2.5 {
		t.Errorf("acme's bounce rate %.1f %% does not cross the alarm's 2.5 %%", rate)
	}
	if rate := 100 * got["hard"] / (got["delivered"] + got["hard"] + got["soft"]); rate < 2.5 {
		t.Errorf("the account's bounce rate %.1f %% does not cross the alarm's 2.5 %%", rate)
	}
	// Per tenant, in one Metrics Insights query: the Average of BounceRate.
	avg := latest(ctx, t, cw, metricQuery("acme", MetricsNamespace, "BounceRate", "Average", "tenant", "acme"),
		metricQuery("globex", MetricsNamespace, "BounceRate", "Average", "tenant", "globex"))
	if len(avg["acme"]) == 0 || avg["acme"][0] < 0.025 || len(avg["globex"]) == 0 || avg["globex"][0] != 0 {
		t.Errorf("Average(BounceRate): acme %v, globex %v", avg["acme"], avg["globex"])
	}
	ttd := latest(ctx, t, cw, metricQuery("p99", MetricsNamespace, "TimeToDelivery", "p99"), metricQuery("n", MetricsNamespace, "TimeToDelivery", "SampleCount"))
	if len(ttd["p99"]) == 0 || ttd["p99"][0] <= 0 || len(ttd["n"]) == 0 || ttd["n"][0] != 6 {
		t.Errorf("TimeToDelivery: p99 %v, samples %v; want one per delivery, from the code's issue", ttd["p99"], ttd["n"])
	}

	rep := opsHealth(t, sys)
	wantStates(t, "after the simulator's verdicts", rep, map[string]health.State{"bounces": health.Red, "complaints": health.Red,
		"time-to-delivery": health.Green})

	// One feedback line per event in the function's log group, naming the
	// request and the recipient's to_hash (the Create trigger's), never
	// the address.
	feedbackLines := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, `"msg":"ses event"`) {
			continue
		}
		var l struct {
			RequestID string `json:"request_id"`
			ToHash    string `json:"to_hash"`
			Outcome   string `json:"outcome"`
			TTDFrom   string `json:"time_to_delivery_from"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		feedbackLines++
		// Time to delivery runs from the code's issue (the mailer's
		// issued_at tag), not from SES's acceptance.
		if l.Outcome == "delivered" && l.TTDFrom != "issued_at" {
			t.Errorf("time to delivery measured from %q, want issued_at: %s", l.TTDFrom, line)
		}
		if strings.Contains(line, "@simulator.amazonses.com") {
			t.Errorf("a feedback line names the address: %s", line)
		}
		found := false
		for u, id := range requests {
			if id == l.RequestID {
				found = true
				if h := sys.Keys.ToHash(u + "@simulator.amazonses.com"); l.ToHash != h {
					t.Errorf("%s: to_hash %s, want %s (Create's)", u, l.ToHash, h)
				}
			}
		}
		if !found {
			t.Errorf("a feedback line for no request the mailer sent: %s", line)
		}
	}
	// Send for all 7, Delivery for 6, a Bounce and a Complaint.
	if feedbackLines != 15 {
		t.Errorf("%d feedback lines, want 15", feedbackLines)
	}
}
