package templates

import (
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates/internal/render"
)

// Message is what the mailer asks for: one email for one recipient.
type Message struct {
	Tenant string        // requested set name (from the send request); unknown -> "default" set, reported
	Locale string        // requested BCP 47 tag, may be empty or garbage
	Kind   contract.Kind // the email; empty means a sign-in code
	Name   string        // display name: UNTRUSTED user attribute
	Email  string        // recipient address: untrusted; no default wording shows it
	Code   string        // the one-time code (4..10 ASCII digits), for the kinds that have one
	// Username and TemporaryPassword are an invitation's, and only an
	// invitation's. The password is shown in the code box exactly as it
	// is, so one the email could not show faithfully (a doubled space, an
	// invisible character) is refused.
	Username          string
	TemporaryPassword string
	// Takeover is an account takeover notice's, and only its: what
	// happened, the details (each left out when empty), and the two
	// feedback links (each left out unless it is an https URL).
	Takeover *contract.Takeover
	TTL      time.Duration // the code's lifetime (minutes, or hours as the wording counts), an invitation's validity (days)
}

func (m Message) renderMessage() render.Message {
	return render.Message{Name: m.Name, Code: m.Code, Username: m.Username, Password: m.TemporaryPassword, TTL: m.TTL, Takeover: m.Takeover}
}

// Email is a rendered message, ready for SES.
type Email struct {
	Subject, HTML, Text   string
	FromAddress, FromName string // from the set's theme.yaml; an empty FromAddress means "use the mailer's default"
	SESTenant             string // the SES tenant the set sends through (theme.yaml's ses_tenant); "" = none
	Set                   string // the set actually used ("default" after a fallback)
	Locale                string // the locale actually used, canonical BCP 47 (for metrics and tags)
	Kind                  contract.Kind
	// SetFallback is true when a non-empty Tenant named no set. LocaleFallback
	// is true when a non-empty Locale matched none of the set's locales (or
	// did not parse) and the set's default locale was used instead, or
	// when a kind fallback found no wording in the locale's language. An
	// empty request is not a fallback: the default is then simply the
	// answer. KindFallback is true when the set has no wording for the
	// kind and the default set's, in the set's theme, stood in.
	SetFallback, LocaleFallback, KindFallback bool
}

// ErrInvalidMessage marks a message that cannot be rendered whatever the
// templates say: a code that is not 4..10 ASCII digits for a kind with a
// code, a lifetime that is not positive, an invitation without a username
// or a temporary password it can show, a takeover notice without its
// details, or a field the kind does not have. Errors wrapping it never
// quote a value. templates/compiled returns the same error.
var ErrInvalidMessage = render.ErrInvalidMessage

// MaxNameRunes bounds a cleaned display name.
const MaxNameRunes = contract.MaxNameRunes

const (
	fsi = '\u2068' // first strong isolate
	pdi = '\u2069' // pop directional isolate
)

// CleanName is the send-request contract's cleaner: the name the email
// shows is cleaned exactly as the trigger cleaned it before enqueueing.
func CleanName(s string) string { return contract.CleanName(s) }
