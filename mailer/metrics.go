package mailer

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// Outcome is how a message left the mailer. It is a metric dimension, so
// the set is closed: the four below and "dlq_<reason>".
type Outcome string

const (
	OutcomeSent       Outcome = "sent"
	OutcomeExpired    Outcome = "expired"     // dropped unsent: the code had expired
	OutcomeDuplicate  Outcome = "duplicate"   // redelivered after this instance sent it
	OutcomeRetryLater Outcome = "retry_later" // batch item failure: SQS redelivers it
	OutcomeRedacted   Outcome = "redacted"    // a redriven dead letter without its code: dropped
)

// DeadLettered is the outcome of a message sent to the DLQ for reason.
func DeadLettered(reason Reason) Outcome { return Outcome("dlq_" + string(reason)) }

// result is one message's fate, what the metrics are made of.
type result struct {
	tenant     string
	outcome    Outcome
	retries    int
	sesLatency time.Duration // the successful SendEmail call
	timeToSend time.Duration // issuedAt -> SES accepted
}

// Metrics writes CloudWatch Embedded Metric Format lines: one JSON object
// per (tenant, outcome) per batch, which CloudWatch Logs turns into metrics
// without a PutMetricData call. Dimensions are tenant and outcome only.
type Metrics struct {
	Namespace string
	mu        sync.Mutex
	w         io.Writer
}

// NewMetrics writes EMF lines to w (stdout in Lambda).
func NewMetrics(w io.Writer, namespace string) *Metrics {
	return &Metrics{w: w, Namespace: namespace}
}

// EMF metric names.
const (
	MetricMessages     = "Messages"
	MetricDeadLettered = "DeadLettered"
	MetricRetries      = "Retries"
	MetricSESLatency   = "SESLatency"
	MetricTimeToSend   = "TimeToSend"
	// MetricTemplateLoadFailures counts refreshes of the template store
	// that did not take: S3 failed, or what it held did not validate. The
	// mailer goes on with the last good templates; an alarm watches it.
	MetricTemplateLoadFailures = "TemplateLoadFailures"
)

// emfMaxValues is EMF's limit of values per metric in one line.
const emfMaxValues = 100

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// emit writes the metrics of one batch.
func (m *Metrics) emit(now time.Time, results []result) error {
	if m == nil || len(results) == 0 {
		return nil
	}
	type key struct {
		tenant  string
		outcome Outcome
	}
	groups := map[key][]result{}
	for _, r := range results {
		k := key{r.tenant, r.outcome}
		groups[k] = append(groups[k], r)
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.tenant, b.tenant), cmp.Compare(a.outcome, b.outcome))
	})
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		for chunk := range slices.Chunk(groups[k], emfMaxValues) {
			if err := m.writeLine(now, k.tenant, k.outcome, chunk); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Metrics) writeLine(now time.Time, tenant string, outcome Outcome, rs []result) error {
	dims := [][]string{{"tenant", "outcome"}, {"outcome"}}
	main := emfDirective{Namespace: m.Namespace, Dimensions: dims, Metrics: []emfMetric{
		{MetricMessages, "Count"}, {MetricRetries, "Count"},
	}}
	line := map[string]any{
		"tenant":       tenant,
		"outcome":      string(outcome),
		MetricMessages: len(rs),
	}
	retries := 0
	for _, r := range rs {
		retries += r.retries
	}
	line[MetricRetries] = retries
	if outcome == OutcomeSent {
		main.Metrics = append(main.Metrics, emfMetric{MetricSESLatency, "Milliseconds"}, emfMetric{MetricTimeToSend, "Milliseconds"})
		ses, tts := make([]float64, len(rs)), make([]float64, len(rs))
		for i, r := range rs {
			ses[i], tts[i] = millis(r.sesLatency), millis(r.timeToSend)
		}
		line[MetricSESLatency], line[MetricTimeToSend] = ses, tts
	}
	directives := []emfDirective{main}
	if len(outcome) > 4 && outcome[:4] == "dlq_" {
		// Per tenant for the dashboard, and an account-wide total with no
		// dimensions for one simple alarm.
		directives = append(directives, emfDirective{Namespace: m.Namespace, Dimensions: [][]string{{"tenant"}, {}},
			Metrics: []emfMetric{{MetricDeadLettered, "Count"}}})
		line[MetricDeadLettered] = len(rs)
	}
	line["_aws"] = emfMeta{Timestamp: now.UnixMilli(), CloudWatchMetrics: directives}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("encode EMF line: %w", err)
	}
	if _, err := m.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write EMF line: %w", err)
	}
	return nil
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// TemplateLoadFailure writes one EMF line counting a failed refresh of the
// template store, with the kind of failure as a property (not a
// dimension: one alarm on the total is what an operator needs, and the
// log line beside it says which set and why).
func (m *Metrics) TemplateLoadFailure(now time.Time, reason string) error {
	if m == nil {
		return nil
	}
	line := map[string]any{
		MetricTemplateLoadFailures: 1,
		"reason":                   reason,
		"_aws": emfMeta{Timestamp: now.UnixMilli(), CloudWatchMetrics: []emfDirective{{
			Namespace: m.Namespace, Dimensions: [][]string{{}},
			Metrics: []emfMetric{{MetricTemplateLoadFailures, "Count"}},
		}}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("encode EMF line: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write EMF line: %w", err)
	}
	return nil
}
