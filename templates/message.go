package templates

import (
	"errors"
	"fmt"

	"time"

	"golang.org/x/text/unicode/bidi"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
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
// not positive. Errors wrapping it never quote the code.
var ErrInvalidMessage = errors.New("invalid message")

const (
	minCodeLen = 4
	maxCodeLen = 10
)

func checkMessage(m Message) error {
	if len(m.Code) < minCodeLen || len(m.Code) > maxCodeLen {
		return fmt.Errorf("%w: code must be 4..10 ASCII digits", ErrInvalidMessage)
	}
	for i := 0; i < len(m.Code); i++ {
		if m.Code[i] < '0' || m.Code[i] > '9' {
			return fmt.Errorf("%w: code must be 4..10 ASCII digits", ErrInvalidMessage)
		}
	}
	if m.TTL <= 0 {
		return fmt.Errorf("%w: ttl must be positive", ErrInvalidMessage)
	}
	return nil
}

// minutes rounds a lifetime up to whole minutes, so that a code with 30 s
// left reads "1 minute", never "0 minutes".
func minutes(ttl time.Duration) int64 {
	m := int64(ttl / time.Minute)
	if ttl%time.Minute != 0 {
		m++
	}
	return m
}

// MaxNameRunes bounds a cleaned display name.
const MaxNameRunes = contract.MaxNameRunes

const (
	fsi = '\u2068' // first strong isolate
	pdi = '\u2069' // pop directional isolate
)

// CleanName is the send-request contract's cleaner: the name the email
// shows is cleaned exactly as the trigger cleaned it before enqueueing.
func CleanName(s string) string { return contract.CleanName(s) }

// isolateName wraps the name in first-strong-isolate / pop-directional-isolate
// when the surrounding text or the name is right-to-left, so that a Latin
// name in an Arabic greeting (or an Arabic name ending in digits in an
// English one) cannot reorder the punctuation around it. Left-to-right text
// in a left-to-right email is left alone: the marks are invisible but some
// plain-text readers show them as boxes.
func isolateName(name string, rtl bool) string {
	if !rtl && !hasRTL(name) {
		return name
	}
	return string(fsi) + name + string(pdi)
}

func hasRTL(s string) bool {
	for _, r := range s {
		if r < 0x0590 { // nothing right-to-left below Hebrew
			continue
		}
		p, _ := bidi.LookupRune(r)
		if c := p.Class(); c == bidi.R || c == bidi.AL {
			return true
		}
	}
	return false
}
