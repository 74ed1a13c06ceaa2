package sender

import (
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

// Lifetimes of what Cognito sends, as it documents them; the send
// request's ExpiresAt, past which the mailer drops the email unsent.
const (
	// confirmationTTL: sign-up confirmation codes and attribute
	// verification codes work for 24 hours.
	confirmationTTL = 24 * time.Hour
	// passwordResetTTL: a ForgotPassword code works for one hour.
	passwordResetTTL = time.Hour
	// takeoverTTL is ours, not Cognito's: it documents no lifetime for a
	// takeover notice or its feedback links, and a notice a day late about
	// a sign-in is not worth sending.
	takeoverTTL = 24 * time.Hour
)

// lifetime is how long the code, password or notice of kind k is worth
// emailing.
func (c Config) lifetime(k contract.Kind) time.Duration {
	switch k {
	case contract.KindPasswordReset:
		return passwordResetTTL
	case contract.KindInvitation:
		return time.Duration(c.InvitationValidDays) * 24 * time.Hour
	case contract.KindMFACode:
		return c.MFACodeTTL
	case contract.KindAccountTakeover:
		return takeoverTTL
	default: // sign-up and attribute verification
		return confirmationTTL
	}
}
