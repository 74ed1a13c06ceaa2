package templates

// Branding is what a sign-in page needs to look like a tenant's emails:
// the product, its accent colour and logo, and the languages the set speaks.
type Branding struct {
	Set     string           `json:"set"`
	Product string           `json:"product"`
	Link    string           `json:"link,omitempty"`
	Logo    string           `json:"logo,omitempty"`
	Accent  string           `json:"accent,omitempty"`
	Default string           `json:"defaultLocale"`
	Locales []BrandingLocale `json:"locales"`
}

// BrandingLocale is one of a set's languages and its writing direction.
type BrandingLocale struct {
	Tag string `json:"tag"`
	Dir string `json:"dir"` // "ltr" or "rtl"
}

// Branding returns a set's branding; ok is false for an unknown set.
func (l *Library) Branding(setName string) (b Branding, ok bool) {
	s, ok := l.sets[setName]
	if !ok {
		return Branding{}, false
	}
	b = Branding{Set: s.name, Product: s.product, Link: s.link, Logo: s.logo,
		Accent: s.colors.accent, Default: s.locales[0].id}
	for _, loc := range s.locales {
		dir := "ltr"
		if loc.rtl {
			dir = "rtl"
		}
		b.Locales = append(b.Locales, BrandingLocale{Tag: loc.id, Dir: dir})
	}
	return b, true
}
