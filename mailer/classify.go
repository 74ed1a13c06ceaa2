package mailer

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

// Reason says why a message went to the dead-letter queue. The set is
// closed, so it can be a metric dimension and an alarm filter.
type Reason string

const (
	ReasonMalformed           Reason = "malformed"              // body is not a send request
	ReasonUnknownVersion      Reason = "unknown_version"        // written by a newer or older trigger
	ReasonUnknownKind         Reason = "unknown_kind"           // a kind of email this build has no template rules for
	ReasonInvalidRequest      Reason = "invalid_request"        // decodes, breaks the contract
	ReasonInvalidRecipient    Reason = "invalid_recipient"      // address SES or we refuse
	ReasonRenderFailed        Reason = "render_failed"          // template set could not render it
	ReasonRejected            Reason = "rejected"               // SES MessageRejected: this message or recipient (the sandbox's unverified recipients too)
	ReasonSenderNotVerified   Reason = "sender_not_verified"    // SES MessageRejected: the From address is no verified identity
	ReasonMailFromNotVerified Reason = "mail_from_not_verified" // SES MailFromDomainNotVerified: custom MAIL FROM domain without its MX record
	ReasonQuotaExceeded       Reason = "quota_exceeded"         // SES daily sending quota used up
	ReasonSendingPaused       Reason = "sending_paused"         // SES account or configuration set paused
	ReasonSESBadRequest       Reason = "ses_bad_request"        // SES refused the call's shape: a bug or misconfiguration
	// ReasonSESTenant: SES (or IAM) refused the SES tenant the template
	// set names: it does not exist, the sender's identity or the
	// configuration set is not associated with it, or the mailer's role
	// may not send through it (the stack's SESTenants). Every send of the
	// set fails alike until an operator fixes it; otpctl doctor says how.
	ReasonSESTenant Reason = "ses_tenant"
	// ReasonMaxReceives: the message failed transiently on its last allowed
	// receive (OTP_MAX_RECEIVES, the queue's maxReceiveCount); the mailer
	// dead-letters it itself, with the last error and without its code,
	// rather than let SQS move it as it is.
	ReasonMaxReceives Reason = "max_receives"
)

// Reasons lists every dead-letter reason, for otpctl and dashboards.
var Reasons = []Reason{ReasonMalformed, ReasonUnknownVersion, ReasonUnknownKind, ReasonInvalidRequest, ReasonInvalidRecipient,
	ReasonRenderFailed, ReasonRejected, ReasonSenderNotVerified, ReasonMailFromNotVerified, ReasonQuotaExceeded,
	ReasonSendingPaused, ReasonSESBadRequest, ReasonSESTenant, ReasonMaxReceives}

// PermanentError is a failure that no retry can fix: the message goes to
// the dead-letter queue with Reason.
type PermanentError struct {
	Reason Reason
	Err    error
}

func (e *PermanentError) Error() string { return fmt.Sprintf("%s: %v", e.Reason, e.Err) }
func (e *PermanentError) Unwrap() error { return e.Err }

func permanent(reason Reason, err error) error { return &PermanentError{Reason: reason, Err: err} }

// decodeReason maps a contract.DecodeSendRequest error to its dead-letter reason.
func decodeReason(err error) Reason {
	switch {
	case errors.Is(err, contract.ErrUnknownVersion):
		return ReasonUnknownVersion
	case errors.Is(err, contract.ErrUnknownKind):
		return ReasonUnknownKind
	case errors.Is(err, contract.ErrInvalidRecipient):
		return ReasonInvalidRecipient
	case errors.Is(err, contract.ErrInvalidRequest):
		return ReasonInvalidRequest
	}
	return ReasonMalformed
}

// classifySESError decides what a SendEmail error means for the message:
// a *PermanentError to dead-letter, or the error itself when a later attempt
// may succeed (throttling, 5xx, timeouts, connection failures). from is the
// request's FromEmailAddress, which tells an unverified sender from an
// unverified sandbox recipient: SES words both alike. tenant is the
// request's TenantName ("" for none).
func classifySESError(err error, from, tenant string) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if tenant != "" && tenantRefused(apiErr) {
			return permanent(ReasonSESTenant, fmt.Errorf("SES tenant %s (the template set's ses_tenant; otpctl doctor checks it): %w", tenant, err))
		}
		switch code, msg := apiErr.ErrorCode(), apiErr.ErrorMessage(); code {
		case "MessageRejected":
			if senderNotVerified(msg, from) {
				return permanent(ReasonSenderNotVerified, err)
			}
			// A recipient the sandbox refuses lands here too: the sender
			// is fine and the next code to another address may go, so it
			// must not raise the every-send-fails alarm of an unverified
			// sender.
			return permanent(ReasonRejected, err)
		case "MailFromDomainNotVerifiedException":
			return permanent(ReasonMailFromNotVerified, err)
		case "AccountSuspendedException", "SendingPausedException":
			return permanent(ReasonSendingPaused, err)
		case "BadRequestException", "NotFoundException":
			return permanent(ReasonSESBadRequest, err)
		case "LimitExceededException":
			// SES v2's answer to a used-up daily quota. The quota is a
			// rolling 24 hours; a code lives minutes, so no retry helps.
			return permanent(ReasonQuotaExceeded, err)
		case "TooManyRequestsException", "Throttling", "ThrottlingException":
			// SES documents both quotas as throttling, told apart by the
			// text; the per-second rate recovers within a backoff.
			if strings.Contains(strings.ToLower(msg), "daily message quota exceeded") {
				return permanent(ReasonQuotaExceeded, err)
			}
			return err
		}
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err).Bool() || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if apiErr != nil && apiErr.ErrorFault() == smithy.FaultClient {
		return permanent(ReasonSESBadRequest, err)
	}
	// Unknown failures are retried: at worst the queue's redrive policy
	// dead-letters the message after maxReceiveCount deliveries.
	return err
}

// tenantRefused tells a refusal of the request's SES tenant from the
// other refusals it shares its error codes with. AWS documents no error
// for a tenant that does not exist or lacks an association (SendEmail
// "will only succeed if all referenced resources ... are associated with
// this tenant"), so the code is read with SES's words, which name the
// tenant; an AccessDenied while a tenant is named is the IAM condition on
// ses:TenantName (the stack's SESTenants), the mailer's role being
// otherwise fixed by the stack.
func tenantRefused(apiErr smithy.APIError) bool {
	switch apiErr.ErrorCode() {
	case "AccessDeniedException", "AccessDenied":
		return true
	case "NotFoundException", "BadRequestException", "MessageRejected", "SendingPausedException":
		return strings.Contains(strings.ToLower(apiErr.ErrorMessage()), "tenant")
	}
	return false
}

var addressToken = regexp.MustCompile(`[^\s<>,;:"()]+@[^\s<>,;:"()]+`)

// senderNotVerified reads SES's "Email address is not verified. The
// following identities failed the check in region R: a, b" text: the
// sender is at fault when it is among the identities named, or when no
// list came with the text (SES names the sender first, so a list cut
// short with an ellipsis still has it).
func senderNotVerified(msg, from string) bool {
	if !strings.Contains(msg, "Email address is not verified") {
		return false
	}
	_, list, ok := strings.Cut(msg, "failed the check in region")
	if !ok {
		return true
	}
	if _, list, ok = strings.Cut(list, ":"); !ok {
		return true
	}
	sender := from
	if a, err := mail.ParseAddress(from); err == nil {
		sender = a.Address
	}
	for _, addr := range addressToken.FindAllString(list, -1) {
		if strings.EqualFold(strings.TrimRight(addr, "."), sender) {
			return true
		}
	}
	return false
}
