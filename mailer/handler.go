package mailer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/mail"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

// Email is a rendered message, ready for SES.
type Email struct {
	Subject, HTML, Text string
	// FromAddress and FromName come from the tenant's template set; an empty
	// FromAddress means the mailer's configured default.
	FromAddress, FromName string
	// SESTenant is the SES tenant the set sends through (SendEmail's
	// TenantName), so that one tenant's bounces and complaints weigh on
	// its own reputation, not the account's; "" sends through none.
	SESTenant string
	// Set and Locale are what was actually used, after fallbacks; they tag
	// the email and the metrics.
	Set, Locale string
	// Version names the bundle the set was rendered from (a template store
	// version, or "embedded-…"/"dir-…"): every email says what rendered it,
	// in its SES tags, the log and any dead letter.
	Version string
	// Kind is the email's kind, as the request asked.
	Kind contract.Kind
	// SetFallback and LocaleFallback report that the request's tenant or
	// locale was unknown and a default stood in; KindFallback, that the
	// set has no wording for the kind and the default set's stood in. The
	// mailer logs why.
	SetFallback, LocaleFallback, KindFallback bool
}

// Renderer turns a send request into an email. The templates package
// provides the production one.
type Renderer interface {
	Render(ctx context.Context, r contract.SendRequest) (Email, error)
}

// Refresher is a Renderer whose templates can change while the mailer
// runs (the template store). The handler calls Refresh once before each
// batch, never per email; it returns at once unless a refresh is due, and
// never fails the batch: a failed refresh keeps the templates it had.
type Refresher interface {
	Refresh(ctx context.Context)
}

// SESAPI is the one SES v2 call the mailer makes.
type SESAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// DLQAPI is the one call the mailer makes to its dead-letter queue.
type DLQAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Handler is the mailer Lambda: an SQS batch handler that reports
// per-message failures.
type Handler struct {
	Config   Config
	Renderer Renderer
	// Refresher, when set, is asked before each batch to bring the
	// templates up to date (New sets it when the Renderer is one).
	Refresher Refresher
	SES       SESAPI
	DLQ       DLQAPI
	Metrics   *Metrics
	Log       *slog.Logger

	// Now and Sleep are the clock; tests replace them to run retries
	// without waiting.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	// recent remembers request ids this instance has sent, so an SQS
	// redelivery (at-least-once) does not email the same code twice.
	recent recentIDs
}

// Log field names beyond the triggers' set.
const (
	fieldMessageID = "message_id"
	fieldRequestID = "request_id"
	fieldLocale    = "locale"
	fieldAttempts  = "attempts"
	fieldSESID     = "ses_message_id"
	fieldError     = "error"
	// The email's kind: on every line once the request decoded, and an
	// SES tag.
	fieldKind = "kind"
	// The set and version that rendered the email, on every line after
	// rendering; also the SES tags' names.
	fieldTemplateSet     = "template_set"
	fieldTemplateVersion = "template_version"
	fieldSESTenant       = "ses_tenant"
	// TagIssuedAt is the email tag with the code's issue time, Unix
	// milliseconds, as the feedback function reads it.
	TagIssuedAt = "issued_at"
)

// Dead-letter message attributes, read by otpctl. SQS takes at most 10
// attributes on a message: these eight and otp_tenant leave room for one
// more. When a message was dead-lettered is the dead letter's own
// SentTimestamp.
const (
	AttrReason          = "otp_reason"
	AttrError           = "otp_error"
	AttrSourceMessageID = "otp_source_message_id"
	AttrFirstSent       = "otp_first_sent"
	AttrReceiveCount    = "otp_receive_count"
	// AttrRedacted is "true" on a dead letter whose code the mailer removed.
	AttrRedacted = "otp_redacted"
	// AttrTemplateSet and AttrTemplateVersion name what rendered a request
	// that was dead-lettered after rendering (SES refused it, or it kept
	// failing): the operator sees which version was live.
	AttrTemplateSet     = "otp_template_set"
	AttrTemplateVersion = "otp_template_version"
)

// Handle processes a batch concurrently and returns the messages SQS should
// deliver again. Every message ends as sent, expired, duplicate,
// dead-lettered, or a batch item failure; none is dropped silently.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	if h.Refresher != nil {
		// Before the batch, not per email: at most one conditional GET per
		// refresh interval, and every email of the batch renders from
		// whatever templates are current when it is rendered.
		h.Refresher.Refresh(ctx)
	}
	results := make([]result, len(ev.Records))
	sem := make(chan struct{}, max(1, h.Config.Concurrency))
	var wg sync.WaitGroup
	for i := range ev.Records {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = h.process(ctx, ev.Records[i])
		})
	}
	wg.Wait()

	var resp events.SQSEventResponse
	for i, r := range results {
		if r.outcome == OutcomeRetryLater {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	if err := h.Metrics.emit(h.now(), results); err != nil {
		h.Log.ErrorContext(ctx, "metrics not written", slog.String(fieldError, contract.ScrubAddresses(err.Error())))
	}
	return resp, nil
}

// process takes one message to its end.
func (h *Handler) process(ctx context.Context, msg events.SQSMessage) result {
	log := h.Log.With(slog.String(fieldMessageID, msg.MessageId))
	if a, ok := msg.MessageAttributes[AttrRedacted]; ok && a.StringValue != nil && *a.StringValue == "true" {
		// A dead letter redriven after the mailer removed its code: there is
		// nothing to send, and dead-lettering it again would loop.
		var ids struct{ ID, Tenant string }
		_ = json.Unmarshal([]byte(msg.Body), &ids)
		res := result{tenant: tenantOrUnknown(ids.Tenant), outcome: OutcomeRedacted}
		log.InfoContext(ctx, "redriven dead letter has no code: dropped; the user signs in again",
			slog.String(fieldRequestID, ids.ID), slog.String("tenant", ids.Tenant), slog.String("outcome", string(res.outcome)))
		return res
	}
	req, err := contract.DecodeSendRequest([]byte(msg.Body))
	if err != nil {
		return h.deadLetter(ctx, log, msg, "", nil, permanent(decodeReason(err), err), 0)
	}
	log = log.With(slog.String(fieldRequestID, req.ID), slog.String("tenant", req.Tenant), slog.String(fieldKind, string(req.Kind)))
	res := result{tenant: req.Tenant}

	if !h.now().Before(req.ExpiresAt) {
		res.outcome = OutcomeExpired
		log.InfoContext(ctx, "dropped expired code", slog.String("outcome", string(res.outcome)),
			slog.Duration("expired_for", h.now().Sub(req.ExpiresAt)))
		return res
	}
	if h.recent.seen(req.ID, h.now()) {
		res.outcome = OutcomeDuplicate
		log.InfoContext(ctx, "duplicate delivery of a sent code", slog.String("outcome", string(res.outcome)))
		return res
	}
	email, err := h.Renderer.Render(ctx, req)
	if err != nil {
		return h.deadLetter(ctx, log, msg, req.Tenant, nil, permanent(ReasonRenderFailed, err), 0)
	}
	// What rendered it goes on the lines after rendering by name rather
	// than through log.With, which costs a logger per email.
	rendered := []any{slog.String(fieldTemplateSet, email.Set), slog.String(fieldTemplateVersion, email.Version)}
	if email.SESTenant != "" {
		rendered = append(rendered, slog.String(fieldSESTenant, email.SESTenant))
	}
	if email.SetFallback {
		log.WarnContext(ctx, "unknown tenant: rendered with the default template set",
			append(rendered, slog.String("requested_tenant", req.Tenant))...)
	}
	if email.LocaleFallback && req.Locale != "" {
		log.InfoContext(ctx, "locale not in the template set: rendered in its default locale",
			slog.String("requested_locale", req.Locale), slog.String(fieldLocale, email.Locale))
	}
	if email.KindFallback {
		log.InfoContext(ctx, "the template set has no wording for this kind: rendered with the default set's",
			append(rendered, slog.String(fieldLocale, email.Locale))...)
	}
	in, err := h.sendInput(req, email)
	if err != nil {
		return h.deadLetter(ctx, log, msg, req.Tenant, &email, err, 0)
	}

	sesID, latency, attempts, err := h.sendWithRetries(ctx, in, req.ExpiresAt)
	res.retries = max(0, attempts-1)
	var perm *PermanentError
	switch {
	case err == nil:
		now := h.now()
		h.recent.add(req.ID, req.ExpiresAt, now)
		res.outcome, res.sesLatency, res.timeToSend = OutcomeSent, latency, now.Sub(req.IssuedAt)
		log.InfoContext(ctx, "sent", append(rendered, slog.String("outcome", string(res.outcome)), slog.String(fieldLocale, email.Locale),
			slog.String(fieldSESID, sesID), slog.Int(fieldAttempts, attempts),
			slog.Duration("ses_latency", latency), slog.Duration("time_to_send", res.timeToSend))...)
	case errors.As(err, &perm):
		r := h.deadLetter(ctx, log, msg, req.Tenant, &email, err, res.retries)
		return r
	case errors.Is(err, errExpiredWhileRetrying):
		res.outcome = OutcomeExpired
		log.WarnContext(ctx, "code expired while retrying", append(rendered, slog.String("outcome", string(res.outcome)),
			slog.Int(fieldAttempts, attempts), slog.String(fieldError, contract.ScrubAddresses(err.Error())))...)
	case h.lastReceive(msg):
		return h.deadLetter(ctx, log, msg, req.Tenant, &email, permanent(ReasonMaxReceives, fmt.Errorf("receive %s of %d: %w",
			msg.Attributes["ApproximateReceiveCount"], h.Config.MaxReceives, err)), res.retries)
	default:
		res.outcome = OutcomeRetryLater
		log.WarnContext(ctx, "send failed, SQS will redeliver", append(rendered, slog.String("outcome", string(res.outcome)),
			slog.Int(fieldAttempts, attempts), slog.String(fieldError, contract.ScrubAddresses(err.Error())))...)
	}
	return res
}

// lastReceive reports whether SQS would move msg to the dead-letter queue
// rather than deliver it again.
func (h *Handler) lastReceive(msg events.SQSMessage) bool {
	n, err := strconv.Atoi(msg.Attributes["ApproximateReceiveCount"])
	return h.Config.MaxReceives > 0 && err == nil && n >= h.Config.MaxReceives
}

// sendInput builds the SES request. The From name may hold any Unicode;
// net/mail encodes it (RFC 2047) so it cannot break the header.
func (h *Handler) sendInput(req contract.SendRequest, e Email) (*sesv2.SendEmailInput, error) {
	from, err := h.fromAddress(e)
	if err != nil {
		return nil, permanent(ReasonRenderFailed, err)
	}
	utf8 := aws.String("UTF-8")
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(from),
		Destination:      &sestypes.Destination{ToAddresses: []string{req.To}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String(e.Subject), Charset: utf8},
			Body: &sestypes.Body{
				Html: &sestypes.Content{Data: aws.String(e.HTML), Charset: utf8},
				Text: &sestypes.Content{Data: aws.String(e.Text), Charset: utf8},
			},
			// The request id lets support match a received email to logs,
			// and keeps Gmail from threading separate codes together.
			Headers: []sestypes.MessageHeader{{Name: aws.String("X-Entity-Ref-ID"), Value: aws.String(req.ID)}},
		}},
		EmailTags: []sestypes.MessageTag{
			{Name: aws.String("tenant"), Value: aws.String(req.Tenant)},
			{Name: aws.String("locale"), Value: aws.String(tagValue(e.Locale))},
			{Name: aws.String("request_id"), Value: aws.String(req.ID)},
			{Name: aws.String(fieldKind), Value: aws.String(tagValue(string(req.Kind)))},
			{Name: aws.String(fieldTemplateSet), Value: aws.String(tagValue(e.Set))},
			{Name: aws.String(fieldTemplateVersion), Value: aws.String(tagValue(e.Version))},
			// SES hands the tags back in every delivery event: the feedback
			// function measures time to delivery from the code's issue.
			{Name: aws.String(TagIssuedAt), Value: aws.String(strconv.FormatInt(req.IssuedAt.UnixMilli(), 10))},
		},
	}
	if h.Config.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(h.Config.ConfigurationSet)
	}
	if e.SESTenant != "" {
		in.TenantName = aws.String(e.SESTenant)
		in.EmailTags = append(in.EmailTags, sestypes.MessageTag{Name: aws.String(fieldSESTenant), Value: aws.String(e.SESTenant)})
	}
	return in, nil
}

func (h *Handler) fromAddress(e Email) (string, error) {
	if e.FromAddress == "" {
		a, err := mail.ParseAddress(h.Config.FromAddress)
		if err != nil {
			return "", fmt.Errorf("OTP_FROM_ADDRESS: %w", err)
		}
		return a.String(), nil
	}
	a := mail.Address{Name: e.FromName, Address: e.FromAddress}
	if _, err := mail.ParseAddress(a.String()); err != nil {
		return "", fmt.Errorf("template set %s: from address: %w", e.Set, err)
	}
	return a.String(), nil
}

// tagValue keeps an SES tag value to its allowed characters
// ([A-Za-z0-9_-], at most 256): set names and versions are made of them
// already, locales are canonical BCP 47 tags; anything else becomes "_"
// rather than failing the send.
func tagValue(s string) string {
	if s == "" {
		return "none"
	}
	if len(s) > 256 {
		s = s[:256]
	}
	if validTag(s) {
		return s // the usual case, without a copy
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}

func validTag(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Backoff between SES attempts: full jitter over an exponential ceiling.
const (
	backoffBase = 50 * time.Millisecond
	backoffCap  = 2 * time.Second
	// attemptTimeout bounds one SendEmail call; SES normally answers in
	// tens of milliseconds.
	attemptTimeout = 5 * time.Second
	// deadlineMargin is left of the Lambda's time for reporting the batch.
	deadlineMargin = 2 * time.Second
)

// errExpiredWhileRetrying: the code expires before another attempt could
// be made, so a redelivery could only drop it.
var errExpiredWhileRetrying = errors.New("code expires before the next attempt")

// sendWithRetries calls SES until it accepts the email, a permanent error
// comes back, or the retry budget, the invocation's deadline or the code's
// expiry runs out.
func (h *Handler) sendWithRetries(ctx context.Context, in *sesv2.SendEmailInput, expiresAt time.Time) (sesID string, latency time.Duration, attempts int, err error) {
	stop := h.now().Add(h.Config.RetryBudget)
	if dl, ok := ctx.Deadline(); ok {
		stop = minTime(stop, dl.Add(-deadlineMargin))
	}
	for {
		attempts++
		start := h.now()
		callCtx, cancel := context.WithTimeout(ctx, attemptTimeout)
		out, callErr := h.SES.SendEmail(callCtx, in)
		cancel()
		if callErr == nil {
			return aws.ToString(out.MessageId), h.now().Sub(start), attempts, nil
		}
		err = classifySESError(callErr, aws.ToString(in.FromEmailAddress), aws.ToString(in.TenantName))
		var perm *PermanentError
		if errors.As(err, &perm) || ctx.Err() != nil {
			return "", 0, attempts, err
		}
		ceiling := min(backoffCap, backoffBase<<min(attempts-1, 16))
		wait := time.Duration(rand.Int64N(int64(ceiling) + 1))
		if !h.now().Add(wait).Before(expiresAt) {
			return "", 0, attempts, fmt.Errorf("%w after %d attempts: %w", errExpiredWhileRetrying, attempts, err)
		}
		if !h.now().Add(wait).Before(stop) {
			return "", 0, attempts, fmt.Errorf("gave up after %d attempts: %w", attempts, err)
		}
		if serr := h.sleep(ctx, wait); serr != nil {
			return "", 0, attempts, fmt.Errorf("gave up after %d attempts: %w", attempts, err)
		}
	}
}

// deadLetter moves a message to the DLQ with its reason and acks it on the
// main queue. If the DLQ itself cannot be reached, the message is left for
// SQS to redeliver instead, so it is never lost.
//
// email is what the request rendered to, when it got that far: the dead
// letter then names the template set and version.
func (h *Handler) deadLetter(ctx context.Context, log *slog.Logger, msg events.SQSMessage, tenant string, email *Email, cause error, retries int) result {
	var perm *PermanentError
	reason := ReasonMalformed
	if errors.As(cause, &perm) {
		reason = perm.Reason
	}
	res := result{tenant: tenantOrUnknown(tenant), outcome: DeadLettered(reason), retries: retries}
	why := contract.ScrubAddresses(cause.Error())
	attrs := map[string]sqstypes.MessageAttributeValue{
		AttrReason:          stringAttr(string(reason)),
		AttrError:           stringAttr(truncate(why, 1000)),
		AttrSourceMessageID: stringAttr(msg.MessageId),
	}
	if tenant != "" {
		attrs[contract.AttrTenant] = stringAttr(tenant)
	}
	if email != nil && email.Set != "" {
		attrs[AttrTemplateSet] = stringAttr(email.Set)
		attrs[AttrTemplateVersion] = stringAttr(tagValue(email.Version))
		log = log.With(slog.String(fieldTemplateSet, email.Set), slog.String(fieldTemplateVersion, email.Version))
		if email.SESTenant != "" {
			log = log.With(slog.String(fieldSESTenant, email.SESTenant))
		}
	}
	if v := msg.Attributes["SentTimestamp"]; v != "" {
		attrs[AttrFirstSent] = numberAttr(v)
	}
	if v := msg.Attributes["ApproximateReceiveCount"]; v != "" {
		attrs[AttrReceiveCount] = numberAttr(v)
	}
	body := msg.Body
	if redacted, ok := contract.Redact([]byte(body)); ok {
		body = string(redacted)
		attrs[AttrRedacted] = stringAttr("true")
	}
	if body == "" {
		body = "(empty)" // SQS refuses empty bodies; the reason attribute says what happened
	}
	_, err := h.DLQ.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:          aws.String(h.Config.DLQURL),
		MessageBody:       aws.String(body),
		MessageAttributes: attrs,
	})
	if err != nil {
		res.outcome = OutcomeRetryLater
		log.ErrorContext(ctx, "dead-letter queue unreachable, SQS will redeliver", slog.String("outcome", string(res.outcome)),
			slog.String(fieldReason, string(reason)), slog.String(fieldError, why), slog.String("dlq_error", contract.ScrubAddresses(err.Error())))
		return res
	}
	log.WarnContext(ctx, "dead-lettered", slog.String("outcome", string(res.outcome)),
		slog.String(fieldReason, string(reason)), slog.String(fieldError, why))
	return res
}

const fieldReason = "reason"

func tenantOrUnknown(t string) string {
	if t == "" {
		return "unknown"
	}
	return t
}

func stringAttr(v string) sqstypes.MessageAttributeValue {
	return sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

func numberAttr(v string) sqstypes.MessageAttributeValue {
	if _, err := strconv.ParseInt(v, 10, 64); err != nil {
		return stringAttr(v)
	}
	return sqstypes.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(v)}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) sleep(ctx context.Context, d time.Duration) error {
	if h.Sleep != nil {
		return h.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxRecentIDs bounds the duplicate filter's memory (about 100 bytes each).
const maxRecentIDs = 10_000

// recentIDs is a small expiring set of request ids this instance sent.
type recentIDs struct {
	mu  sync.Mutex
	ids map[string]time.Time // id -> code expiry; after that a duplicate is dropped as expired anyway
}

func (r *recentIDs) seen(id string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	exp, ok := r.ids[id]
	return ok && now.Before(exp)
}

func (r *recentIDs) add(id string, expires, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = map[string]time.Time{}
	}
	if len(r.ids) >= maxRecentIDs {
		// Expired first; then any, in map order, down to nine tenths, so
		// that the sweep (a pass over the whole map) comes once per
		// thousand sends at most, not on every send of a busy mailer.
		for k, exp := range r.ids {
			if !now.Before(exp) {
				delete(r.ids, k)
			}
		}
		for k := range r.ids {
			if len(r.ids) < maxRecentIDs*9/10 {
				break
			}
			delete(r.ids, k)
		}
	}
	r.ids[id] = expires
}
