package templates

import (
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates/internal/render"
)

// Message is what the mailer asks for: one code for one recipient.
type Message struct {
	Tenant string        // requested set name (from the send request); unknown -> "default" set, reported
	Locale string        // requested BCP 47 tag, may be empty or garbage
	Name   string        // display name: UNTRUSTED user attribute
	Email  string        // recipient address: untrusted; no default wording shows it
	Code   string        // the one-time code (4..10 ASCII digits)
	TTL    time.Duration // code lifetime, shown as whole minutes (rounded up) in the expiry sentence
}

// Email is a rendered message, ready for SES.
type Email struct {
	Subject, HTML, Text   string
	FromAddress, FromName string // from the set's theme.yaml; an empty FromAddress means "use the mailer's default"
	Set                   string // the set actually used ("default" after a fallback)
	Locale                string // the locale actually used, canonical BCP 47 (for metrics and tags)
	// SetFallback is true when a non-empty Tenant named no set. LocaleFallback
	// is true when a non-empty Locale matched none of the set's locales (or
	// did not parse) and the set's default locale was used instead. An empty
	// request is not a fallback: the default is then simply the answer.
	SetFallback, LocaleFallback bool
}

// ErrInvalidMessage marks a message that cannot be rendered whatever the
// templates say: a code that is not 4..10 ASCII digits, or a lifetime that is
// not positive. Errors wrapping it never quote the code. templates/compiled
// returns the same error.
var ErrInvalidMessage = render.ErrInvalidMessage

func checkMessage(m Message) error { return render.CheckMessage(m.Code, m.TTL) }

func minutes(ttl time.Duration) int64 { return render.Minutes(ttl) }

// MaxNameRunes bounds a cleaned display name.
const MaxNameRunes = contract.MaxNameRunes

const (
	fsi = '\u2068' // first strong isolate
	pdi = '\u2069' // pop directional isolate
)

// CleanName is the send-request contract's cleaner: the name the email
// shows is cleaned exactly as the trigger cleaned it before enqueueing.
func CleanName(s string) string { return contract.CleanName(s) }

// isolateName: see render.IsolateName.
func isolateName(name string, rtl bool) string { return render.IsolateName(name, rtl) }
