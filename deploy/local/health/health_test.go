package health

import (
	"encoding/json"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/cloudwatchlocal"
)

var names = Names{SendQueue: "otp-send", DeadLetterQueue: "otp-send-dlq", Namespace: "CognitoEmailOTP"}

func line(t *testing.T, id string) Line {
	t.Helper()
	for _, l := range Lines(names) {
		if l.ID == id {
			return l
		}
	}
	t.Fatalf("no line %q", id)
	return Line{}
}

var nan = math.NaN()

// TestRuleStates: every rule of the table at and around its thresholds,
// one value per period, oldest first (NaN: no datapoint).
func TestRuleStates(t *testing.T) {
	for _, tc := range []struct {
		line   string
		values []float64
		want   State
	}{
		{"dead-letter-queue", []float64{nan}, NoData}, // not sampled yet
		{"dead-letter-queue", []float64{0}, Green},
		{"dead-letter-queue", []float64{1}, Red}, // any message waiting
		{"send-queue", []float64{50}, Green},
		{"send-queue", []float64{51}, Amber},
		{"send-queue", []float64{5000}, Amber}, // no red: the age says how bad
		// Two periods, as OldestMessageAgeAlarm's EvaluationPeriods: 2.
		{"oldest-message", []float64{nan, nan}, Green}, // SQS reports no age: nothing waits
		{"oldest-message", []float64{nan, 90}, Green},  // one minute is not two
		{"oldest-message", []float64{90, 90}, Red},
		{"oldest-message", []float64{60, 90}, Amber}, // 60 is not above 60
		{"oldest-message", []float64{31, 31}, Amber},
		{"oldest-message", []float64{30, 31}, Green},
		{"oldest-message", []float64{90, nan}, Green}, // drained: notBreaching
		{"emails", []float64{nan}, Green},             // no DeadLettered line: none
		{"emails", []float64{0}, Green},
		{"emails", []float64{1}, Red},
		{"bounces", []float64{nan}, NoData},
		{"bounces", []float64{2.49}, Green},
		{"bounces", []float64{2.5}, Amber}, // at or above
		{"bounces", []float64{5}, Red},
		{"complaints", []float64{0.0499}, Green},
		{"complaints", []float64{1.0 / 2000 * 100}, Amber},
		{"complaints", []float64{1.0 / 1000 * 100}, Red}, // 0.09999999999999999 in floating point
		{"time-to-send", []float64{nan}, NoData},
		{"time-to-send", []float64{1000}, Green},
		{"time-to-send", []float64{1001}, Amber},
		{"time-to-send", []float64{5001}, Red},
		{"time-to-delivery", []float64{29_000}, Green},
		{"time-to-delivery", []float64{31_000}, Amber},
		{"time-to-delivery", []float64{61_000}, Red},
	} {
		l := line(t, tc.line)
		if len(tc.values) != l.Rule.Periods {
			t.Fatalf("%s: %d values for a rule of %d periods", tc.line, len(tc.values), l.Rule.Periods)
		}
		if got, _ := l.Rule.judge(tc.values); got != tc.want {
			t.Errorf("%s %v: %s, want %s", tc.line, tc.values, got, tc.want)
		}
	}
}

// TestRulesMirrorTheTemplate: a rule that names an alarm has the alarm's
// period, periods and threshold, read from deploy/template.yaml itself,
// so that changing one without the other fails here.
func TestRulesMirrorTheTemplate(t *testing.T) {
	b, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := string(b)
	field := func(alarm, name string) string {
		i := strings.Index(tmpl, "\n  "+alarm+":\n")
		if i < 0 {
			t.Fatalf("no %s in deploy/template.yaml", alarm)
		}
		body := tmpl[i+1:]
		if j := regexp.MustCompile(`\n  \w+:\n`).FindStringIndex(body[len(alarm)+3:]); j != nil {
			body = body[:len(alarm)+3+j[0]]
		}
		m := regexp.MustCompile(`\n\s+` + name + `: (.+)`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("%s has no %s", alarm, name)
		}
		return strings.TrimSpace(m[1])
	}
	oldestDefault := regexp.MustCompile(`OldestMessageAgeAlarmSeconds:\n\s+Type: Number\n\s+Default: (\d+)`).FindStringSubmatch(tmpl)
	if oldestDefault == nil {
		t.Fatal("no OldestMessageAgeAlarmSeconds default")
	}
	mirrored := 0
	for _, l := range Lines(names) {
		r := l.Rule
		if r.Alarm == "" {
			continue
		}
		mirrored++
		if got := field(r.Alarm, "MetricName"); got != r.Metric.Name {
			t.Errorf("%s: metric %s, the alarm's %s", l.ID, r.Metric.Name, got)
		}
		if got := field(r.Alarm, "Statistic"); got != r.Metric.Stat {
			t.Errorf("%s: statistic %s, the alarm's %s", l.ID, r.Metric.Stat, got)
		}
		if got := field(r.Alarm, "Period"); got != itoa(int(r.Period/time.Second)) {
			t.Errorf("%s: period %v, the alarm's %s", l.ID, r.Period, got)
		}
		if got := field(r.Alarm, "EvaluationPeriods"); got != itoa(r.Periods) {
			t.Errorf("%s: %d periods, the alarm's %s", l.ID, r.Periods, got)
		}
		if got := field(r.Alarm, "ComparisonOperator"); got != "GreaterThanThreshold" || r.AtLeast {
			t.Errorf("%s: the alarm is %s", l.ID, got)
		}
		threshold := field(r.Alarm, "Threshold")
		if threshold == "!Ref OldestMessageAgeAlarmSeconds" {
			threshold = oldestDefault[1]
		}
		if r.Red == nil || itoa(int(*r.Red)) != threshold {
			t.Errorf("%s: red at %v, the alarm's threshold %s", l.ID, r.Red, threshold)
		}
		if got := field(r.Alarm, "TreatMissingData"); got != "notBreaching" {
			t.Errorf("%s: the alarm treats missing data as %s", l.ID, got)
		}
	}
	if mirrored != 3 {
		t.Errorf("%d rules mirror an alarm, want 3 (DLQ, oldest message, send failures)", mirrored)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		u    Unit
		v    float64
		want string
	}{
		{Count, 0, "0"}, {Count, 12, "12"}, {Count, 1.5, "1.5"}, {Count, 1500, "1.5k"}, {Count, 25_000, "25k"},
		{Seconds, 0, "0 s"}, {Seconds, 4.26, "4.3 s"}, {Seconds, 45, "45 s"}, {Seconds, 150, "2.5 min"}, {Seconds, 1800, "30 min"},
		{Milliseconds, 12.34, "12.3 ms"}, {Milliseconds, 1200, "1.2 s"}, {Milliseconds, 61_000, "61 s"},
		{Percent, 2.5, "2.5 %"}, {Percent, 0.05, "0.05 %"}, {Percent, 100, "100 %"}, {Percent, 0, "0 %"},
	} {
		if got := tc.u.Format(tc.v); got != tc.want {
			t.Errorf("%s %v = %q, want %q", tc.u, tc.v, got, tc.want)
		}
	}
}

func TestScale(t *testing.T) {
	for _, tc := range []struct {
		u    Unit
		v    float64
		want float64
		ok   bool
	}{
		{Seconds, 0.5, 0, false}, {Seconds, 45, 60, true}, {Seconds, 96, 120, true}, {Seconds, 104, 120, true},
		{Seconds, 17 * 60, 1200, true}, {Seconds, 3 * 86400, 0, false},
		{Milliseconds, 400, 0, false}, {Milliseconds, 3500, 4000, true}, {Milliseconds, 104_000, 120_000, true},
		{Count, 45, 0, false},
	} {
		if got, ok := tc.u.Scale(tc.v); got != tc.want || ok != tc.ok {
			t.Errorf("%s Scale(%v) = %v %v, want %v %v", tc.u, tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

// clock is a store's and a report's now.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newStore(c *clock) *cloudwatchlocal.Store {
	return cloudwatchlocal.NewStore(cloudwatchlocal.Options{Now: c.Now})
}

func emf(t *testing.T, s *cloudwatchlocal.Store, line string) {
	t.Helper()
	if _, err := s.PutEMF([]byte(line)); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
}

func find(t *testing.T, rep Report, id string) LineReport {
	t.Helper()
	for _, l := range rep.Lines {
		if l.ID == id {
			return l
		}
	}
	t.Fatalf("report has no line %s", id)
	return LineReport{}
}

// TestEvaluate: a store fed as otp-local feeds it (the SQS sampler and
// EMF lines shaped as the mailer and the feedback function write them)
// gives the lines' series per minute and their states.
func TestEvaluate(t *testing.T) {
	c := &clock{time.Date(2026, 5, 4, 12, 30, 20, 0, time.UTC)}
	s := newStore(c)
	rep, err := Evaluate(s, Lines(names), c.now)
	if err != nil {
		t.Fatal(err)
	}
	// An empty store: nothing is an error, the rates and percentiles have
	// no data, what the alarms treat as not breaching is green.
	for _, l := range rep.Lines {
		want := map[string]State{"oldest-message": Green, "emails": Green}[l.ID]
		if want == "" {
			want = NoData
		}
		if l.State != want || l.Rule.Value != nil {
			t.Errorf("empty: %s is %s (value %v), want %s", l.ID, l.State, l.Rule.Value, want)
		}
		for _, sr := range l.Series {
			if sr.Points == nil || len(sr.Points) != 0 {
				t.Errorf("empty: %s %s has points %v", l.ID, sr.Label, sr.Points)
			}
		}
	}
	if rep.State != Green || !rep.From.Equal(time.Date(2026, 5, 4, 11, 31, 0, 0, time.UTC)) || rep.PeriodSeconds != 60 {
		t.Errorf("empty: state %s from %v", rep.State, rep.From)
	}

	queues := []cloudwatchlocal.QueueSample{{Name: "otp-send", Visible: 3, NotVisible: 2, HasActive: true, AgeOfOldestMessage: 70 * time.Second},
		{Name: "otp-send-dlq", Visible: 1, HasActive: true, AgeOfOldestMessage: 5 * time.Second}}
	sampler := cloudwatchlocal.SQSSampler{Store: s, Queues: func() []cloudwatchlocal.QueueSample { return queues }}
	sampler.Sample(c.now.Add(-time.Minute)) // 12:29
	sampler.Sample(c.now)                   // 12:30
	ms := c.now.UnixMilli()
	// The mailer: two sent with their times, one dead-lettered.
	emf(t, s, `{"_aws":{"Timestamp":`+itoa64(ms)+`,"CloudWatchMetrics":[{"Namespace":"CognitoEmailOTP","Dimensions":[["tenant","outcome"],["outcome"]],"Metrics":[{"Name":"Messages","Unit":"Count"},{"Name":"TimeToSend","Unit":"Milliseconds"}]}]},"tenant":"acme","outcome":"sent","Messages":2,"TimeToSend":[40,1500]}`)
	emf(t, s, `{"_aws":{"Timestamp":`+itoa64(ms)+`,"CloudWatchMetrics":[{"Namespace":"CognitoEmailOTP","Dimensions":[["tenant","outcome"],["outcome"]],"Metrics":[{"Name":"Messages","Unit":"Count"}]},{"Namespace":"CognitoEmailOTP","Dimensions":[["tenant"],[]],"Metrics":[{"Name":"DeadLettered","Unit":"Count"}]}]},"tenant":"acme","outcome":"dlq_rejected","Messages":1,"DeadLettered":1}`)
	// The feedback function: 38 delivered, a hard and a soft bounce
	// (1 of 40: 2.5 %), a complaint (1 of 38: red).
	for i := range 38 {
		emf(t, s, `{"_aws":{"Timestamp":`+itoa64(ms-int64(i)*60_000)+`,"CloudWatchMetrics":[{"Namespace":"CognitoEmailOTP","Dimensions":[["tenant"],[]],"Metrics":[{"Name":"Delivered","Unit":"Count"},{"Name":"TimeToDelivery","Unit":"Milliseconds"}]}]},"tenant":"acme","outcome":"delivered","Delivered":1,"TimeToDelivery":2100}`)
	}
	for _, bt := range []string{"hard", "soft"} {
		emf(t, s, `{"_aws":{"Timestamp":`+itoa64(ms)+`,"CloudWatchMetrics":[{"Namespace":"CognitoEmailOTP","Dimensions":[["tenant","bounce_type"],["bounce_type"]],"Metrics":[{"Name":"Bounced","Unit":"Count"}]}]},"tenant":"acme","outcome":"bounced","bounce_type":"`+bt+`","Bounced":1}`)
	}
	emf(t, s, `{"_aws":{"Timestamp":`+itoa64(ms)+`,"CloudWatchMetrics":[{"Namespace":"CognitoEmailOTP","Dimensions":[["tenant"],[]],"Metrics":[{"Name":"Complained","Unit":"Count"}]}]},"tenant":"acme","outcome":"complained","Complained":1}`)

	if rep, err = Evaluate(s, Lines(names), c.now); err != nil {
		t.Fatal(err)
	}
	want := map[string]State{"send-queue": Green, "dead-letter-queue": Red, "oldest-message": Red, "emails": Red,
		"bounces": Amber, "complaints": Red, "time-to-send": Amber, "time-to-delivery": Green}
	for id, st := range want {
		if l := find(t, rep, id); l.State != st {
			t.Errorf("%s is %s (%s), want %s", id, l.State, l.Rule.Says, st)
		}
	}
	if rep.State != Red {
		t.Errorf("overall %s, want red", rep.State)
	}
	b := find(t, rep, "bounces")
	if b.Rule.Says != "2.5 % bounce rate (1 of 40)" || *b.Rule.Value != 2.5 {
		t.Errorf("bounces say %q", b.Rule.Says)
	}
	if got := find(t, rep, "oldest-message").Rule.Says; got != "70 s in the send queue" {
		t.Errorf("oldest says %q", got)
	}
	sq := find(t, rep, "send-queue")
	if v, ok := sq.Series[1].Latest(); !ok || v != 2 || len(sq.Series[0].Points) != 2 || !sq.Series[0].Points[0].Time.Equal(c.now.Add(-time.Minute).Truncate(time.Minute)) {
		t.Errorf("send queue series %+v", sq.Series)
	}
	if got := find(t, rep, "time-to-delivery").Series[0].Points; len(got) != 38 {
		t.Errorf("time to delivery has %d points, want one a minute for 38 minutes", len(got))
	}
	// Forty minutes on, the dead letter is out of SendFailuresAlarm's five
	// minutes and the queue samples out of the age rule's two; the
	// delivery an hour later falls out of the bounce rate's hour.
	c.now = c.now.Add(40 * time.Minute)
	if rep, err = Evaluate(s, Lines(names), c.now); err != nil {
		t.Fatal(err)
	}
	for id, st := range map[string]State{"emails": Green, "oldest-message": Green, "dead-letter-queue": NoData, "bounces": Amber} {
		if l := find(t, rep, id); l.State != st {
			t.Errorf("40 min later: %s is %s (%s), want %s", id, l.State, l.Rule.Says, st)
		}
	}
	c.now = c.now.Add(21 * time.Minute)
	if rep, err = Evaluate(s, Lines(names), c.now); err != nil {
		t.Fatal(err)
	}
	if l := find(t, rep, "bounces"); l.State != NoData || l.Rule.Says != "no data yet: no delivery or bounce reported" {
		t.Errorf("61 min later: bounces %s %q", l.State, l.Rule.Says)
	}

	// The JSON scripts read.
	j, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"state":"`, `"periodSeconds":60`, `"rule":{"text":"red when any message waits","alarm":"DeadLetterQueueNotEmptyAlarm"`,
		`"metric":"ApproximateNumberOfMessagesVisible","dimensions":[{"name":"QueueName","value":"otp-send-dlq"}],"stat":"Maximum","points":[`} {
		if !strings.Contains(string(j), s) {
			t.Errorf("the JSON lacks %s:\n%s", s, j)
		}
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
