package trace

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

// line is the fields of the functions' JSON log lines a trace reads: the
// Create trigger's (trigger, outcome code_enqueued or error), the mailer's
// (msg, outcome, request_id, ses_message_id, reason, error) and the
// feedback function's ("ses event": event, outcome, bounce_type, …).
type line struct {
	Time       string `json:"time"`
	Msg        string `json:"msg"`
	Trigger    string `json:"trigger"`
	Outcome    string `json:"outcome"`
	Reason     string `json:"reason"`
	Error      string `json:"error"`
	Note       string `json:"note"`
	Tenant     string `json:"tenant"`
	Generation int    `json:"generation"`
	IssuedAt   string `json:"issued_at"` // Create's: before the enqueue, where its line is written after
	RequestID  string `json:"request_id"`
	ToHash     string `json:"to_hash"`
	SESID      string `json:"ses_message_id"`
	Set        string `json:"template_set"`
	Version    string `json:"template_version"`
	Attempts   int    `json:"attempts"`
	// The feedback function's.
	Event         string `json:"event"`
	SNSID         string `json:"sns_message_id"`
	BounceType    string `json:"bounce_type"`
	BounceSubType string `json:"bounce_sub_type"`
	DelayType     string `json:"delay_type"`
	Feedback      string `json:"complaint_feedback_type"`
	RejectReason  string `json:"reject_reason"`
}

// feedbackSteps maps the feedback function's outcomes to steps. Its
// "sent" (SES's Send event) says again what the mailer's sent line says,
// and "ignored" is about records that are no one's: neither is a step.
var feedbackSteps = map[string]string{
	"delivered":        StepDelivered,
	"bounced":          StepBounced,
	"complained":       StepComplained,
	"suppressed":       StepSuppressed,
	"delayed":          StepDelayed,
	"rejected":         StepRejected,
	"rendering_failed": StepRenderingFailed,
}

// mailerSteps maps the mailer's per-message outcomes to steps; dlq_<reason>
// is StepDeadLettered.
var mailerSteps = map[string]string{
	"sent":        StepSent,
	"retry_later": StepRetrying,
	"expired":     StepExpired,
	"duplicate":   StepDuplicate,
	"redacted":    StepDropped,
}

// parseLine turns one log event into a step, or reports that it is none
// (a line about something else, or not one of the functions' JSON lines).
// Text that reaches the output is scrubbed of addresses again, whatever
// the function did.
func parseLine(group string, ev types.FilteredLogEvent) (Step, bool) {
	var l line
	if json.Unmarshal([]byte(aws.ToString(ev.Message)), &l) != nil {
		return Step{}, false
	}
	s := Step{
		LogGroup: group, RequestID: l.RequestID, Tenant: l.Tenant, ToHash: l.ToHash,
		Reason: contract.ScrubAddresses(l.Reason), Error: contract.ScrubAddresses(l.Error),
		eventID: aws.ToString(ev.EventId),
	}
	// The line's own time has the nanoseconds; the event's timestamp (when
	// Lambda captured it) stands in for a line without one.
	if t, err := time.Parse(time.RFC3339Nano, l.Time); err == nil {
		s.Time = t.UTC()
	} else {
		s.Time = time.UnixMilli(aws.ToInt64(ev.Timestamp)).UTC()
	}
	switch {
	case l.Trigger == "create":
		s.Source, s.Generation, s.Note = "create", l.Generation, l.Note
		switch l.Outcome {
		case "code_enqueued":
			s.Step = StepEnqueued
			// Create writes its line once it has returned from the
			// enqueue, by when the mailer may have sent the email: the
			// request's own time is when it was enqueued.
			if t, err := time.Parse(time.RFC3339Nano, l.IssuedAt); err == nil {
				s.Time = t.UTC()
			}
		case "error":
			s.Step, s.RequestID = StepNotEnqueued, ""
		default:
			return Step{}, false // a wrong answer or an early resend: the same code, nothing sent
		}
	case l.Trigger != "":
		return Step{}, false // Define, Verify: about the sign-in, not the email
	case l.Msg == "ses event" || l.Event != "" && l.SNSID != "":
		step, ok := feedbackSteps[l.Outcome]
		if !ok || l.RequestID == "" {
			return Step{}, false
		}
		s.Source, s.Step, s.Event, s.SESMessageID = "feedback", step, l.Event, l.SESID
		s.TemplateSet, s.TemplateVersion = l.Set, l.Version
		s.BounceType, s.BounceSubType = l.BounceType, l.BounceSubType
		s.Detail = contract.ScrubAddresses(firstOf(l.DelayType, l.Feedback, l.RejectReason))
	case l.RequestID != "":
		s.Source = "mailer"
		s.SESMessageID, s.TemplateSet, s.TemplateVersion, s.Attempts = l.SESID, l.Set, l.Version, l.Attempts
		switch step, ok := mailerSteps[l.Outcome]; {
		case ok:
			s.Step = step
		case strings.HasPrefix(l.Outcome, "dlq_"):
			s.Step = StepDeadLettered
			if s.Reason == "" {
				s.Reason = strings.TrimPrefix(l.Outcome, "dlq_")
			}
		case l.Outcome == "" && l.Msg != "":
			// A fallback the mailer took while rendering: its message is
			// one of the mailer's fixed sentences.
			s.Step, s.Note = StepNote, contract.ScrubAddresses(l.Msg)
		default:
			return Step{}, false
		}
	default:
		return Step{}, false
	}
	return s, true
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
