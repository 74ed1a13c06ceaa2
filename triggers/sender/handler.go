package sender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/sender/ciphertext"
)

// Decrypter turns an event's request.code back into plaintext
// (ciphertext.Decrypter).
type Decrypter interface {
	DecryptFor(ctx context.Context, ciphertextB64, pool string) ([]byte, error)
}

// DLQAPI is the one call the sender makes to the dead-letter queue.
type DLQAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Handler is the Custom Email Sender trigger: every email the user pool
// itself sends arrives here, its secret decrypted, and leaves as a send
// request of its kind on the mailer's queue. It never sends email and
// never logs a code, password, feedback link or full address.
type Handler struct {
	Config    Config
	Decrypter Decrypter
	Queue     triggers.Enqueuer
	DLQ       DLQAPI
	Log       *slog.Logger
	Now       func() time.Time
	Random    io.Reader // crypto/rand when nil
}

// Dead-letter message attributes: the names the mailer's dead letters
// carry (mailer.AttrReason and the rest; a test pins them), so otpctl dlq
// and the ops page list the sender's beside the mailer's. The mailer
// package itself is not imported: it would link SES into this function.
const (
	attrReason = "otp_reason"
	attrError  = "otp_error"
	// attrRedacted is "true": the dead letter carries no secret, so a
	// redrive drops it rather than sending an email without one.
	attrRedacted = "otp_redacted"
	// attrTriggerSource is the event's triggerSource, the sender's own.
	attrTriggerSource = "otp_trigger_source"
)

// Reasons an event is dead-lettered. A ciphertext the decrypter refuses
// is "ciphertext_" and its ciphertext.Reason (ciphertext_tampered, …).
const (
	ReasonUnknownSource = "unknown_trigger_source" // a source this build does not know
	ReasonWrongPool     = "wrong_pool"             // an event from a pool other than OTP_USER_POOL_ID
	ReasonInvalidEvent  = "invalid_event"          // no code, no usable recipient, or fields the contract refuses
	reasonCiphertext    = "ciphertext_"
)

// Outcomes, as logged.
const (
	OutcomeEnqueued     = "enqueued"
	OutcomeDeadLettered = "dead_lettered"
	OutcomeRetry        = "retry" // an error returned, for Lambda to invoke again
)

// Log field names beyond the triggers' set.
const (
	fieldTriggerSource = "trigger_source"
	fieldKind          = "kind"
	fieldRequestID     = "request_id"
	fieldTenantSource  = "tenant_source"
	fieldRefused       = "refused_attribute"
	fieldError         = "error"
)

// enqueueTimeout bounds each SQS call and its retries.
const enqueueTimeout = 2 * time.Second

// ErrRetry wraps every error Handle returns: the event could not be
// handled now (KMS or SQS unavailable) and Lambda's retry may succeed.
var ErrRetry = errors.New("custom email sender: try again")

// permanent is an event no retry can send, with its reason.
type permanent struct {
	reason string
	err    error
}

func (p *permanent) Error() string { return p.reason + ": " + p.err.Error() }

func refuse(reason string, err error) error { return &permanent{reason: reason, err: err} }

// Handle enqueues the email the event asks for. It returns an error only
// when a retry may succeed (KMS throttled or down, the queue unreachable);
// an event no retry can send (an unknown source, a refused ciphertext, no
// usable address) goes to the dead-letter queue with its reason, and Handle
// returns nil, so that Lambda does not invoke it twice more for nothing.
func (h *Handler) Handle(ctx context.Context, ev Event) (Event, error) {
	kind, _ := KindOf(ev.TriggerSource)
	tenant, tenantSource, tenantRefused := triggers.Tenants{ByClient: h.Config.Tenants}.Resolve(ev.CallerContext.ClientID, ev.Request.UserAttributes)
	extra := []slog.Attr{slog.String(fieldTriggerSource, logSafe(ev.TriggerSource)), slog.String(fieldTenantSource, tenantSource)}
	if kind != "" {
		extra = append(extra, slog.String(fieldKind, string(kind)))
	}
	id, err := triggers.NewID(h.random())
	if err != nil {
		return h.retry(ctx, ev, tenant, extra, err)
	}
	extra = append(extra, slog.String(fieldRequestID, id))

	sr, locRefused, err := h.request(ctx, ev, kind, id, tenant)
	for _, refused := range []string{tenantRefused, locRefused} {
		if refused != "" {
			extra = append(extra, slog.String(fieldRefused, refused))
		}
	}
	if err == nil {
		enqCtx, cancel := context.WithTimeout(ctx, enqueueTimeout)
		err = h.Queue.Enqueue(enqCtx, sr)
		cancel()
		if err != nil {
			err = fmt.Errorf("enqueue: %w", err)
		}
	}
	var perm *permanent
	switch {
	case err == nil:
		triggers.LogOutcome(ctx, h.Log, slog.LevelInfo, "sender", ev.CognitoEventUserPoolsHeader, tenant, OutcomeEnqueued, "", extra...)
		return ev, nil
	case errors.As(err, &perm):
		if dlqErr := h.deadLetter(ctx, ev, kind, id, tenant, perm); dlqErr != nil {
			return h.retry(ctx, ev, tenant, extra, fmt.Errorf("%s; dead-letter queue: %w", perm.Error(), dlqErr))
		}
		extra = append(extra, slog.String(fieldError, contract.ScrubAddresses(perm.err.Error())))
		triggers.LogOutcome(ctx, h.Log, slog.LevelWarn, "sender", ev.CognitoEventUserPoolsHeader, tenant, OutcomeDeadLettered, perm.reason, extra...)
		return ev, nil
	default:
		return h.retry(ctx, ev, tenant, extra, err)
	}
}

// request builds the send request the event asks for, decrypting its
// secret. A *permanent error is one no retry can fix.
func (h *Handler) request(ctx context.Context, ev Event, kind contract.Kind, id, tenant string) (contract.SendRequest, string, error) {
	attrs := ev.Request.UserAttributes
	switch {
	case kind == "":
		return contract.SendRequest{}, "", refuse(ReasonUnknownSource, fmt.Errorf("trigger source %q is none this build knows", logSafe(ev.TriggerSource)))
	case h.Config.UserPoolID != "" && ev.UserPoolID != h.Config.UserPoolID:
		return contract.SendRequest{}, "", refuse(ReasonWrongPool, fmt.Errorf("the event is from user pool %q, not %q", logSafe(ev.UserPoolID), h.Config.UserPoolID))
	case ev.Request.Type != RequestTypeV1:
		return contract.SendRequest{}, "", refuse(ReasonInvalidEvent, fmt.Errorf("request type %q, want %s", logSafe(ev.Request.Type), RequestTypeV1))
	}
	loc, locRefused := triggers.Locale(attrs, ev.Request.ClientMetadata)
	now := h.now().UTC()
	sr := contract.SendRequest{
		V:         contract.SendRequestVersion,
		Kind:      kind,
		ID:        id,
		Tenant:    tenant,
		Locale:    loc,
		To:        recipient(kind, attrs),
		Name:      contract.CleanName(triggers.DisplayName(attrs)),
		IssuedAt:  now,
		ExpiresAt: now.Add(h.Config.lifetime(kind)),
	}
	if err := contract.ValidateRecipient(sr.To); err != nil {
		return sr, locRefused, refuse(ReasonInvalidEvent, fmt.Errorf("recipient: %w", err))
	}
	if kind == contract.KindAccountTakeover {
		sr.Takeover = takeover(attrs, now)
	} else {
		secret, err := h.decrypt(ctx, ev)
		if err != nil {
			return sr, locRefused, err
		}
		if kind == contract.KindInvitation {
			sr.Username, sr.TemporaryPassword = username(ev), contract.Secret(secret)
		} else {
			sr.Code = contract.Code(secret)
		}
	}
	if err := sr.Validate(); err != nil {
		return sr, locRefused, refuse(ReasonInvalidEvent, err)
	}
	return sr, locRefused, nil
}

// decrypt returns the event's secret. A refused ciphertext is permanent;
// KMS unavailable is not.
func (h *Handler) decrypt(ctx context.Context, ev Event) (string, error) {
	if ev.Request.Code == nil || *ev.Request.Code == "" {
		return "", refuse(ReasonInvalidEvent, errors.New("request.code is empty: this source always carries one"))
	}
	plain, err := h.Decrypter.DecryptFor(ctx, *ev.Request.Code, ev.UserPoolID)
	switch {
	case ciphertext.IsTransient(err):
		return "", fmt.Errorf("decrypt request.code: %w", err)
	case err != nil:
		reason := string(ciphertext.ReasonOf(err))
		if reason == "" {
			reason = string(ciphertext.ReasonMalformed)
		}
		return "", refuse(reasonCiphertext+reason, err)
	}
	secret := string(plain)
	clear(plain)
	return secret, nil
}

// recipient is where Cognito's email goes: the email attribute, which for
// an attribute verification is already the new address. A takeover notice
// carries no attributes of the user's but USER_NAME, which in a pool whose
// usernames are email addresses is the address.
func recipient(kind contract.Kind, attrs map[string]string) string {
	if to := attrs[attrEmail]; to != "" || kind != contract.KindAccountTakeover {
		return to
	}
	return attrs[attrUserName]
}

// username is the name an invitation tells the new user to sign in with.
// In a pool whose username attribute is email, Cognito's userName is the
// user's sub, which nobody can type: the address is the sign-in name.
func username(ev Event) string {
	attrs := ev.Request.UserAttributes
	if ev.UserName == "" || ev.UserName == attrs["sub"] {
		return attrs[attrEmail]
	}
	return ev.UserName
}

// loginTimeLayouts are the forms LOGIN_TIME has been seen in: Cognito's
// own ("Friday, March 19, 2021 02:25 PM UTC"), and RFC 3339 for good
// measure.
var loginTimeLayouts = []string{"Monday, January 2, 2006 03:04 PM MST", time.RFC3339}

// takeover is the notice's details from threat protection's attributes.
// An unreadable login time becomes the time of the notice: the email is
// still worth sending.
func takeover(attrs map[string]string, now time.Time) *contract.Takeover {
	login := now
	for _, layout := range loginTimeLayouts {
		if t, err := time.Parse(layout, strings.TrimSpace(attrs[attrLoginTime])); err == nil {
			login = t.UTC()
			break
		}
	}
	return &contract.Takeover{
		EventID:      attrs[attrEventID],
		Action:       attrs[attrAction],
		LoginTime:    login,
		IPAddress:    attrs[attrIPAddress],
		City:         attrs[attrCity],
		Country:      attrs[attrCountry],
		Device:       attrs[attrDeviceName],
		ThisWasMe:    contract.Secret(attrs[attrLinkValid]),
		ThisWasNotMe: contract.Secret(attrs[attrLinkInvalid]),
	}
}

// deadLetter is what the dead-letter queue keeps of an event: what it was
// and why it could not be sent, never its ciphertext, secret, links or
// full address.
type deadLetter struct {
	V             int           `json:"v"`
	Kind          contract.Kind `json:"kind,omitempty"`
	ID            string        `json:"id"`
	Tenant        string        `json:"tenant"`
	To            string        `json:"to,omitempty"` // masked
	TriggerSource string        `json:"triggerSource"`
	UserPoolID    string        `json:"userPoolId"`
	IssuedAt      time.Time     `json:"issuedAt"`
}

func (h *Handler) deadLetter(ctx context.Context, ev Event, kind contract.Kind, id, tenant string, perm *permanent) error {
	now := h.now().UTC()
	body, err := json.Marshal(deadLetter{V: contract.SendRequestVersion, Kind: kind, ID: id, Tenant: tenant,
		To: maskedRecipient(kind, ev.Request.UserAttributes), TriggerSource: logSafe(ev.TriggerSource),
		UserPoolID: logSafe(ev.UserPoolID), IssuedAt: now})
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	attrs := map[string]sqstypes.MessageAttributeValue{
		attrReason:          stringAttr(perm.reason),
		attrError:           stringAttr(truncate(contract.ScrubAddresses(perm.err.Error()), 1000)),
		attrRedacted:        stringAttr("true"),
		attrTriggerSource:   stringAttr(logSafe(ev.TriggerSource)),
		contract.AttrTenant: stringAttr(tenant),
	}
	if kind != "" {
		attrs[contract.AttrKind] = stringAttr(string(kind))
	}
	dlqCtx, cancel := context.WithTimeout(ctx, enqueueTimeout)
	defer cancel()
	if _, err := h.DLQ.SendMessage(dlqCtx, &sqs.SendMessageInput{
		QueueUrl: aws.String(h.Config.DLQURL), MessageBody: aws.String(string(body)), MessageAttributes: attrs,
	}); err != nil {
		return fmt.Errorf("sqs SendMessage: %w", err)
	}
	return nil
}

func maskedRecipient(kind contract.Kind, attrs map[string]string) string {
	to := recipient(kind, attrs)
	if _, err := mail.ParseAddress(to); err != nil {
		return ""
	}
	return contract.MaskEmail(to)
}

// retry logs an event left for Lambda to invoke again, and returns the
// error that makes it do so.
func (h *Handler) retry(ctx context.Context, ev Event, tenant string, extra []slog.Attr, err error) (Event, error) {
	why := contract.ScrubAddresses(err.Error())
	triggers.LogOutcome(ctx, h.Log, slog.LevelError, "sender", ev.CognitoEventUserPoolsHeader, tenant, OutcomeRetry, why, extra...)
	return ev, fmt.Errorf("%w: %s", ErrRetry, why)
}

// logSafe bounds a value from the event for a log line or attribute.
func logSafe(s string) string {
	if len(s) > 100 {
		s = s[:100]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func stringAttr(v string) sqstypes.MessageAttributeValue {
	if v == "" {
		v = "-" // SQS refuses empty attribute values
	}
	return sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) random() io.Reader {
	if h.Random != nil {
		return h.Random
	}
	return randReader
}
