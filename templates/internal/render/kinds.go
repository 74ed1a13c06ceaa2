package render

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

// Unit is what an expiry sentence counts: a code's lifetime in minutes or
// hours, an invitation's validity in days. Counts are rounded up, so that
// a code with 30 s left reads "1 minute", never "0 minutes".
type Unit string

// The units, named as their placeholders are.
const (
	UnitMinutes Unit = "minutes"
	UnitHours   Unit = "hours"
	UnitDays    Unit = "days"
)

// Count is the lifetime in the unit, rounded up.
func (u Unit) Count(ttl time.Duration) int64 {
	d := time.Minute
	switch u {
	case UnitHours:
		d = time.Hour
	case UnitDays:
		d = 24 * time.Hour
	}
	n := int64(ttl / d)
	if ttl%d != 0 {
		n++
	}
	return n
}

// Message is what one email shows beyond its wording. Username, Password
// and Takeover belong to one kind each; the others must leave them empty.
type Message struct {
	Name     string // UNTRUSTED display name, cleaned here
	Code     string
	Username string // an invitation's
	Password string // an invitation's temporary password
	TTL      time.Duration
	Takeover *contract.Takeover
}

// KindOf is the kind a Message asks for: an empty kind is a sign-in code,
// as every message was before kinds.
func KindOf(k contract.Kind) contract.Kind {
	if k == "" {
		return contract.KindSignInCode
	}
	return k
}

// Check rejects what no template can render, for a kind. Errors wrap
// ErrInvalidMessage and never quote a value.
func Check(kind contract.Kind, m Message) error {
	kind = KindOf(kind)
	if !kind.Known() {
		return fmt.Errorf("%w: unknown kind", ErrInvalidMessage)
	}
	if m.TTL <= 0 {
		return fmt.Errorf("%w: ttl must be positive", ErrInvalidMessage)
	}
	if kind.HasCode() {
		if err := CheckMessage(m.Code, m.TTL); err != nil {
			return err
		}
	} else if m.Code != "" {
		return fmt.Errorf("%w: a %s has no code", ErrInvalidMessage, kind)
	}
	invitation := kind == contract.KindInvitation
	switch {
	case !invitation && (m.Username != "" || m.Password != ""):
		return fmt.Errorf("%w: only an invitation shows a username and a temporary password", ErrInvalidMessage)
	case invitation:
		if err := checkUsername(m.Username); err != nil {
			return err
		}
		if err := checkPassword(m.Password); err != nil {
			return err
		}
	}
	takeover := kind == contract.KindAccountTakeover
	switch {
	case !takeover && m.Takeover != nil:
		return fmt.Errorf("%w: only an account takeover notice shows takeover details", ErrInvalidMessage)
	case takeover && m.Takeover == nil:
		return fmt.Errorf("%w: an account takeover notice needs its details", ErrInvalidMessage)
	case takeover && HappenedIndex(m.Takeover.Action) < 0:
		return fmt.Errorf("%w: takeover action must be one of %s", ErrInvalidMessage, strings.Join(contract.TakeoverActions, ", "))
	case takeover && m.Takeover.LoginTime.IsZero():
		return fmt.Errorf("%w: takeover login time is required", ErrInvalidMessage)
	}
	return nil
}

// checkUsername admits what Cognito does in a username (letters, marks,
// symbols, numbers, punctuation; no white space), so that the email shows
// exactly what the user types.
func checkUsername(u string) error {
	if u == "" || len(u) > 128 {
		return fmt.Errorf("%w: username must be 1..128 bytes", ErrInvalidMessage)
	}
	for _, r := range u {
		if r == unicode.ReplacementChar || !unicode.In(r, unicode.L, unicode.M, unicode.S, unicode.N, unicode.P) {
			return fmt.Errorf("%w: username holds white space, a control, format or private-use character, or invalid UTF-8", ErrInvalidMessage)
		}
	}
	return nil
}

// checkPassword refuses a temporary password the email could not show as
// it is. HTML shows a run of spaces as one, and the plain-text part (made
// by html2text) collapses it too, so a password with a leading or
// trailing space, two spaces in a row or any other white space would read
// differently from what Cognito set; Cognito allows a space only inside a
// password. Invisible characters cannot be typed from the email either.
func checkPassword(p string) error {
	if p == "" || len(p) > 256 {
		return fmt.Errorf("%w: temporary password must be 1..256 bytes", ErrInvalidMessage)
	}
	if p[0] == ' ' || p[len(p)-1] == ' ' || strings.Contains(p, "  ") {
		return fmt.Errorf("%w: temporary password has a leading, trailing or doubled space, which the email cannot show", ErrInvalidMessage)
	}
	for _, r := range p {
		if r == unicode.ReplacementChar || r != ' ' && !unicode.IsGraphic(r) || unicode.IsSpace(r) && r != ' ' || unicode.In(r, unicode.Co, unicode.Cf) {
			return fmt.Errorf("%w: temporary password holds white space other than a space, an invisible character or invalid UTF-8", ErrInvalidMessage)
		}
	}
	return nil
}

// HappenedIndex maps Cognito's takeover action to the sentence that says
// what happened: BLOCK (we blocked the sign-in), the MFA actions (we asked
// for an extra check), NO_ACTION (we let it through but flagged it).
func HappenedIndex(action string) int {
	switch action {
	case "BLOCK":
		return 0
	case "MFA", "MFA_IF_CONFIGURED", "MFA_REQUIRED":
		return 1
	case "NO_ACTION":
		return 2
	}
	return -1
}

// Wording is one (set, locale, kind)'s per-message phrases, {product}
// filled in, each split at its one placeholder: what both renderers need
// to make an email's values. Fields a kind does not use are empty.
type Wording struct {
	Tag            language.Tag
	RTL            bool
	Greeting       []string // split at {name}
	GreetingNoName string
	Unit           Unit
	Expiry         map[plural.Form][]string // split at the unit's placeholder; Other is always there
	Username       []string                 // invitation: split at {username}
	// Happened is the takeover notice's first sentence for BLOCK, the MFA
	// actions and NO_ACTION.
	Happened [3]string
	// Details are the notice's time, IP address, location and device
	// sentences, each split at its placeholder.
	Details          [4][]string
	LinkInstructions [2]string // above the "this was me" and "this wasn't me" buttons
	LinkLabels       [2]string
}

// Values makes the email's values. The message must have passed Check.
func (w *Wording) Values(kind contract.Kind, m Message) *Values {
	v := new(Values)
	v[SlotGreeting] = w.GreetingNoName
	if name := contract.CleanName(m.Name); name != "" {
		v[SlotGreeting] = strings.Join(w.Greeting, IsolateName(name, w.RTL))
	}
	switch KindOf(kind) {
	case contract.KindAccountTakeover:
		t := m.Takeover
		v[SlotHappened] = w.Happened[HappenedIndex(t.Action)]
		location := joinPresent(LocationSeparator(w.Tag), contract.CleanName(t.City), contract.CleanName(t.Country))
		for i, value := range []string{FormatTime(w.Tag, t.LoginTime), contract.CleanName(t.IPAddress), location, contract.CleanName(t.Device)} {
			if value != "" {
				v[SlotDetail0+Slot(i)] = strings.Join(w.Details[i], IsolateName(value, w.RTL))
			}
		}
		for i, link := range []contract.Secret{t.ThisWasMe, t.ThisWasNotMe} {
			if l := link.Reveal(); ValidLink(l) {
				v[SlotLink0+Slot(i)] = l
				v[SlotLinkInstructions0+Slot(i)] = w.LinkInstructions[i]
				v[SlotLinkLabel0+Slot(i)] = w.LinkLabels[i]
			}
		}
		return v
	case contract.KindInvitation:
		v[SlotUsername] = strings.Join(w.Username, IsolateName(m.Username, w.RTL))
		v[SlotCode] = m.Password
	default:
		v[SlotCode] = m.Code
	}
	n := w.Unit.Count(m.TTL)
	parts, ok := w.Expiry[PluralForm(w.Tag, n)]
	if !ok {
		parts = w.Expiry[plural.Other]
	}
	v[SlotExpiry] = strings.Join(parts, FormatMinutes(n))
	return v
}

// HasLinks reports whether a takeover notice's values have a link, which
// decides between its two bodies: hermes leaves out the whole button
// section, not just its buttons, when there are none.
func HasLinks(v *Values) bool { return v[SlotLink0] != "" || v[SlotLink1] != "" }

func joinPresent(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// ValidLink admits a feedback link only when it is an https URL with a
// host and nothing but URL characters: such a link is the same byte for
// byte after html/template's URL normaliser, and cannot be anything but a
// link to a web page. Anything else is left out of the email.
func ValidLink(s string) bool {
	if len(s) > 2048 || !strings.HasPrefix(s, "https://") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~:/?#[]@!$&*+,;=%", c) >= 0) {
			return false
		}
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil
}
