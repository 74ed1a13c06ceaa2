package otplocal

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/cloudwatchlocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/logslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/web"
)

// emfSink reads a function's log lines as CloudWatch Logs would: every
// Embedded Metric Format document becomes metrics in the CloudWatch store
// (any namespace, every dimension set), and the mailer's also feed what
// the ops page shows: messages per outcome and the distribution of time
// from issue to SES acceptance. Every line, EMF or not, passes on to next
// and into the function's log group in otp-local's CloudWatch Logs
// (logs): CloudWatch Logs stores EMF lines like any other, so whatever
// reads otp-local's logs sees them too. One sink per log stream: a line
// split across writes is joined only with the rest of its own stream.
type emfSink struct {
	next    func([]byte)
	store   *cloudwatchlocal.Store
	stats   *mailerStats      // nil for a function other than the mailer
	logs    *logslocal.Stream // nil: no CloudWatch Logs
	mu      sync.Mutex
	partial []byte
}

// mailerStats is what the ops page shows of the mailer's metrics.
type mailerStats struct {
	mu      sync.Mutex
	counts  map[string]int64 // outcome -> messages
	tts     []float64        // TimeToSend, ms, the most recent maxSamples
	retries int64
	// templateLoads counts TemplateLoadFailures: refreshes of the template
	// store that did not take.
	templateLoads int64
}

const maxSamples = 20_000

// newEMFSink reads one function's log stream into store and logs; stats,
// when not nil, also counts the mailer's outcomes.
func newEMFSink(next io.Writer, store *cloudwatchlocal.Store, stats *mailerStats, logs *logslocal.Stream) *emfSink {
	return &emfSink{next: func(line []byte) { _, _ = next.Write(line) }, store: store, stats: stats, logs: logs}
}

func (s *emfSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		line := s.partial[:i+1]
		s.record(line)
		if s.logs != nil {
			s.logs.PutLine(line)
		}
		if s.next != nil {
			s.next(line)
		}
		s.partial = s.partial[i+1:]
	}
	return len(p), nil
}

func (s *emfSink) record(line []byte) {
	if _, err := s.store.PutEMF(line); err != nil || s.stats == nil {
		return // not EMF, or broken: nothing the ops page would count either
	}
	s.stats.record(line)
}

func (s *mailerStats) record(line []byte) {
	var v struct {
		AWS        json.RawMessage `json:"_aws"`
		Outcome    string          `json:"outcome"`
		Messages   int64           `json:"Messages"`
		Retries    int64           `json:"Retries"`
		TimeToSend []float64       `json:"TimeToSend"`
		Templates  int64           `json:"TemplateLoadFailures"`
	}
	if json.Unmarshal(line, &v) != nil || v.AWS == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts == nil {
		s.counts = map[string]int64{}
	}
	s.templateLoads += v.Templates
	if v.Outcome == "" {
		return // not a per-message line
	}
	s.counts[v.Outcome] += v.Messages
	s.retries += v.Retries
	s.tts = append(s.tts, v.TimeToSend...)
	if over := len(s.tts) - maxSamples; over > 0 {
		s.tts = append(s.tts[:0], s.tts[over:]...)
	}
}

func (s *mailerStats) snapshot() web.MailerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := web.MailerStats{ByOutcome: map[string]int64{}, Retries: s.retries, Samples: len(s.tts)}
	for k, v := range s.counts {
		st.ByOutcome[k] = v
		switch {
		case k == "sent":
			st.Sent += v
		case k == "expired":
			st.Expired += v
		case k == "retry_later":
			st.RetryLater += v
		case len(k) > 4 && k[:4] == "dlq_":
			st.DeadLettered += v
		}
	}
	sorted := slices.Clone(s.tts)
	slices.Sort(sorted)
	st.TimeToSendP50, st.TimeToSendP99 = percentile(sorted, 0.50), percentile(sorted, 0.99)
	return st
}

// percentile of sorted millisecond samples, nearest rank.
func percentile(sorted []float64, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	i = min(max(i, 0), len(sorted)-1)
	return time.Duration(sorted[i] * float64(time.Millisecond))
}

// MailerStats is what the mailer's EMF metric lines have counted so far,
// as CloudWatch would aggregate them: sent, expired, dead-lettered, retries.
func (sys *System) MailerStats() web.MailerStats { return sys.mailerStats.snapshot() }

func (s *mailerStats) templateFailures() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.templateLoads
}
