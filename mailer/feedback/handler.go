package feedback

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognito-email-otp/cognito-email-otp/internal/pseudonym"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

// Hasher computes a recipient's to_hash under the project's current HMAC
// key, re-reading it as it rotates; *triggers.Keyring is one, the same
// that hashes the Create trigger's lines.
type Hasher interface {
	CurrentToHash(ctx context.Context, address string) (string, error)
}

// Handler turns SNS deliveries of SES events into metrics and log lines.
type Handler struct {
	Keys    Hasher
	Metrics *Metrics
	Log     *slog.Logger
	Now     func() time.Time
}

// New builds a Handler that writes its logs and EMF lines to out (stdout
// in Lambda, where CloudWatch Logs turns the EMF lines into metrics).
func New(cfg Config, keys Hasher, out io.Writer) *Handler {
	return &Handler{
		Keys:    keys,
		Metrics: NewMetrics(out, cfg.MetricsNamespace),
		Log:     slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: cfg.LogLevel})),
		Now:     time.Now,
	}
}

// Outcomes, the log lines' outcome field: the words otpctl trace reads.
const (
	OutcomeSent            = "sent"
	OutcomeDelivered       = "delivered"
	OutcomeBounced         = "bounced"
	OutcomeSuppressed      = "suppressed"
	OutcomeComplained      = "complained"
	OutcomeDelayed         = "delayed"
	OutcomeRejected        = "rejected"
	OutcomeRenderingFailed = "rendering_failed"
	OutcomeIgnored         = "ignored"
)

// Reasons a record is ignored; the Ignored metric's reason dimension.
const (
	// ReasonUntracked: an event SES publishes that this function does not
	// count (Open, Click, Subscription: the event destination should not
	// be sending them).
	ReasonUntracked = "untracked_event"
	// ReasonUnknownEvent: an eventType SES did not document.
	ReasonUnknownEvent = "unknown_event"
	// ReasonNoTags: an email the mailer did not send (no tenant or
	// request_id tag): Cognito's own emails through the same set, say.
	ReasonNoTags = "no_tags"
	// ReasonMalformed: the SNS message is not an SES event record.
	ReasonMalformed = "malformed"
)

// Tags the mailer sets on every email (mailer/handler.go); kind and
// issued_at are read when present.
const (
	TagTenant          = "tenant"
	TagRequestID       = "request_id"
	TagTemplateSet     = "template_set"
	TagTemplateVersion = "template_version"
	TagLocale          = "locale"
	TagKind            = "kind"
	// TagIssuedAt is when the code was issued, Unix milliseconds; without
	// it TimeToDelivery is measured from SES's acceptance (mail.timestamp).
	TagIssuedAt = "issued_at"
)

// Handle processes every record and returns nil unless a metric could not
// be written: SNS (Lambda's asynchronous invocation) retries an error, and
// a retry cannot make a bad record good.
func (h *Handler) Handle(ctx context.Context, ev events.SNSEvent) error {
	var errs []error
	for _, r := range ev.Records {
		if err := h.record(ctx, r.SNS); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// ignore logs and counts a record that is no send request's.
func (h *Handler) ignore(ctx context.Context, sns events.SNSEntity, reason string, attrs ...slog.Attr) error {
	attrs = append([]slog.Attr{slog.String("outcome", OutcomeIgnored), slog.String("reason", reason),
		slog.String("sns_message_id", sns.MessageID)}, attrs...)
	h.Log.LogAttrs(ctx, slog.LevelWarn, "ses event ignored", attrs...)
	return h.Metrics.ignored(h.now(), reason)
}

func (h *Handler) record(ctx context.Context, sns events.SNSEntity) error {
	var e Event
	if sns.Type != "Notification" || json.Unmarshal([]byte(sns.Message), &e) != nil || e.EventType == "" {
		// A notification SES's identity feedback sends (notificationType,
		// no tags) lands here too: event publishing is what this reads.
		return h.ignore(ctx, sns, ReasonMalformed, slog.String("sns_type", sns.Type))
	}
	which := []slog.Attr{slog.String("event", e.EventType), slog.String("ses_message_id", e.Mail.MessageID)}
	switch e.EventType {
	case TypeSend, TypeDelivery, TypeBounce, TypeComplaint, TypeReject, TypeDeliveryDelay, TypeRenderingFailure, typeRenderingFailure:
	case TypeOpen, TypeClick, TypeSubscription:
		return h.ignore(ctx, sns, ReasonUntracked, which...)
	default:
		return h.ignore(ctx, sns, ReasonUnknownEvent, which...)
	}
	tenant, requestID := e.Mail.Tag(TagTenant), e.Mail.Tag(TagRequestID)
	if tenant == "" || requestID == "" {
		return h.ignore(ctx, sns, ReasonNoTags, which...)
	}
	var errs []error
	for _, v := range verdicts(e) {
		errs = append(errs, h.verdict(ctx, sns, e, v))
	}
	return errors.Join(errs...)
}

// verdict is what one event says about one recipient.
type verdict struct {
	outcome   string
	recipient string
	bounced   string // hard or soft, when the bounce counts as one
	rate      bool   // counts in BounceRate / ComplaintRate
	detail    []slog.Attr
	level     slog.Level
}

// verdicts reads an event, one verdict per recipient it names (the mailer
// sends to one; SES's bounce and complaint events may name several).
func verdicts(e Event) []verdict {
	per := func(v verdict, addrs []string) []verdict {
		out := make([]verdict, 0, len(addrs))
		for _, a := range addrs {
			v.recipient = a
			out = append(out, v)
		}
		if len(out) == 0 {
			out = append(out, v) // no recipient named: still one event
		}
		return out
	}
	recips := func(rs []Recipient) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.EmailAddress
		}
		return out
	}
	switch e.EventType {
	case TypeSend:
		return per(verdict{outcome: OutcomeSent, level: slog.LevelInfo}, e.Mail.Destination)
	case TypeDelivery:
		d := e.Delivery
		if d == nil {
			d = &Delivery{}
		}
		return per(verdict{outcome: OutcomeDelivered, rate: true, level: slog.LevelInfo,
			detail: []slog.Attr{slog.String("smtp_response", contract.ScrubAddresses(d.SMTPResponse))}}, orDest(d.Recipients, e))
	case TypeBounce:
		b := e.Bounce
		if b == nil {
			b = &Bounce{}
		}
		var out []verdict
		for _, r := range orRecipients(b.BouncedRecipients, e) {
			v := verdict{outcome: OutcomeBounced, recipient: r.EmailAddress, level: slog.LevelWarn, rate: true,
				detail: recipientDetail([]slog.Attr{slog.String("bounce_type", b.BounceType), slog.String("bounce_sub_type", b.BounceSubType)}, r)}
			switch {
			case b.BounceSubType == SubAccountList:
				// SES did not try: the address is on the account's list,
				// and SES leaves it out of the bounce rate.
				v.outcome, v.rate = OutcomeSuppressed, false
			case b.BounceSubType == SubSuppressed:
				// SES's global list. SES does not say it leaves these out
				// of the bounce rate; the stricter reading counts them.
				v.outcome, v.bounced = OutcomeSuppressed, BounceHard
			case b.BounceType == BounceTransient:
				v.bounced = BounceSoft
			default: // Permanent, Undetermined
				v.bounced = BounceHard
			}
			out = append(out, v)
		}
		return out
	case TypeComplaint:
		c := e.Complaint
		if c == nil {
			c = &Complaint{}
		}
		v := verdict{outcome: OutcomeComplained, rate: true, level: slog.LevelWarn,
			detail: []slog.Attr{slog.String("complaint_feedback_type", c.ComplaintFeedbackType)}}
		if c.ComplaintSubType != nil && *c.ComplaintSubType == SubAccountList {
			// SES accepted the email and did not send it: the address is
			// on the account's suppression list for a complaint.
			v.outcome, v.rate = OutcomeSuppressed, false
			v.detail = append(v.detail, slog.String("complaint_sub_type", SubAccountList))
		}
		return per(v, recips(orRecipients(c.ComplainedRecipients, e)))
	case TypeDeliveryDelay:
		d := e.DeliveryDelay
		if d == nil {
			d = &DeliveryDelay{}
		}
		var out []verdict
		for _, r := range orRecipients(d.DelayedRecipients, e) {
			out = append(out, verdict{outcome: OutcomeDelayed, recipient: r.EmailAddress, level: slog.LevelWarn,
				detail: recipientDetail([]slog.Attr{slog.String("delay_type", d.DelayType), slog.String("expiration_time", d.ExpirationTime)}, r)})
		}
		return out
	case TypeReject:
		reason := ""
		if e.Reject != nil {
			reason = e.Reject.Reason
		}
		return per(verdict{outcome: OutcomeRejected, level: slog.LevelWarn,
			detail: []slog.Attr{slog.String("reject_reason", reason)}}, e.Mail.Destination)
	default: // rendering failure
		msg := ""
		if e.Failure != nil {
			msg = contract.ScrubAddresses(e.Failure.ErrorMessage)
		}
		return per(verdict{outcome: OutcomeRenderingFailed, level: slog.LevelError,
			detail: []slog.Attr{slog.String("error", msg)}}, e.Mail.Destination)
	}
}

func orDest(rs []string, e Event) []string {
	if len(rs) == 0 {
		return e.Mail.Destination
	}
	return rs
}

func orRecipients(rs []Recipient, e Event) []Recipient {
	if len(rs) > 0 {
		return rs
	}
	out := make([]Recipient, len(e.Mail.Destination))
	for i, d := range e.Mail.Destination {
		out[i] = Recipient{EmailAddress: d}
	}
	return out
}

// recipientDetail adds a DSN's status and diagnostic, addresses masked:
// a diagnostic often quotes the recipient.
func recipientDetail(attrs []slog.Attr, r Recipient) []slog.Attr {
	if r.Status != "" {
		attrs = append(attrs, slog.String("smtp_status", r.Status))
	}
	if r.DiagnosticCode != "" {
		attrs = append(attrs, slog.String("diagnostic", contract.ScrubAddresses(r.DiagnosticCode)))
	}
	return attrs
}

// issuedAt is when the code was issued: the issued_at tag (Unix ms) when
// the mailer set one, else SES's acceptance of the email.
func issuedAt(m Mail) (time.Time, string, bool) {
	if v := m.Tag(TagIssuedAt); v != "" {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 0 {
			return time.UnixMilli(ms), "issued_at", true
		}
	}
	t, ok := parseTime(m.Timestamp)
	return t, "ses_accepted", ok
}

func (h *Handler) verdict(ctx context.Context, sns events.SNSEntity, e Event, v verdict) error {
	m := e.Mail
	tenant := m.Tag(TagTenant)
	toHash, keyErr := h.Keys.CurrentToHash(ctx, v.recipient)
	attrs := []slog.Attr{
		slog.String("event", e.EventType), slog.String("outcome", v.outcome),
		slog.String("tenant", tenant), slog.String("request_id", m.Tag(TagRequestID)),
		slog.String("template_set", m.Tag(TagTemplateSet)), slog.String("template_version", m.Tag(TagTemplateVersion)),
		slog.String("locale", m.Tag(TagLocale)),
		slog.String("ses_message_id", m.MessageID), slog.String("sns_message_id", sns.MessageID),
		slog.String(pseudonym.FieldToHash, toHash),
	}
	if k := m.Tag(TagKind); k != "" {
		attrs = append(attrs, slog.String("kind", k))
	}
	attrs = append(attrs, v.detail...)
	s := sample{tenant: tenant, outcome: v.outcome}
	switch v.outcome {
	case OutcomeSent:
		s.counts = []string{MetricSent}
	case OutcomeDelivered:
		s.counts = []string{MetricDelivered}
		s.bounceRate, s.complaintRate = ptr(0), ptr(0)
		if from, source, ok := issuedAt(m); ok && e.Delivery != nil {
			if at, ok := parseTime(e.Delivery.Timestamp); ok {
				ttd := at.Sub(from)
				attrs = append(attrs, slog.Int64("time_to_delivery_ms", ttd.Milliseconds()), slog.String("time_to_delivery_from", source))
				ttd = max(ttd, 0) // hosts' clocks disagree; a metric cannot be negative time
				s.timeToDelivery = &ttd
			}
		}
	case OutcomeBounced, OutcomeSuppressed:
		if v.outcome == OutcomeSuppressed {
			s.counts = append(s.counts, MetricSuppressed)
		}
		if v.bounced != "" {
			s.counts, s.bounceType = append(s.counts, MetricBounced), v.bounced
			if v.rate {
				s.bounceRate = ptr(map[bool]float64{true: 1, false: 0}[v.bounced == BounceHard])
			}
		}
	case OutcomeComplained:
		s.counts, s.complaintRate = []string{MetricComplained}, ptr(1)
	case OutcomeDelayed:
		s.counts = []string{MetricDelayed}
	case OutcomeRejected:
		s.counts = []string{MetricRejected}
	case OutcomeRenderingFailed:
		s.counts = []string{MetricRenderingFailed}
	}
	if keyErr != nil {
		attrs = append(attrs, slog.String("key_error", strings.TrimSpace(keyErr.Error())))
	}
	h.Log.LogAttrs(ctx, v.level, "ses event", attrs...)
	return h.Metrics.emit(h.now(), s)
}

func ptr(v float64) *float64 { return &v }
