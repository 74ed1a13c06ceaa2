package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/cloudwatchlocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/health"
)

// fakeOps is an OpsSource over a CloudWatch store the test fills.
type fakeOps struct {
	store *cloudwatchlocal.Store
	ses   SESStatus
}

var lines = health.Lines(health.Names{SendQueue: "otp-send", DeadLetterQueue: "otp-send-dlq", Namespace: "CognitoEmailOTP"})

func (f *fakeOps) OpsStatus(context.Context) (OpsStatus, error) {
	return OpsStatus{SES: f.ses, Mailer: MailerStats{ByOutcome: map[string]int64{}}}, nil
}
func (f *fakeOps) Health(context.Context) (health.Report, error) {
	return health.Evaluate(f.store, lines, time.Now())
}
func (f *fakeOps) SetSESFaults(fail, throttle float64, latency time.Duration) error {
	f.ses.FailRate, f.ses.ThrottleRate, f.ses.Latency = fail, throttle, latency
	return nil
}
func (f *fakeOps) Redrive(context.Context, string) (int, error) { return 0, nil }

func get(t *testing.T, h http.Handler, path string) (string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b), rec.Header()
}

// TestOpsHealthSection: every line is on the page and in the refreshed
// fragment with its state, rule and chart; metrics nobody publishes yet
// say "no data yet", never an error; the fault form stays outside the
// fragment, so a refresh never touches what is typed into it.
func TestOpsHealthSection(t *testing.T) {
	src := &fakeOps{store: cloudwatchlocal.NewStore(cloudwatchlocal.Options{})}
	src.store.Put(cloudwatchlocal.Metric{Namespace: "AWS/SQS", Name: "ApproximateNumberOfMessagesVisible",
		Dimensions: []cloudwatchlocal.Dimension{{Name: "QueueName", Value: "otp-send-dlq"}}}, "Count", time.Now(), 2)
	h := Ops(src)

	page, _ := get(t, h, "/ops?refresh=0")
	live, _ := get(t, h, "/ops?fragment=live")
	for _, l := range lines {
		for _, s := range []string{`data-line="` + l.ID + `"`, `id="chart-` + l.ID + `-t"`, `href="#line-` + l.ID + `"`} {
			if !strings.Contains(live, s) {
				t.Errorf("the fragment lacks %s", s)
			}
		}
	}
	if !strings.Contains(live, `data-line="dead-letter-queue" data-state="red"`) || !strings.Contains(live, "2 waiting") {
		t.Error("the DLQ with 2 waiting is not red")
	}
	if !strings.Contains(live, `data-line="time-to-delivery" data-state="none"`) || !strings.Contains(live, ">no data yet</text>") {
		t.Error("time to delivery, not published yet, does not say no data yet")
	}
	// The fragment is what replaces #live: the form must not be in it.
	if form := `id="faults"`; strings.Contains(live, form) || !strings.Contains(page, form) || strings.Index(page, form) < strings.Index(page, `<div id="live">`) {
		t.Error("the fault form is inside the refreshed part, or missing")
	}
	if strings.Contains(live, "fault-banner") {
		t.Error("a banner without faults")
	}

	// Faults: the banner, in the fragment, so another tab's change shows.
	_ = src.SetSESFaults(0.25, 0, 80*time.Millisecond)
	src.ses.FailStatus = http.StatusServiceUnavailable
	live, _ = get(t, h, "/ops?fragment=live")
	if !strings.Contains(live, `id="fault-banner" role="status"`) ||
		!strings.Contains(live, "SES faults are being injected:</strong> 25 % fail (503 ServiceUnavailable); every call waits 80ms longer.") {
		t.Errorf("banner:\n%s", live[:min(len(live), 800)])
	}

	// The JSON: the same lines, states and rules, with their datapoints.
	body, hdr := get(t, h, "/ops/api/health")
	var rep health.Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("health JSON: %v %s", err, hdr.Get("Content-Type"))
	}
	if len(rep.Lines) != len(lines) || rep.State != health.Red || !strings.Contains(body, `"text":"send queue: amber > 30 s`) {
		t.Errorf("health JSON: %d lines, state %s", len(rep.Lines), rep.State)
	}
}

func TestSESFaults(t *testing.T) {
	for _, tc := range []struct {
		s    SESStatus
		want string
	}{
		{SESStatus{}, ""},
		{SESStatus{FailRate: 1}, "100 % fail (500 InternalFailure)"},
		{SESStatus{ThrottleRate: 0.05, FailRate: 0.2, Latency: 80 * time.Millisecond},
			"5 % of SendEmail calls are throttled (429 TooManyRequestsException); 20 % fail (500 InternalFailure); every call waits 80ms longer"},
		{SESStatus{Latency: time.Second}, "every call waits 1s longer"},
	} {
		if got := strings.Join(tc.s.Faults(), "; "); got != tc.want || tc.s.Injected() != (tc.want != "") {
			t.Errorf("%+v: %q (injected %v), want %q", tc.s, got, tc.s.Injected(), tc.want)
		}
	}
}
