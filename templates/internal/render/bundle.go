package render

// The bundle: every (set, locale) a mailer needs, pre-rendered, as JSON.
// templates.Compile writes it from loaded YAML sets; templates/compiled
// reads it without hermes. Bump Version on any change a reader of the
// previous version would misread.

import "regexp"

// Version is the bundle format this code writes. Version 2 added the
// kinds; it reads version 1 too (a set published before kinds renders its
// sign-in codes as before, and every other kind from the default set).
const Version = 2

// VersionSignInOnly is the version before kinds, which this code still
// reads.
const VersionSignInOnly = 1

// BundleFile is the bundle's file name in OTP_TEMPLATES_DIR.
const BundleFile = "templates.bundle.json"

// File is a bundle.
type File struct {
	Version int       `json:"version"`
	Sets    []SetFile `json:"sets"` // sorted by name
}

// SetFile is one template set.
type SetFile struct {
	Name        string `json:"name"`
	FromAddress string `json:"from_address,omitempty"`
	FromName    string `json:"from_name,omitempty"`
	// SESTenant is the SES tenant the set sends through (SendEmail's
	// TenantName); empty: none.
	SESTenant string `json:"ses_tenant,omitempty"`
	// Locales are in the order the locale matcher is given them, which
	// decides ties; the first is the set's default.
	Locales []LocaleFile `json:"locales"`
}

// LocaleFile is one locale of a set, with {product} filled in. Its own
// fields are the sign-in code email, as in version 1.
type LocaleFile struct {
	ID             string   `json:"id"` // canonical BCP 47 tag
	RTL            bool     `json:"rtl,omitempty"`
	Subject        string   `json:"subject"`
	Greeting       []string `json:"greeting"` // split at {name}
	GreetingNoName string   `json:"greeting_no_name"`
	// Expiry is the sentence per CLDR plural category, split at {minutes};
	// "other" is required.
	Expiry map[string][]string `json:"expiry"`
	// HTML and Text are the bodies with MarkGreeting, MarkExpiry, MarkCode
	// and (text only) MarkDivider where the per-message values go.
	HTML string `json:"html"`
	Text string `json:"text"`
	// Kinds are every other kind's email (version 2), in contract.Kinds
	// order.
	Kinds []KindFile `json:"kinds,omitempty"`
}

// KindFile is one kind's email in one locale of a set: a render.Wording
// and the bodies, cut at markers as LocaleFile's are.
type KindFile struct {
	Kind string `json:"kind"`
	// Fallback says the wording is the default set's, from its locale
	// Wording; LocaleFallback, that the default set has no match for the
	// locale, so the email is in Wording's language instead.
	Fallback       bool   `json:"fallback,omitempty"`
	Wording        string `json:"wording,omitempty"`
	LocaleFallback bool   `json:"locale_fallback,omitempty"`
	RTL            bool   `json:"rtl,omitempty"`
	Subject        string `json:"subject"`
	// Greeting is split at {name}; the others at their one placeholder.
	Greeting         []string            `json:"greeting"`
	GreetingNoName   string              `json:"greeting_no_name"`
	Unit             string              `json:"unit,omitempty"`
	Expiry           map[string][]string `json:"expiry,omitempty"`
	Username         []string            `json:"username,omitempty"`
	Happened         []string            `json:"happened,omitempty"`
	Details          [][]string          `json:"details,omitempty"`
	LinkInstructions []string            `json:"link_instructions,omitempty"`
	LinkLabels       []string            `json:"link_labels,omitempty"`
	// HTML is the body as a delta against the locale's sign-in code HTML
	// (see MakeDelta); Text the plain text, in full (it is short).
	HTML string `json:"html"`
	Text string `json:"text"`
	// NoLinksHTML and NoLinksText are a takeover notice's bodies when it
	// has no valid link.
	NoLinksHTML string `json:"no_links_html,omitempty"`
	NoLinksText string `json:"no_links_text,omitempty"`
}

var sesTenantRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidSESTenant reports whether name follows SES's rule for tenant names:
// up to 64 letters, digits, hyphens and underscores. The checker refuses
// any other name in theme.yaml, and a bundle that holds one does not load,
// so SES never sees it.
func ValidSESTenant(name string) bool { return sesTenantRE.MatchString(name) }
