package feedback

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// EMF metric names. Delivered, Bounced (bounce_type hard or soft),
// Complained and TimeToDelivery are what otp-local's health lines and the
// stack's alarms read; BounceRate and ComplaintRate are one value per
// verdict (1 for a hard bounce or a complaint, 0 for a delivery or a soft
// bounce), so their Average over any window is the rate, per tenant in
// one Metrics Insights query.
const (
	MetricSent            = "Sent"
	MetricDelivered       = "Delivered"
	MetricBounced         = "Bounced"
	MetricComplained      = "Complained"
	MetricSuppressed      = "Suppressed"
	MetricDelayed         = "Delayed"
	MetricRejected        = "Rejected"
	MetricRenderingFailed = "RenderingFailed"
	MetricTimeToDelivery  = "TimeToDelivery"
	MetricBounceRate      = "BounceRate"
	MetricComplaintRate   = "ComplaintRate"
	// MetricIgnored counts records that are no send request's (by reason).
	MetricIgnored = "Ignored"
)

// Values of the bounce_type dimension: SES's Permanent is hard, Transient
// soft; Undetermined is counted as hard, the stricter reading (SES does not
// say whether its bounce rate counts it).
const (
	BounceHard = "hard"
	BounceSoft = "soft"
)

// Metrics writes CloudWatch Embedded Metric Format lines, one per event
// and recipient, every metric both per tenant and account-wide (the
// dimension set [] is what the account's alarms read).
type Metrics struct {
	Namespace string
	mu        sync.Mutex
	w         io.Writer
}

// NewMetrics writes EMF lines to w (stdout in Lambda).
func NewMetrics(w io.Writer, namespace string) *Metrics {
	return &Metrics{w: w, Namespace: namespace}
}

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

// sample is what one event and recipient counts.
type sample struct {
	tenant, outcome string
	counts          []string // metrics counted once (Count)
	bounceType      string   // with MetricBounced
	bounceRate      *float64
	complaintRate   *float64
	timeToDelivery  *time.Duration
}

func (m *Metrics) emit(now time.Time, s sample) error {
	if m == nil {
		return nil
	}
	line := map[string]any{"tenant": s.tenant, "outcome": s.outcome}
	byTenant := emfDirective{Namespace: m.Namespace, Dimensions: [][]string{{"tenant"}, {}}}
	var directives []emfDirective
	for _, name := range s.counts {
		line[name] = 1
		if name == MetricBounced {
			// By bounce type, as the health lines and the alarms read it.
			line["bounce_type"] = s.bounceType
			directives = append(directives, emfDirective{Namespace: m.Namespace,
				Dimensions: [][]string{{"tenant", "bounce_type"}, {"bounce_type"}}, Metrics: []emfMetric{{MetricBounced, "Count"}}})
			continue
		}
		byTenant.Metrics = append(byTenant.Metrics, emfMetric{name, "Count"})
	}
	if s.bounceRate != nil {
		line[MetricBounceRate] = *s.bounceRate
		byTenant.Metrics = append(byTenant.Metrics, emfMetric{MetricBounceRate, "None"})
	}
	if s.complaintRate != nil {
		line[MetricComplaintRate] = *s.complaintRate
		byTenant.Metrics = append(byTenant.Metrics, emfMetric{MetricComplaintRate, "None"})
	}
	if s.timeToDelivery != nil {
		line[MetricTimeToDelivery] = millis(*s.timeToDelivery)
		byTenant.Metrics = append(byTenant.Metrics, emfMetric{MetricTimeToDelivery, "Milliseconds"})
	}
	if len(byTenant.Metrics) > 0 {
		directives = append([]emfDirective{byTenant}, directives...)
	}
	if len(directives) == 0 {
		return nil
	}
	line["_aws"] = emfMeta{Timestamp: now.UnixMilli(), CloudWatchMetrics: directives}
	return m.write(line)
}

// ignored counts a record that is no send request's, by reason, with no
// tenant: it names none that can be trusted.
func (m *Metrics) ignored(now time.Time, reason string) error {
	if m == nil {
		return nil
	}
	return m.write(map[string]any{
		"outcome": "ignored", "reason": reason, MetricIgnored: 1,
		"_aws": emfMeta{Timestamp: now.UnixMilli(), CloudWatchMetrics: []emfDirective{{
			Namespace: m.Namespace, Dimensions: [][]string{{"reason"}, {}}, Metrics: []emfMetric{{MetricIgnored, "Count"}},
		}}},
	})
}

func (m *Metrics) write(line map[string]any) error {
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

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
