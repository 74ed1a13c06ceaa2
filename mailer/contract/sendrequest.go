// Package contract is the message the Create Auth Challenge trigger puts on
// the send queue and the mailer takes off it: one versioned Go type, its JSON
// form pinned by testdata/sendrequest-v1.json, and the cleaning and masking
// rules both sides share. It imports no AWS SDK, so a trigger that needs only
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
)

// SendRequestVersion is the only body version this build reads or writes.
// A change of shape gets a new version, so that a mailer never guesses at a
// body written by a newer or older trigger: unknown versions are
// dead-lettered with ReasonUnknownVersion.
const SendRequestVersion = 1

// Limits on fields, so a hostile attribute cannot make a message large or a
// rendered email absurd. SQS allows 256 KiB; we stay far below.
const (
	maxIDLen     = 64
	maxTenantLen = 63
	maxLocaleLen = 35 // RFC 5646 recommends supporting tags of at least 35 characters
	maxToLen     = 254
	maxNameLen   = 4 * MaxNameRunes // bytes: CleanName's 100 runes of up to 4 bytes each
	maxCodeLen   = 10
)

// SendRequest is the SQS message body: one emailed code. It is the single Go
// type for the contract; triggers/create marshals it and the mailer
// unmarshals it. Its JSON form is pinned by testdata/sendrequest-v1.json.
type SendRequest struct {
	V         int       `json:"v"`
	ID        string    `json:"id"` // challenge id: unique per code, used as the email's reference id
	Tenant    string    `json:"tenant"`
	Locale    string    `json:"locale,omitempty"` // BCP 47 tag as the user or client gave it; matched by the mailer
	To        string    `json:"to"`
	Name      string    `json:"name,omitempty"`
	Code      Code      `json:"code"`
	IssuedAt  time.Time `json:"issuedAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

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
		slog.String("tenant", r.Tenant),
		slog.String("locale", r.Locale),
		slog.String("to", MaskEmail(r.To)),
	)
}

// Format prints a request without its code or full address, whatever the
// verb, so a request in an error message or a debug print stays safe.
func (r SendRequest) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "SendRequest{v=%d id=%s tenant=%s locale=%s to=%s code=%s expiresAt=%s}",
		r.V, r.ID, r.Tenant, r.Locale, MaskEmail(r.To), redacted, r.ExpiresAt.Format(time.RFC3339))
}

// ErrUnknownVersion marks a body whose version this build cannot read.
var ErrUnknownVersion = errors.New("unknown send request version")

// ErrMalformed marks a body that is not JSON of the contract's shape.
var ErrMalformed = errors.New("malformed send request")

// ErrInvalidRequest marks a body that decodes but breaks the contract.
var ErrInvalidRequest = errors.New("invalid send request")

// Redact returns body with the code removed, for the dead-letter queue: a
// dead letter outlives its code by days, so it must not carry a usable one.
// The mailer marks such a message (mailer.AttrRedacted), and drops it if it
// is ever redriven.
// ok is false, and body is returned unchanged, when it is not a JSON object
// with a code (a malformed body is kept for diagnosis; Create never writes
// one).
func Redact(body []byte) (redacted []byte, ok bool) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return body, false
	}
	if _, has := fields["code"]; !has {
		return body, false
	}
	fields["code"] = json.RawMessage(`""`)
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
// body has a shape this build does not know. Errors never quote the body.
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
	if *head.V != SendRequestVersion {
		return SendRequest{}, fmt.Errorf("decode send request: %w: v=%d, this build reads v=%d", ErrUnknownVersion, *head.V, SendRequestVersion)
	}
	var r SendRequest
	if err := json.Unmarshal(body, &r); err != nil {
		return SendRequest{}, fmt.Errorf("decode send request v%d: %w", SendRequestVersion, describeJSONError(err))
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
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
	}
	switch {
	case r.V != SendRequestVersion:
		return fmt.Errorf("%w: v=%d, this build writes v=%d", ErrUnknownVersion, r.V, SendRequestVersion)
	case r.ID == "" || len(r.ID) > maxIDLen || !isToken(r.ID):
		return invalid("id must be 1..%d characters of [A-Za-z0-9_-]", maxIDLen)
	case r.Tenant == "" || len(r.Tenant) > maxTenantLen || !isToken(r.Tenant):
		return invalid("tenant must be 1..%d characters of [A-Za-z0-9_-]", maxTenantLen)
	case len(r.Locale) > maxLocaleLen || !isToken(r.Locale):
		return invalid("locale must be at most %d characters of [A-Za-z0-9-_]", maxLocaleLen)
	case len(r.Name) > maxNameLen || strings.ContainsAny(r.Name, "\r\n\x00"):
		return invalid("name must be at most %d bytes with no line breaks", maxNameLen)
	case len(r.Code) < 4 || len(r.Code) > maxCodeLen || !isDigits(string(r.Code)):
		return invalid("code must be 4..%d ASCII digits (got %d characters)", maxCodeLen, len(r.Code))
	case r.IssuedAt.IsZero() || r.ExpiresAt.IsZero():
		return invalid("issuedAt and expiresAt are required")
	case !r.ExpiresAt.After(r.IssuedAt):
		return invalid("expiresAt must be after issuedAt")
	}
	if err := ValidateRecipient(r.To); err != nil {
		return err
	}
	return nil
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
