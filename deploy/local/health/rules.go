// Package health is otp-local's health over the last hour: a table of
// lines, each a few CloudWatch metrics charted per minute and one rule
// that makes the line red, amber or green. Everything is read from the
// CloudWatch store (the AWS/SQS samples and the functions' EMF metrics),
// so a line shows the numbers GetMetricData would return, and the rules
// mirror deploy/template.yaml's alarms where the stack has one: the page
// turns red when the stack's alarm would fire. The ops page draws the
// lines; /ops/api/health returns them as JSON.
package health

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/cloudwatchlocal"
)

// State is a line's colour.
type State string

// A line is green, amber or red by its rule, or has no data to judge
// (a rate with nothing delivered, a percentile without emails).
const (
	Green  State = "green"
	Amber  State = "amber"
	Red    State = "red"
	NoData State = "none"
)

// severity orders states for the page's overall state: a line without
// data hides nothing, so it ranks below green.
func (s State) severity() int {
	switch s {
	case Red:
		return 3
	case Amber:
		return 2
	case Green:
		return 1
	}
	return 0
}

// Unit is what a line's numbers count.
type Unit string

// The units of the lines' metrics, as their publishers send them.
const (
	Count        Unit = "count"
	Seconds      Unit = "seconds"
	Milliseconds Unit = "milliseconds"
	Percent      Unit = "percent"
)

// Format writes v for a reader: "12", "1.5k", "45 s", "2 min", "12 ms",
// "1.2 s", "0.05 %".
func (u Unit) Format(v float64) string {
	switch u {
	case Seconds:
		return duration(v)
	case Milliseconds:
		if math.Abs(v) < 1000 {
			return trim(v, 1) + " ms"
		}
		return duration(v / 1000)
	case Percent:
		// Rates near the complaint threshold (0.1 %) need two decimals.
		if math.Abs(v) < 1 && v != 0 {
			return trim(v, 2) + " %"
		}
		return trim(v, 1) + " %"
	}
	switch a := math.Abs(v); {
	case a >= 1e6:
		return trim(v/1e6, 1) + "M"
	case a >= 1e4:
		return trim(v/1e3, 0) + "k"
	case a >= 1e3:
		return trim(v/1e3, 1) + "k"
	}
	return trim(v, 2)
}

// Scale is the top of a chart's scale for data up to v, when the unit
// is a duration of a second or more: a round time (30 s, 2 min, 20 min,
// 1 h) whose half is round too, where decimal steps would give 200 s and
// a "3.3 min" label. ok is false for other units and shorter times.
func (u Unit) Scale(v float64) (top float64, ok bool) {
	factor := 1.0
	switch u {
	case Milliseconds:
		factor = 1000
	case Seconds:
	default:
		return 0, false
	}
	s := v / factor
	if s <= 1 {
		return 0, false
	}
	for _, t := range []float64{2, 4, 5, 10, 20, 30, 40, 60, 120, 240, 300, 600, 1200, 1800, 3600, 7200, 14400, 21600, 43200, 86400} {
		if t >= s {
			return t * factor, true
		}
	}
	return 0, false
}

func duration(s float64) string {
	switch a := math.Abs(s); {
	case a < 10:
		return trim(s, 1) + " s"
	case a < 120:
		return trim(s, 0) + " s"
	case a < 600:
		return trim(s/60, 1) + " min"
	case a < 7200:
		return trim(s/60, 0) + " min"
	}
	return trim(s/3600, 1) + " h"
}

// trim formats v with at most prec decimals and no trailing zeros.
func trim(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// Style is how a line is drawn: counts per minute as bars (a minute
// without a datapoint counted nothing), gauges and percentiles as steps
// over the minute each datapoint covers (a minute without one is a gap:
// nothing was measured).
type Style string

// The two chart styles.
const (
	Bars  Style = "bars"
	Steps Style = "steps"
)

// Metric is one CloudWatch statistic: namespace, name and every dimension
// it is published with, as GetMetricData asks for it.
type Metric struct {
	Namespace  string                      `json:"namespace"`
	Name       string                      `json:"metric"`
	Dimensions []cloudwatchlocal.Dimension `json:"dimensions,omitempty"`
	Stat       string                      `json:"stat"`
}

// Series is one charted metric of a line.
type Series struct {
	Label string
	Metric
	// Panel 1 draws the series in a second chart of the line, on its own
	// scale: the dead-letter queue's oldest message is days old where the
	// send queue's is seconds, and one scale would flatten the one the
	// alarm watches.
	Panel int
}

// Line is one row of the page: a chart of its series and a rule.
type Line struct {
	ID string
	// Title names the line in a few words; About says what is charted.
	Title, About string
	Unit         Unit
	Style        Style
	// Series are charted per minute over the last hour.
	Series []Series
	Rule   Rule
}

// Rule sets a line's state the way a CloudWatch alarm does: a statistic
// per Period over the newest Periods periods (the current minute
// included), and a level is reached when every one of those periods
// reaches it, as an alarm with EvaluationPeriods = DatapointsToAlarm =
// Periods. A period without a datapoint breaches nothing
// (TreatMissingData: notBreaching, as every alarm of the stack has it).
type Rule struct {
	// Text is the rule as the page shows it next to the state.
	Text string
	// Alarm names the deploy/template.yaml alarm the rule mirrors.
	Alarm string
	// The value of a period is Metric's statistic, or, with Ratio, the
	// sum of Ratio.Num over the sum of Ratio.Den, in per cent.
	Metric *Metric
	Ratio  *Ratio
	// Unit is the value's unit (Percent for a ratio).
	Unit    Unit
	Period  time.Duration
	Periods int
	// Amber and Red are the thresholds (nil: the rule has no such level);
	// a value above one reaches it, or at or above with AtLeast.
	Amber, Red *float64
	AtLeast    bool
	// Missing is the state when no period has a datapoint: Green where
	// no datapoint means nothing is wrong (no message waits, none was
	// dead-lettered), NoData where the value needs traffic to exist (a
	// rate, a percentile).
	Missing State
	// Says describes the value: a format with one %s for it, such as
	// "%s waiting"; Quiet is shown instead when no period has data.
	Says, Quiet string
}

// Ratio is the numerator and denominator of a rate, each the sum of its
// metrics' Sum statistics.
type Ratio struct {
	Num, Den []Metric
}

// at is a threshold for the table.
func at(v float64) *float64 { return &v }

// Names are what the table needs of the deployment: the queues' names
// and the namespace the functions' EMF metrics go to.
type Names struct {
	SendQueue, DeadLetterQueue string
	Namespace                  string
}

// The dimension values the table queries. The mailer publishes Messages
// and TimeToSend by outcome without the tenant (mailer/metrics.go), its
// DeadLettered and the feedback function's counts also with no dimension
// at all, account-wide, for alarms; Bounced by bounce_type.
const (
	outcomeSent = "sent"
	bounceHard  = "hard"
	bounceSoft  = "soft"
)

// Lines is the table: every line of the page and the JSON, in order.
func Lines(n Names) []Line {
	sqs := func(queue, name string) Metric {
		return Metric{Namespace: cloudwatchlocal.SQSNamespace, Name: name, Stat: cloudwatchlocal.StatMaximum,
			Dimensions: []cloudwatchlocal.Dimension{{Name: "QueueName", Value: queue}}}
	}
	emf := func(name, stat string, dims ...string) Metric {
		m := Metric{Namespace: n.Namespace, Name: name, Stat: stat}
		for i := 0; i+1 < len(dims); i += 2 {
			m.Dimensions = append(m.Dimensions, cloudwatchlocal.Dimension{Name: dims[i], Value: dims[i+1]})
		}
		return m
	}
	sum := cloudwatchlocal.StatSum
	sendVisible := sqs(n.SendQueue, cloudwatchlocal.MetricVisible)
	dlqVisible := sqs(n.DeadLetterQueue, cloudwatchlocal.MetricVisible)
	sendAge := sqs(n.SendQueue, cloudwatchlocal.MetricAgeOfOldestMessage)
	deadLettered := emf("DeadLettered", sum)
	hard := emf("Bounced", sum, "bounce_type", bounceHard)
	soft := emf("Bounced", sum, "bounce_type", bounceSoft)
	delivered := emf("Delivered", sum)
	complained := emf("Complained", sum)
	tts99 := emf("TimeToSend", "p99", "outcome", outcomeSent)
	ttd99 := emf("TimeToDelivery", "p99")
	return []Line{
		{
			ID: "send-queue", Title: "Send queue", About: "send requests waiting and being sent (Maximum per minute)", Unit: Count, Style: Steps,
			Series: []Series{{Label: "waiting", Metric: sendVisible}, {Label: "in flight", Metric: sqs(n.SendQueue, cloudwatchlocal.MetricNotVisible)}},
			// No alarm watches the depth: a deep queue that drains fast is
			// fine, and OldestMessageAgeAlarm catches one that does not. 50
			// is what the mailer takes at once on AWS: the event source
			// mapping's MaximumConcurrency (MailerMaxConcurrency, default 5)
			// times its BatchSize, 10 (deploy/template.yaml).
			Rule: Rule{Text: "amber > 50 waiting: more than the mailer takes at once (5 invocations × 10 messages)",
				Metric: &sendVisible, Unit: Count, Period: time.Minute, Periods: 1, Amber: at(50), Missing: NoData,
				Says: "%s waiting", Quiet: "no sample yet: SQS reports once a minute"},
		},
		{
			ID: "dead-letter-queue", Title: "Dead-letter queue", About: "dead letters waiting (Maximum per minute)", Unit: Count, Style: Steps,
			Series: []Series{{Label: "waiting", Metric: dlqVisible}},
			// DeadLetterQueueNotEmptyAlarm: ApproximateNumberOfMessagesVisible,
			// Maximum, Period 60, EvaluationPeriods 1, GreaterThanThreshold 0.
			Rule: Rule{Text: "red when any message waits", Alarm: "DeadLetterQueueNotEmptyAlarm",
				Metric: &dlqVisible, Unit: Count, Period: time.Minute, Periods: 1, Red: at(0), Missing: NoData,
				Says: "%s waiting", Quiet: "no sample yet: SQS reports once a minute"},
		},
		{
			ID: "oldest-message", Title: "Oldest message", About: "age of each queue's oldest message (Maximum per minute)", Unit: Seconds, Style: Steps,
			Series: []Series{{Label: "send queue", Metric: sendAge},
				{Label: "dead-letter queue", Metric: sqs(n.DeadLetterQueue, cloudwatchlocal.MetricAgeOfOldestMessage), Panel: 1}},
			// OldestMessageAgeAlarm: ApproximateAgeOfOldestMessage of the send
			// queue, Maximum, Period 60, EvaluationPeriods 2, GreaterThanThreshold
			// OldestMessageAgeAlarmSeconds (default 60). The dead-letter
			// queue's age is charted; its line above says it is not empty.
			Rule: Rule{Text: "send queue: amber > 30 s, red > 60 s in each of the last 2 minutes", Alarm: "OldestMessageAgeAlarm",
				Metric: &sendAge, Unit: Seconds, Period: time.Minute, Periods: 2, Amber: at(30), Red: at(60), Missing: Green,
				Says: "%s in the send queue", Quiet: "no age reported: nothing waits"},
		},
		{
			ID: "emails", Title: "Emails", About: "sent and dead-lettered by the mailer, per minute", Unit: Count, Style: Bars,
			Series: []Series{{Label: "sent", Metric: emf("Messages", sum, "outcome", outcomeSent)}, {Label: "dead-lettered", Metric: deadLettered}},
			// SendFailuresAlarm: DeadLettered (no dimensions), Sum, Period 300,
			// EvaluationPeriods 1, GreaterThanThreshold 0.
			Rule: Rule{Text: "red when any is dead-lettered within 5 minutes", Alarm: "SendFailuresAlarm",
				Metric: &deadLettered, Unit: Count, Period: 5 * time.Minute, Periods: 1, Red: at(0), Missing: Green,
				Says: "%s dead-lettered in 5 min", Quiet: "none dead-lettered in 5 min"},
		},
		{
			ID: "bounces", Title: "Bounces", About: "SES bounce events per minute, hard and soft", Unit: Count, Style: Bars,
			Series: []Series{{Label: "hard", Metric: hard}, {Label: "soft", Metric: soft}},
			// No alarm in the stack yet (the feedback function publishes these).
			// SES puts an account under review at a 5 % bounce rate: hard
			// bounces over the emails that reached a verdict, delivered or
			// bounced (SES Developer Guide, "Reputation metrics messages":
			// https://docs.aws.amazon.com/ses/latest/dg/reputationdashboard-messages.html;
			// it may pause sending at 10 %); amber at half of it leaves time
			// to act.
			Rule: Rule{Text: "bounce rate (hard bounces of delivered and bounced) over the last hour: amber ≥ 2.5 %, red ≥ 5 % (SES review threshold: 5 %)",
				Ratio: &Ratio{Num: []Metric{hard}, Den: []Metric{delivered, hard, soft}}, Unit: Percent,
				Period: time.Hour, Periods: 1, Amber: at(2.5), Red: at(5), AtLeast: true, Missing: NoData,
				Says: "%s bounce rate", Quiet: "no data yet: no delivery or bounce reported"},
		},
		{
			ID: "complaints", Title: "Complaints", About: "SES complaint events (marked as spam) per minute", Unit: Count, Style: Bars,
			Series: []Series{{Label: "complained", Metric: complained}},
			// SES reviews an account at a 0.1 % complaint rate (complaints
			// over delivered emails), and may pause it at 0.5 % (the page
			// above); amber at half of the review threshold.
			Rule: Rule{Text: "complaint rate (of delivered) over the last hour: amber ≥ 0.05 %, red ≥ 0.1 % (SES review threshold: 0.1 %)",
				Ratio: &Ratio{Num: []Metric{complained}, Den: []Metric{delivered}}, Unit: Percent,
				Period: time.Hour, Periods: 1, Amber: at(0.05), Red: at(0.1), AtLeast: true, Missing: NoData,
				Says: "%s complaint rate", Quiet: "no data yet: no delivery reported"},
		},
		{
			ID: "time-to-send", Title: "Time to send", About: "code issued → SES accepted (the mailer's TimeToSend)", Unit: Milliseconds, Style: Steps,
			Series: []Series{{Label: "p50", Metric: emf("TimeToSend", "p50", "outcome", outcomeSent)}, {Label: "p99", Metric: tts99}},
			// No alarm: a stalled mailer shows first as OldestMessageAgeAlarm.
			// A second is many SES calls' worth (tens of ms each); five is
			// retries and throttling eating the user's patience.
			Rule: Rule{Text: "p99 over 5 minutes: amber > 1 s, red > 5 s",
				Metric: &tts99, Unit: Milliseconds, Period: 5 * time.Minute, Periods: 1, Amber: at(1000), Red: at(5000), Missing: NoData,
				Says: "p99 %s", Quiet: "no email sent in 5 min"},
		},
		{
			ID: "time-to-delivery", Title: "Time to delivery", About: "code issued → the recipient's server accepted (SES delivery events)", Unit: Milliseconds, Style: Steps,
			Series: []Series{{Label: "p50", Metric: emf("TimeToDelivery", "p50")}, {Label: "p99", Metric: ttd99}},
			// From SES's delivery events (the feedback function's EMF). A code
			// lives 3 minutes; 60 s is as long as OldestMessageAgeAlarm lets a
			// code wait in the queue before anyone is told.
			Rule: Rule{Text: "p99 over 5 minutes: amber > 30 s, red > 60 s (a code lives 3 minutes)",
				Metric: &ttd99, Unit: Milliseconds, Period: 5 * time.Minute, Periods: 1, Amber: at(30_000), Red: at(60_000), Missing: NoData,
				Says: "p99 %s", Quiet: "no data yet: no delivery reported in 5 min"},
		},
	}
}

// judge is the state of values, one per period oldest first (NaN: no
// datapoint), and the newest value there is (NaN when none).
func (r Rule) judge(values []float64) (State, float64) {
	latest := math.NaN()
	for _, v := range values {
		if !math.IsNaN(v) {
			latest = v
		}
	}
	if math.IsNaN(latest) {
		return r.Missing, latest
	}
	// The level every period reaches: the least of the periods' levels.
	state := Red
	for _, v := range values {
		if l := r.level(v); l.severity() < state.severity() {
			state = l
		}
	}
	return state, latest
}

// level is the state one value reaches; a missing one breaches nothing.
func (r Rule) level(v float64) State {
	switch {
	case math.IsNaN(v):
		return Green
	case r.Red != nil && r.reaches(v, *r.Red):
		return Red
	case r.Amber != nil && r.reaches(v, *r.Amber):
		return Amber
	}
	return Green
}

func (r Rule) reaches(v, threshold float64) bool {
	if r.AtLeast {
		// A rate computed as 1/1000*100 must reach 0.1 though floating
		// point makes it 0.09999999999999999.
		return v >= threshold-1e-9*math.Max(1, math.Abs(threshold))
	}
	return v > threshold
}

// describe is the value as the page says it.
func (r Rule) describe(v float64, num, den float64) string {
	if math.IsNaN(v) {
		return r.Quiet
	}
	s := fmt.Sprintf(r.Says, r.Unit.Format(v))
	if r.Ratio != nil {
		s += fmt.Sprintf(" (%s of %s)", Count.Format(num), Count.Format(den))
	}
	return s
}
