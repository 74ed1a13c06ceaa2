// Package contract is the message the triggers put on the send queue and the
// mailer takes off it: one versioned Go type, its JSON forms pinned by
// testdata/sendrequest-v*.json, and the cleaning and masking rules both sides
// share. Create Auth Challenge writes sign-in codes; the other kinds are the
// other emails the user pool sends, for the Custom Email Sender trigger to
// write. It imports no AWS SDK, so a trigger that needs only
// the contract links no SES or SQS client.
//
// A Code prints as [redacted] everywhere but the JSON body; nothing here
// quotes a body or a code in an error.
package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Message attribute names on send requests. They let otpctl and the ops page
// group messages by tenant without opening bodies, which hold codes.
const (
	AttrVersion = "otp_version"
	AttrTenant  = "otp_tenant"
	AttrKind    = "otp_kind"
)

// SendRequestVersion is the body version this build writes. A change of
// shape gets a new version, so that a mailer never guesses at a body written
// by a newer trigger: unknown versions are dead-lettered with
// ReasonUnknownVersion. Version 1 (no kind: every message a sign-in code)
// still decodes, so messages queued by triggers deployed before version 2
// are sent during and after the upgrade.
const SendRequestVersion = 2

// sendRequestV1 is the one older version this build reads.
const sendRequestV1 = 1

// Kind is what an email is for. It picks the template and the rules the
// request must follow: which secrets it carries, which fields it needs.
type Kind string

// The kinds, one per email the user pool sends. Each Custom Email Sender
// trigger source maps to one, named beside it.
const (
	KindSignInCode            Kind = "signin_code"            // Create Auth Challenge: the second factor
	KindSignUpVerification    Kind = "signup_verification"    // SignUp, ResendCode: confirm the account
	KindInvitation            Kind = "invitation"             // AdminCreateUser: username and temporary password
	KindAttributeVerification Kind = "attribute_verification" // UpdateUserAttribute, VerifyUserAttribute
	KindPasswordReset         Kind = "password_reset"         // ForgotPassword
	KindMFACode               Kind = "mfa_code"               // Authentication: Cognito's own email MFA or email OTP
	KindAccountTakeover       Kind = "account_takeover"       // AccountTakeOverNotification: no code
)

// Kinds lists every kind this build reads and writes, in a stable order.
var Kinds = []Kind{KindSignInCode, KindSignUpVerification, KindInvitation, KindAttributeVerification,
	KindPasswordReset, KindMFACode, KindAccountTakeover}

// Known reports whether this build knows k.
func (k Kind) Known() bool {
	for _, known := range Kinds {
		if k == known {
			return true
		}
	}
	return false
}

// HasCode reports whether an email of this kind carries a one-time code.
// An account takeover notice says what happened and carries none; an
// invitation carries a temporary password instead.
func (k Kind) HasCode() bool { return k != KindAccountTakeover && k != KindInvitation }

// Limits on fields, so a hostile attribute cannot make a message large or a
// rendered email absurd. SQS allows 256 KiB; we stay far below.
const (
	maxIDLen     = 64
	maxTenantLen = 63
	maxLocaleLen = 35 // RFC 5646 recommends supporting tags of at least 35 characters
	maxToLen     = 254
	maxNameLen   = 4 * MaxNameRunes // bytes: CleanName's 100 runes of up to 4 bytes each
	maxCodeLen   = 10
	// Cognito allows temporary passwords of up to 256 characters (the
	// AdminCreateUser TemporaryPassword parameter).
	maxPasswordLen = 256
	maxUsernameLen = 128 // Cognito's username limit
	maxLinkLen     = 2048
	maxTakeoverLen = 128 // IP address, city, country, device name, action
)

// SendRequest is the SQS message body: one email. It is the single Go type
// for the contract; the triggers marshal it and the mailer unmarshals it.
// Its JSON forms are pinned by testdata/sendrequest-v*.json.
type SendRequest struct {
	V      int    `json:"v"`
	Kind   Kind   `json:"kind"` // v1 bodies have none and decode as KindSignInCode
	ID     string `json:"id"`   // unique per email: the challenge id, or the sender's request id; the email's reference id
	Tenant string `json:"tenant"`
	Locale string `json:"locale,omitempty"` // BCP 47 tag as the user or client gave it; matched by the mailer
	To     string `json:"to"`
	Name   string `json:"name,omitempty"`
	// Code is the one-time code, for every kind that has one (Kind.HasCode).
	Code Code `json:"code,omitempty"`
	// Username and TemporaryPassword are an invitation's, and only an
	// invitation's: what the new user signs in with the first time.
	Username          string `json:"username,omitempty"`
	TemporaryPassword Secret `json:"temporaryPassword,omitempty"`
	// Takeover is what Cognito's threat protection saw, for
	// KindAccountTakeover only.
	Takeover  *Takeover `json:"takeover,omitempty"`
	IssuedAt  time.Time `json:"issuedAt"`
	ExpiresAt time.Time `json:"expiresAt"` // past it the email is dropped, not sent: the code or password no longer works
}

// Takeover is the sign-in Cognito's threat protection flagged, as its
// AccountTakeOverNotification event describes it. The two links carry
// Cognito's feedback token: they are as private as a code, so they print as
// [redacted] too.
type Takeover struct {
	EventID   string    `json:"eventId"`
	Action    string    `json:"action"` // BLOCK, NO_ACTION, MFA, MFA_IF_CONFIGURED or MFA_REQUIRED
	LoginTime time.Time `json:"loginTime"`
	IPAddress string    `json:"ipAddress,omitempty"`
	City      string    `json:"city,omitempty"`
	Country   string    `json:"country,omitempty"`
	Device    string    `json:"device,omitempty"`
	// ThisWasMe and ThisWasNotMe are Cognito's one-click feedback links
	// (ONE_CLICK_LINK_VALID, ONE_CLICK_LINK_INVALID).
	ThisWasMe    Secret `json:"thisWasMe,omitempty"`
	ThisWasNotMe Secret `json:"thisWasNotMe,omitempty"`
}

// TakeoverActions are the values Cognito's ACCOUNT_TAKE_OVER_ACTION takes.
var TakeoverActions = []string{"BLOCK", "NO_ACTION", "MFA", "MFA_IF_CONFIGURED", "MFA_REQUIRED"}

// Secret is a temporary password or a feedback link: like a Code, it
// marshals to JSON as itself and prints as [redacted] everywhere else.
type Secret string

func (Secret) String() string               { return redacted }
func (Secret) GoString() string             { return redacted }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// Reveal returns the secret itself, for the one place that renders it.
func (s Secret) Reveal() string { return string(s) }

// Code is a one-time code. It marshals to JSON as itself (the SQS body must
// carry it) but prints as [redacted] through fmt and slog, so that an
// accidental %v of a request cannot leak it.
type Code string

const redacted = "[redacted]"

func (Code) String() string               { return redacted }
func (Code) GoString() string             { return redacted }
func (Code) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (c Code) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// Reveal returns the code itself. It is the one way to get at it, so a
// reader can find every place the code leaves its envelope.
func (c Code) Reveal() string { return string(c) }

// LogValue keeps the code and the full address out of logs.
func (r SendRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("request_id", r.ID),
		slog.String("kind", string(r.Kind)),
		slog.String("tenant", r.Tenant),
		slog.String("locale", r.Locale),
		slog.String("to", MaskEmail(r.To)),
	)
}

// Format prints a request without its code or full address, whatever the
// verb, so a request in an error message or a debug print stays safe.
func (r SendRequest) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "SendRequest{v=%d kind=%s id=%s tenant=%s locale=%s to=%s code=%s expiresAt=%s}",
		r.V, r.Kind, r.ID, r.Tenant, r.Locale, MaskEmail(r.To), redacted, r.ExpiresAt.Format(time.RFC3339))
}

// ErrUnknownVersion marks a body whose version this build cannot read.
var ErrUnknownVersion = errors.New("unknown send request version")

// ErrUnknownKind marks a body of a known version whose kind this build does
// not know: written by a newer trigger, or by hand.
var ErrUnknownKind = errors.New("unknown send request kind")

// ErrMalformed marks a body that is not JSON of the contract's shape.
var ErrMalformed = errors.New("malformed send request")

// ErrInvalidRequest marks a body that decodes but breaks the contract.
var ErrInvalidRequest = errors.New("invalid send request")

// Redact returns body with its secrets removed (the code, a temporary
// password, a takeover notice's feedback links), for the dead-letter queue:
// a dead letter outlives its code by days, so it must not carry a usable
// one. The mailer marks such a message (mailer.AttrRedacted), and drops it
// if it is ever redriven.
// ok is false, and body is returned unchanged, when it is not a JSON object
// with a secret (a malformed body is kept for diagnosis; the triggers never
// write one).
func Redact(body []byte) (redacted []byte, ok bool) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return body, false
	}
	found := false
	for _, name := range []string{"code", "temporaryPassword"} {
		if _, has := fields[name]; has {
			fields[name] = json.RawMessage(`""`)
			found = true
		}
	}
	if raw, has := fields["takeover"]; has {
		var takeover map[string]json.RawMessage
		if json.Unmarshal(raw, &takeover) != nil {
			// Not an object: nothing of it can be trusted to be harmless.
			fields["takeover"] = json.RawMessage(`null`)
		} else {
			delete(takeover, "thisWasMe")
			delete(takeover, "thisWasNotMe")
			fields["takeover"], _ = json.Marshal(takeover)
		}
		found = true
	}
	if !found {
		return body, false
	}
	out, err := json.Marshal(fields)
	if err != nil {
		return body, false
	}
	return out, true
}

// Encode marshals a request after checking it, so the trigger never enqueues
// a body that the mailer would dead-letter.
func (r SendRequest) Encode() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

// DecodeSendRequest parses and validates an SQS body. The version is read
// first, so an unknown version is reported as such even when the rest of the
// body has a shape this build does not know. A version 1 body comes back as
// a version 2 request of KindSignInCode. Errors never quote the body.
func DecodeSendRequest(body []byte) (SendRequest, error) {
	var head struct {
		V *int `json:"v"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return SendRequest{}, fmt.Errorf("decode send request: %w", describeJSONError(err))
	}
	if head.V == nil {
		return SendRequest{}, fmt.Errorf("decode send request: %w: field \"v\" is missing", ErrUnknownVersion)
	}
	if *head.V != SendRequestVersion && *head.V != sendRequestV1 {
		return SendRequest{}, fmt.Errorf("decode send request: %w: v=%d, this build reads v=%d and v=%d",
			ErrUnknownVersion, *head.V, sendRequestV1, SendRequestVersion)
	}
	var r SendRequest
	if err := json.Unmarshal(body, &r); err != nil {
		return SendRequest{}, fmt.Errorf("decode send request v%d: %w", *head.V, describeJSONError(err))
	}
	if r.V == sendRequestV1 {
		// Version 1 knew only sign-in codes and had no kind, nor any of
		// the fields other kinds need: a body that has them is not v1.
		if r.Kind != "" || r.Username != "" || r.TemporaryPassword != "" || r.Takeover != nil {
			return SendRequest{}, fmt.Errorf("decode send request v1: %w: kind, username, temporaryPassword and takeover are version 2 fields", ErrInvalidRequest)
		}
		r.V, r.Kind = SendRequestVersion, KindSignInCode
	}
	if err := r.Validate(); err != nil {
		return SendRequest{}, err
	}
	return r, nil
}

// describeJSONError keeps the position and type of a JSON error but drops
// anything quoted from the input, which could be the code.
func describeJSONError(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("%w: invalid JSON at byte %d", ErrMalformed, syntax.Offset)
	case errors.As(err, &typeErr):
		// Value quotes a number that does not fit ("number 493817.5"); keep
		// only its kind.
		kind, _, _ := strings.Cut(typeErr.Value, " ")
		return fmt.Errorf("%w: field %q: want %s, got JSON %s", ErrMalformed, typeErr.Field, typeErr.Type, kind)
	default:
		return fmt.Errorf("%w: invalid JSON", ErrMalformed)
	}
}

// Validate checks the contract. Messages name the field, never its value,
// except for values that are safe to log (version, lengths).
func (r SendRequest) Validate() error {
	switch {
	case r.V != SendRequestVersion:
		return fmt.Errorf("%w: v=%d, this build writes v=%d", ErrUnknownVersion, r.V, SendRequestVersion)
	case r.Kind == "":
		return invalid("kind is required")
	case !r.Kind.Known():
		// The kind is one of our identifiers, not user data: safe to quote
		// once bounded and checked for shape.
		if len(r.Kind) <= 40 && isToken(string(r.Kind)) {
			return fmt.Errorf("%w: %q", ErrUnknownKind, r.Kind)
		}
		return fmt.Errorf("%w: not an identifier", ErrUnknownKind)
	case r.ID == "" || len(r.ID) > maxIDLen || !isToken(r.ID):
		return invalid("id must be 1..%d characters of [A-Za-z0-9_-]", maxIDLen)
	case r.Tenant == "" || len(r.Tenant) > maxTenantLen || !isToken(r.Tenant):
		return invalid("tenant must be 1..%d characters of [A-Za-z0-9_-]", maxTenantLen)
	case len(r.Locale) > maxLocaleLen || !isToken(r.Locale):
		return invalid("locale must be at most %d characters of [A-Za-z0-9-_]", maxLocaleLen)
	case len(r.Name) > maxNameLen || strings.ContainsAny(r.Name, "\r\n\x00"):
		return invalid("name must be at most %d bytes with no line breaks", maxNameLen)
	case r.Kind.HasCode() && (len(r.Code) < 4 || len(r.Code) > maxCodeLen || !isDigits(string(r.Code))):
		return invalid("code must be 4..%d ASCII digits (got %d characters)", maxCodeLen, len(r.Code))
	case !r.Kind.HasCode() && r.Code != "":
		return invalid("a %s carries no code", r.Kind)
	case r.IssuedAt.IsZero() || r.ExpiresAt.IsZero():
		return invalid("issuedAt and expiresAt are required")
	case !r.ExpiresAt.After(r.IssuedAt):
		return invalid("expiresAt must be after issuedAt")
	}
	if err := r.validateKindFields(); err != nil {
		return err
	}
	if err := ValidateRecipient(r.To); err != nil {
		return err
	}
	return nil
}

// validateKindFields checks the fields only some kinds carry: present where
// the kind needs them, absent everywhere else, so a secret never rides along
// in an email whose template does not expect it.
func (r SendRequest) validateKindFields() error {
	invitation := r.Kind == KindInvitation
	switch {
	case invitation && (r.Username == "" || len(r.Username) > maxUsernameLen || strings.ContainsAny(r.Username, "\r\n\x00")):
		return invalid("an invitation needs a username of 1..%d bytes with no line breaks", maxUsernameLen)
	case invitation && (r.TemporaryPassword == "" || len(r.TemporaryPassword) > maxPasswordLen || strings.ContainsAny(string(r.TemporaryPassword), "\r\n\x00")):
		return invalid("an invitation needs a temporary password of 1..%d bytes with no line breaks (got %d bytes)", maxPasswordLen, len(r.TemporaryPassword))
	case !invitation && (r.Username != "" || r.TemporaryPassword != ""):
		return invalid("only an invitation carries a username and a temporary password")
	case r.Kind == KindAccountTakeover && r.Takeover == nil:
		return invalid("an account takeover notice needs takeover")
	case r.Kind != KindAccountTakeover && r.Takeover != nil:
		return invalid("only an account takeover notice carries takeover")
	}
	if r.Takeover != nil {
		return r.Takeover.validate()
	}
	return nil
}

func (t *Takeover) validate() error {
	invalidTakeover := func(format string, args ...any) error { return invalid("takeover: "+format, args...) }
	known := false
	for _, a := range TakeoverActions {
		known = known || t.Action == a
	}
	switch {
	case !known:
		return invalidTakeover("action must be one of %s", strings.Join(TakeoverActions, ", "))
	case t.EventID == "" || len(t.EventID) > maxIDLen || !isToken(t.EventID):
		return invalidTakeover("eventId must be 1..%d characters of [A-Za-z0-9_-]", maxIDLen)
	case t.LoginTime.IsZero():
		return invalidTakeover("loginTime is required")
	}
	for name, v := range map[string]string{"ipAddress": t.IPAddress, "city": t.City, "country": t.Country, "device": t.Device} {
		if len(v) > maxTakeoverLen || strings.ContainsAny(v, "\r\n\x00") {
			return invalidTakeover("%s must be at most %d bytes with no line breaks", name, maxTakeoverLen)
		}
	}
	for name, link := range map[string]Secret{"thisWasMe": t.ThisWasMe, "thisWasNotMe": t.ThisWasNotMe} {
		if link == "" {
			continue
		}
		if len(link) > maxLinkLen || !strings.HasPrefix(string(link), "https://") || strings.ContainsAny(string(link), " \"<>\r\n\x00") {
			return invalidTakeover("%s must be an https link of at most %d bytes", name, maxLinkLen)
		}
	}
	return nil
}

// invalid wraps ErrInvalidRequest with what broke the contract. Messages
// name the field, never its value.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}

// ErrInvalidRecipient marks an address SES would refuse or that could smuggle
// extra headers or recipients.
var ErrInvalidRecipient = errors.New("invalid recipient")

// ValidateRecipient accepts one bare addr-spec (no display name, no list).
func ValidateRecipient(to string) error {
	if to == "" || len(to) > maxToLen || strings.ContainsAny(to, "\r\n\x00<>,;\" ") {
		return fmt.Errorf("%w: want one bare address of at most %d characters", ErrInvalidRecipient, maxToLen)
	}
	addr, err := mail.ParseAddress(to)
	if err != nil || addr.Address != to || addr.Name != "" {
		return fmt.Errorf("%w: not an RFC 5322 addr-spec", ErrInvalidRecipient)
	}
	return nil
}

// MaskEmail keeps the first character of the local part and the domain:
// "rosa@example.com" -> "r***@example.com". It is what users see in the
// challenge and what logs carry.
func MaskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "***"
	}
	first := []rune(addr[:at])[0]
	return string(first) + "***" + addr[at:]
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// MaxNameRunes bounds a display name: long enough for real names, short
// enough that a hostile attribute cannot fill the email.
const MaxNameRunes = 100

// The joiners are format characters that Persian, Indic scripts and emoji
// sequences need; they inject nothing, so they survive cleaning.
const (
	zwnj = '\u200C'
	zwj  = '\u200D'
)

// CleanName makes an untrusted display name safe to carry and show: it
// drops invalid UTF-8, control characters and format characters (bidi
// overrides, zero-width spaces, tag characters) except the two joiners,
// turns every run of white space (CR and LF included) into one space, trims,
// and cuts the result to MaxNameRunes runes. It cleans rather than rejects,
// so a strange name still gets its email; the worst outcome is "", which
// greets without a name.
func CleanName(s string) string {
	var b strings.Builder
	n := 0
	space := false
	for i := 0; i < len(s) && n < MaxNameRunes; {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.Is(unicode.Cc, r):
			continue
		case unicode.Is(unicode.Cf, r) && r != zwj && r != zwnj:
			continue
		}
		if space {
			if n+1 >= MaxNameRunes {
				break
			}
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	// A cut can leave a joiner with nothing to join, and a joiner after
	// white space brings the space in with it: trim both, or the result
	// ends in a space and cleaning it again (the mailer does) changes it.
	return strings.TrimRight(b.String(), " \u200C\u200D")
}

// addressLike matches things that look like email addresses in free text.
// It compiles on first use, not at every Lambda cold start.
var addressLike = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`[^\s<>()"',;:]+@[^\s<>()"',;:]+`)
})

// ScrubAddresses masks every email address in s. Errors from SES quote
// identities and recipients; they pass through this before they reach a
// log line or a dead-letter attribute.
func ScrubAddresses(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return addressLike().ReplaceAllStringFunc(s, MaskEmail)
}
