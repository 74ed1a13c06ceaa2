package templates

import (
	"fmt"
	"slices"
	"strings"
)

// Placeholders a locale string may use. Which key allows which is decided by
// keyRules; a string with any other "{...}" fails to load, so that a typo
// such as "{nmae}" is caught by the checker instead of reaching a user.
const (
	phName     = "name"     // the recipient's cleaned display name (greeting only)
	phMinutes  = "minutes"  // the code's lifetime in whole minutes (expiry only)
	phHours    = "hours"    // the code's lifetime in whole hours (other code kinds' expiry)
	phDays     = "days"     // an invitation's validity in whole days (its expiry)
	phUsername = "username" // an invitation's username (invitation.username only)
	phTime     = "time"     // a takeover notice's sign-in time (account_takeover.time only)
	phIP       = "ip"       // its IP address (account_takeover.ip)
	phLocation = "location" // its city and country (account_takeover.location)
	phDevice   = "device"   // its device (account_takeover.device)
	phButton   = "button"   // a button's label (account_takeover.button_help)
	phProduct  = "product"  // the set's product name (everywhere)
)

var knownPlaceholders = []string{phName, phMinutes, phHours, phDays, phUsername, phTime, phIP, phLocation, phDevice, phButton, phProduct}

// part is a piece of a parsed locale string: literal text, or a placeholder.
type part struct {
	lit string
	ph  string
}

// phrase is a locale string split at its placeholders. "{{" and "}}" stand
// for literal braces, so a phrase can still say "{" when it must.
type phrase []part

// parsePhrase splits s at its placeholders. It rejects unknown names and
// stray braces; whether a known placeholder is allowed for a key is checked
// by the caller.
func parsePhrase(s string) (phrase, error) {
	var (
		p   phrase
		lit strings.Builder
	)
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '{' && strings.HasPrefix(s[i:], "{{"):
			lit.WriteByte('{')
			i += 2
		case c == '}' && strings.HasPrefix(s[i:], "}}"):
			lit.WriteByte('}')
			i += 2
		case c == '}':
			return nil, fmt.Errorf(`stray "}" (write "}}" for a literal brace)`)
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf(`unclosed "{" (write "{{" for a literal brace)`)
			}
			name := s[i+1 : i+end]
			switch {
			case name == "code" || name == "password":
				return nil, fmt.Errorf("{%s} is not a placeholder: a code or temporary password appears only in the box, never in a sentence or the subject (and an account takeover notice has none)", name)
			case !slices.Contains(knownPlaceholders, name):
				return nil, unknownPlaceholder(name)
			}
			if lit.Len() > 0 {
				p = append(p, part{lit: lit.String()})
				lit.Reset()
			}
			p = append(p, part{ph: name})
			i += end + 1
		default:
			lit.WriteByte(c)
			i++
		}
	}
	if lit.Len() > 0 {
		p = append(p, part{lit: lit.String()})
	}
	return p, nil
}

// unknownPlaceholder is a "{...}" that names no placeholder; checkPhrase
// lists the placeholders of the key's scope beside it.
type unknownPlaceholder string

func (u unknownPlaceholder) Error() string {
	return fmt.Sprintf("unknown placeholder %q (known: %s)", "{"+string(u)+"}", braceList(knownPlaceholders))
}

// uses reports whether the phrase contains the placeholder.
func (p phrase) uses(ph string) bool {
	for _, x := range p {
		if x.ph == ph {
			return true
		}
	}
	return false
}

// bind replaces one placeholder by a value and keeps the others, so that
// set-wide values ({product}) are filled in once at load time.
func (p phrase) bind(ph, value string) phrase {
	var out phrase
	for _, x := range p {
		if x.ph == ph {
			x = part{lit: value}
		}
		if x.ph == "" && len(out) > 0 && out[len(out)-1].ph == "" {
			out[len(out)-1].lit += x.lit
			continue
		}
		out = append(out, x)
	}
	return out
}

// fill renders the phrase with placeholder ph replaced by value.
func (p phrase) fill(ph, value string) string {
	var b strings.Builder
	for _, x := range p {
		switch {
		case x.ph == "":
			b.WriteString(x.lit)
		case x.ph == ph:
			b.WriteString(value)
		default:
			// Unreachable after validation; keep the marker visible rather
			// than dropping text silently.
			b.WriteString("{" + x.ph + "}")
		}
	}
	return b.String()
}

// text returns the phrase when it has no placeholders left.
func (p phrase) text() string { return p.fill("", "") }
