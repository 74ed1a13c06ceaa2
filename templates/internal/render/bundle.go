package render

// The bundle: every (set, locale) a mailer needs, pre-rendered, as JSON.
// templates.Compile writes it from loaded YAML sets; templates/compiled
// reads it without hermes. Bump Version on any change a reader of the
// previous version would misread.

// Version is the bundle format this code writes and reads.
const Version = 1

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
	// Locales are in the order the locale matcher is given them, which
	// decides ties; the first is the set's default.
	Locales []LocaleFile `json:"locales"`
}

// LocaleFile is one locale of a set, with {product} filled in.
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
}
