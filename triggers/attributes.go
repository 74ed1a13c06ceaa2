package triggers

import (
	"regexp"
	"strings"
)

// DefaultTenant is the template set used when neither the app client nor the
// user names a known tenant.
const DefaultTenant = "default"

// tenantPattern keeps tenant names to what a template set directory may be
// called, so a user attribute can never become a path component.
var tenantPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

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
	if v, ok := t.ByClient[clientID]; ok && tenantPattern.MatchString(v) {
		return v, tenantFromClient, ""
	}
	if v, ok := attrs["custom:tenant"]; ok && v != "" {
		v = strings.ToLower(strings.TrimSpace(v))
		if tenantPattern.MatchString(v) {
			return v, tenantFromAttribute, ""
		}
		refused = "custom:tenant is not a tenant name"
	}
	return DefaultTenant, tenantFromDefault, refused
}

// localePattern accepts the characters of a BCP 47 tag (also with the
// underscore that Java and POSIX locales use). The mailer does the real
// matching; this only keeps hostile attribute values off the queue.
var localePattern = regexp.MustCompile(`^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8}){0,6}$`)

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
		if len(v) <= 35 && localePattern.MatchString(v) {
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
