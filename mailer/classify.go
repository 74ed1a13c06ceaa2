package mailer

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

// Reason says why a message went to the dead-letter queue. The set is
// closed, so it can be a metric dimension and an alarm filter.
type Reason string

const (
	ReasonMalformed         Reason = "malformed"           // body is not a send request
	ReasonUnknownVersion    Reason = "unknown_version"     // written by a newer or older trigger
	ReasonInvalidRequest    Reason = "invalid_request"     // decodes, breaks the contract
	ReasonInvalidRecipient  Reason = "invalid_recipient"   // address SES or we refuse
	ReasonRenderFailed      Reason = "render_failed"       // template set could not render it
	ReasonRejected          Reason = "rejected"            // SES MessageRejected
	ReasonSenderNotVerified Reason = "sender_not_verified" // SES MailFromDomainNotVerified / unverified From
	ReasonSendingPaused     Reason = "sending_paused"      // SES account or configuration set paused
	ReasonSESBadRequest     Reason = "ses_bad_request"     // SES refused the call's shape: a bug or misconfiguration
)

// Reasons lists every dead-letter reason, for otpctl and dashboards.
var Reasons = []Reason{ReasonMalformed, ReasonUnknownVersion, ReasonInvalidRequest, ReasonInvalidRecipient,
	ReasonRenderFailed, ReasonRejected, ReasonSenderNotVerified, ReasonSendingPaused, ReasonSESBadRequest}

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
	case errors.Is(err, contract.ErrInvalidRecipient):
		return ReasonInvalidRecipient
	case errors.Is(err, contract.ErrInvalidRequest):
		return ReasonInvalidRequest
	}
	return ReasonMalformed
}

// classifySESError decides what a SendEmail error means for the message:
// a *PermanentError to dead-letter, or the error itself when a later attempt
// may succeed (throttling, 5xx, timeouts, connection failures).
func classifySESError(err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "MessageRejected":
			return permanent(ReasonRejected, err)
		case "MailFromDomainNotVerifiedException":
			return permanent(ReasonSenderNotVerified, err)
		case "AccountSuspendedException", "SendingPausedException":
			return permanent(ReasonSendingPaused, err)
		case "BadRequestException", "NotFoundException":
			return permanent(ReasonSESBadRequest, err)
		case "TooManyRequestsException", "LimitExceededException":
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
