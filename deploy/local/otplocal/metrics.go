package otplocal

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/web"
)

// emfSink reads the mailer's CloudWatch Embedded Metric Format lines, as
// CloudWatch Logs would, and keeps what the ops page shows: messages per
// outcome and the distribution of time from issue to SES acceptance. Every
// line, EMF or not, passes on to next: CloudWatch Logs stores EMF lines
// like any other, so whatever reads otp-local's logs sees them too.
type emfSink struct {
	next    func([]byte)
	mu      sync.Mutex
	partial []byte
	counts  map[string]int64 // outcome -> messages
	tts     []float64        // TimeToSend, ms, the most recent maxSamples
	retries int64
	// templateLoads counts TemplateLoadFailures: refreshes of the template
	// store that did not take.
	templateLoads int64
}

const maxSamples = 20_000

func newEMFSink(next func([]byte)) *emfSink {
	return &emfSink{next: next, counts: map[string]int64{}}
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
		if s.next != nil {
			s.next(line)
		}
		s.partial = s.partial[i+1:]
	}
	return len(p), nil
}

func (s *emfSink) record(line []byte) bool {
	if !bytes.Contains(line, []byte(`"_aws"`)) {
		return false
	}
	var v struct {
		AWS        json.RawMessage `json:"_aws"`
		Outcome    string          `json:"outcome"`
		Messages   int64           `json:"Messages"`
		Retries    int64           `json:"Retries"`
		TimeToSend []float64       `json:"TimeToSend"`
		Templates  int64           `json:"TemplateLoadFailures"`
	}
	if json.Unmarshal(line, &v) != nil || v.AWS == nil {
		return false
	}
	s.templateLoads += v.Templates
	if v.Outcome == "" {
		return true // not a per-message line
	}
	s.counts[v.Outcome] += v.Messages
	s.retries += v.Retries
	s.tts = append(s.tts, v.TimeToSend...)
	if over := len(s.tts) - maxSamples; over > 0 {
		s.tts = append(s.tts[:0], s.tts[over:]...)
	}
	return true
}

func (s *emfSink) stats() web.MailerStats {
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
func (sys *System) MailerStats() web.MailerStats { return sys.metrics.stats() }

func (s *emfSink) templateFailures() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.templateLoads
}
