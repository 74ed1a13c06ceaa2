package triggers

import (
	"strings"
)

// DefaultTenant is the template set used when neither the app client nor the
// user names a known tenant.
const DefaultTenant = "default"

// validTenant keeps tenant names to what a template set may be called
// (^[a-z0-9][a-z0-9_-]{0,62}$), so a user attribute can never become a path
// component. A loop, not a regexp: the pattern compiles to a large program
// at every cold start.
func validTenant(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[0] == '_' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Tenants resolves which tenant a sign-in belongs to.
type Tenants struct {
	// ByClient maps an app client id to a tenant. It is set by the operator,
	// so it wins over the user's custom:tenant attribute, which users may be
	// able to write.
	ByClient map[string]string
}

// Tenant source, for logs.
const (
	tenantFromClient    = "client"
	tenantFromAttribute = "attribute"
	tenantFromDefault   = "default"
)

// Resolve returns the tenant, where it came from, and a reason when a value
// was present but refused.
func (t Tenants) Resolve(clientID string, attrs map[string]string) (tenant, source, refused string) {
	if v, ok := t.ByClient[clientID]; ok && validTenant(v) {
		return v, tenantFromClient, ""
	}
	if v, ok := attrs["custom:tenant"]; ok && v != "" {
		v = strings.ToLower(strings.TrimSpace(v))
		if validTenant(v) {
			return v, tenantFromAttribute, ""
		}
		refused = "custom:tenant is not a tenant name"
	}
	return DefaultTenant, tenantFromDefault, refused
}

// validLocale accepts the shape of a BCP 47 tag, also with the underscore
// that Java and POSIX locales use: ^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8}){0,6}$.
// The mailer does the real matching; this only keeps hostile attribute
// values off the queue.
func validLocale(s string) bool {
	if len(s) > 35 {
		return false
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' })
	if len(parts) == 0 || len(parts) > 7 || strings.Count(s, "-")+strings.Count(s, "_") != len(parts)-1 {
		return false
	}
	for i, p := range parts {
		if len(p) < 1 || len(p) > 8 || i == 0 && len(p) < 2 {
			return false
		}
		for j := 0; j < len(p); j++ {
			c := p[j]
			letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
			if !letter && (i == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// locale picks the user's locale attribute, then the client's
// clientMetadata.locale, and returns "" when neither is usable, leaving the
// choice to the template set's default. refused names a value that was
// present but not a locale tag.
func locale(attrs, clientMetadata map[string]string) (tag, refused string) {
	for _, c := range []struct{ source, value string }{
		{"locale attribute", attrs["locale"]},
		{"clientMetadata.locale", clientMetadata["locale"]},
	} {
		v := strings.TrimSpace(c.value)
		if v == "" {
			continue
		}
		if validLocale(v) {
			return strings.ReplaceAll(v, "_", "-"), refused
		}
		if refused == "" {
			refused = c.source + " is not a BCP 47 tag"
		}
	}
	return "", refused
}

// displayName is the name the email greets, from the standard OIDC
// attributes.
func displayName(attrs map[string]string) string {
	if n := strings.TrimSpace(attrs["name"]); n != "" {
		return n
	}
	return strings.TrimSpace(attrs["given_name"])
}

// Locale is locale for the other triggers of the pool (the custom email
// sender): the same attribute, then clientMetadata, with the same checks.
func Locale(attrs, clientMetadata map[string]string) (tag, refused string) {
	return locale(attrs, clientMetadata)
}

// DisplayName is displayName for the other triggers of the pool.
func DisplayName(attrs map[string]string) string { return displayName(attrs) }
