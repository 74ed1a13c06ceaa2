package templates

import (
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates/internal/render"
)

// DefaultSet is the set used for unknown tenants. Every library has one.
const DefaultSet = "default"

// themeFile is theme.yaml as written.
type themeFile struct {
	Product       text       `yaml:"product"`
	Link          text       `yaml:"link"`
	Logo          text       `yaml:"logo"`
	Theme         text       `yaml:"theme"`
	Colors        colorsFile `yaml:"colors"`
	FromAddress   text       `yaml:"from_address"`
	FromName      text       `yaml:"from_name"`
	SESTenant     text       `yaml:"ses_tenant"`
	Copyright     text       `yaml:"copyright"`
	DefaultLocale text       `yaml:"default_locale"`
	Direction     text       `yaml:"direction"`
}

type colorsFile struct {
	Background     text `yaml:"background"`
	Masthead       text `yaml:"masthead"`
	Accent         text `yaml:"accent"`
	Code           text `yaml:"code"`
	CodeBackground text `yaml:"code_background"`
}

// localeFile is locales/<tag>.yaml as written.
type localeFile struct {
	Subject        text       `yaml:"subject"`
	Greeting       text       `yaml:"greeting"`
	GreetingNoName text       `yaml:"greeting_no_name"`
	Intro          text       `yaml:"intro"`
	Instructions   text       `yaml:"instructions"`
	Expiry         pluralText `yaml:"expiry"`
	NotRequested   text       `yaml:"not_requested"`
	Signature      text       `yaml:"signature"`
	Direction      text       `yaml:"direction"`

	// The other kinds' sections; see kinds.go.
	SignUpVerification    section `yaml:"signup_verification"`
	Invitation            section `yaml:"invitation"`
	AttributeVerification section `yaml:"attribute_verification"`
	PasswordReset         section `yaml:"password_reset"`
	MFACode               section `yaml:"mfa_code"`
	AccountTakeover       section `yaml:"account_takeover"`
}

var pluralForms = map[string]plural.Form{
	"zero": plural.Zero, "one": plural.One, "two": plural.Two,
	"few": plural.Few, "many": plural.Many, "other": plural.Other,
}

// keyRule says which placeholders a locale key may use and which one it
// must use. {name} is confined to the greeting and {minutes} to the expiry
// sentence because those are the only strings rendered per message; every
// other string is fixed per (set, locale) and rendered once at load.
// {code} is deliberately not a placeholder anywhere: the code appears only
// in hermes' code box, and never in the subject, which SES event
// notifications and mail logs record.
type keyRule struct {
	allowed  []string
	required string
}

var keyRules = map[string]keyRule{
	"subject":          {allowed: []string{phProduct}},
	"greeting":         {allowed: []string{phName, phProduct}, required: phName},
	"greeting_no_name": {allowed: []string{phProduct}},
	"intro":            {allowed: []string{phProduct}},
	"instructions":     {allowed: []string{phProduct}},
	"expiry":           {allowed: []string{phMinutes, phProduct}},
	"not_requested":    {allowed: []string{phProduct}},
	"signature":        {allowed: []string{phProduct}},
}

// set is a loaded, validated template set.
type set struct {
	name, source string
	product      string
	link, logo   string
	hermesTheme  string // "default" or "flat"
	colors       colors
	fromAddress  string
	fromName     string
	sesTenant    string // the SES tenant the set sends through; "" = none
	copyright    string
	direction    string // "", "ltr", "rtl"
	locales      []*locale
	def          *locale
	matcher      language.Matcher // over locales, in order; index 0 is def
}

type colors struct {
	background, masthead, accent, code, codeBackground string
}

// locale is one loaded locale file. Its phrases keep {product} unfilled:
// a set lacking a kind borrows the default set's wording, with its own
// product filled in.
type locale struct {
	id       string // canonical BCP 47 tag, e.g. "zh-Hans"
	tag      language.Tag
	file     string
	rtl      bool
	greeting phrase // contains {name}
	noName   phrase
	sign     phrase
	own      map[contract.Kind]*kindText // the kinds this file has wording for

	// kinds are every kind's email, prepared at load: its own wording or
	// a kind fallback's.
	kinds map[contract.Kind]*kindLocale
}

// kindLocale is one (set, locale, kind)'s email, ready to render.
type kindLocale struct {
	kind contract.Kind
	// fallback is true when the wording is the default set's: the set has
	// none for the kind. wording names the locale it came from, and
	// localeFallback says that the default set had no match for this
	// locale, so its default locale's wording stood in.
	fallback       bool
	wording        *locale
	localeFallback bool
	id             string // the language the email is in: the locale's, or the wording's after a locale fallback
	rtl            bool
	subject        string
	texts          map[string]string // the kind's fixed strings, {product} filled in
	signature      string
	w              render.Wording

	theme   *theme       // hermes theme patched for this email (lang, title, colours)
	cache   *render.Body // the pre-rendered bodies, built by prepare at load
	noLinks *render.Body // a takeover notice's bodies when it has no valid link
}

var setNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,63}$`)

// ignorable reports entries a set directory may hold besides its files:
// dotfiles (editor and VCS droppings) and notes for humans.
func ignorable(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".md")
}

// parseSet reads and validates one set directory. It returns the set even
// when there are problems, so that the checker can go on and report more.
func parseSet(name, source string, fsys fs.FS) (*set, []Problem) {
	var list []Problem
	ps := problems{set: name, source: source, list: &list}
	s := &set{name: name, source: source}

	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		ps.at(0, "cannot read set directory: %v", err)
		return s, list
	}
	haveTheme, haveLocales := false, false
	for _, e := range entries {
		switch {
		case e.Name() == "theme.yaml" && !e.IsDir():
			haveTheme = true
		case e.Name() == "locales" && e.IsDir():
			haveLocales = true
		case ignorable(e.Name()):
		default:
			p := ps
			p.file = e.Name()
			p.at(0, "unexpected entry; a set holds theme.yaml and locales/<tag>.yaml only")
		}
	}

	tp := ps
	tp.file = "theme.yaml"
	defaultLocale := "en"
	if !haveTheme {
		tp.at(0, "missing file")
	} else if data, err := fs.ReadFile(fsys, "theme.yaml"); err != nil {
		tp.at(0, "cannot read: %v", err)
	} else {
		var tf themeFile
		decodeStrict(data, &tf, tp, map[string]string{"colorsFile": "colors."})
		defaultLocale = s.applyTheme(tf, tp)
	}

	if !haveLocales {
		lp := ps
		lp.file = "locales"
		lp.at(0, "missing directory; add locales/en.yaml at least")
		return s, list
	}
	seen := map[string]bool{}
	var files []fileKinds
	entries, err = fs.ReadDir(fsys, "locales")
	if err != nil {
		lp := ps
		lp.file = "locales"
		lp.at(0, "cannot read: %v", err)
		return s, list
	}
	for _, e := range entries {
		lp := ps
		lp.file = path.Join("locales", e.Name())
		if ignorable(e.Name()) {
			continue
		}
		base, ok := strings.CutSuffix(e.Name(), ".yaml")
		if e.IsDir() || !ok {
			lp.at(0, "unexpected entry; locale files are named <BCP 47 tag>.yaml")
			continue
		}
		tag, err := language.Parse(base)
		if err != nil {
			lp.at(0, "file name is not a BCP 47 tag: %v", err)
			continue
		}
		if tag.String() != base {
			lp.at(0, "file name must be the canonical tag: rename to %s.yaml", tag)
			continue
		}
		seen[base] = true
		data, err := fs.ReadFile(fsys, lp.file)
		if err != nil {
			lp.at(0, "cannot read: %v", err)
			continue
		}
		var lf localeFile
		decodeStrict(data, &lf, lp, nil)
		files = append(files, fileKinds{file: lp.file, kinds: lf.sectionKinds()})
		if loc := s.applyLocale(tag, lp.file, lf, lp); loc != nil {
			s.locales = append(s.locales, loc)
		}
	}
	if len(s.locales) == 0 && !slices.ContainsFunc(list, func(p Problem) bool { return strings.HasPrefix(p.File, "locales/") }) {
		lp := ps
		lp.file = "locales"
		lp.at(0, "no locale files; add locales/en.yaml at least")
	}

	s.checkKinds(files, ps)

	// The matcher breaks ties by order: with fr-CA listed before fr, a
	// request for fr-BE gets Québec French. So plain languages go before
	// regional variants. The default locale goes first of all: the matcher
	// falls back to index 0.
	slices.SortStableFunc(s.locales, func(a, b *locale) int {
		if d := strings.Count(a.id, "-") - strings.Count(b.id, "-"); d != 0 {
			return d
		}
		return strings.Compare(a.id, b.id)
	})
	idx := slices.IndexFunc(s.locales, func(l *locale) bool { return l.id == defaultLocale })
	if idx < 0 {
		if !seen[defaultLocale] {
			tp.add("default_locale", 0, "the default locale %q has no file locales/%s.yaml (set default_locale in theme.yaml, or add the file)", defaultLocale, defaultLocale)
		}
		return s, list
	}
	s.def = s.locales[idx]
	ordered := append([]*locale{s.def}, slices.Delete(slices.Clone(s.locales), idx, idx+1)...)
	tags := make([]language.Tag, len(ordered))
	for i, l := range ordered {
		tags[i] = l.tag
	}
	s.matcher = language.NewMatcher(tags)
	s.locales = ordered
	return s, list
}

// checkKinds holds a set to one rule: it has a kind's wording in every
// locale or in none, so that whether an email is the set's own or a kind
// fallback does not depend on the reader's language. The default set is
// every other set's fallback, so it needs every kind.
func (s *set) checkKinds(files []fileKinds, ps problems) {
	for _, kind := range contract.Kinds {
		spec := kindSpecs[kind]
		if spec.section == "" {
			continue
		}
		var have, lack []string
		for _, f := range files {
			if slices.Contains(f.kinds, kind) {
				have = append(have, f.file)
			} else {
				lack = append(lack, f.file)
			}
		}
		if len(lack) == 0 || len(have) == 0 && s.name != DefaultSet {
			continue
		}
		for _, file := range lack {
			p := ps
			p.file = file
			if s.name == DefaultSet {
				p.at(0, "missing section %q: the default set lends its wording to every set without one, so it needs every kind (see templates/sets/default)", spec.section)
			} else {
				p.at(0, "missing section %q, which %s has: a set has a kind's wording in every locale or in none", spec.section, have[0])
			}
		}
	}
}

// fileKinds are the kind sections a locale file has, whether or not they
// are valid.
type fileKinds struct {
	file  string
	kinds []contract.Kind
}

// applyTheme validates theme.yaml into s and returns the default locale.
func (s *set) applyTheme(tf themeFile, ps problems) (defaultLocale string) {
	s.product = requireText(tf.Product, "product", ps)
	s.link = checkURL(tf.Link, "link", true, ps)
	s.logo = checkURL(tf.Logo, "logo", false, ps)

	switch v := optionalText(tf.Theme, "theme", ps); v {
	case "", "default":
		s.hermesTheme = "default"
	case "flat":
		s.hermesTheme = "flat"
	default:
		ps.add("theme", tf.Theme.line, "must be default or flat, not %q", v)
	}

	s.colors = colors{
		background:     checkColor(tf.Colors.Background, "colors.background", ps),
		masthead:       checkColor(tf.Colors.Masthead, "colors.masthead", ps),
		accent:         checkColor(tf.Colors.Accent, "colors.accent", ps),
		code:           checkColor(tf.Colors.Code, "colors.code", ps),
		codeBackground: checkColor(tf.Colors.CodeBackground, "colors.code_background", ps),
	}

	if v := optionalText(tf.FromAddress, "from_address", ps); v != "" {
		a, err := mail.ParseAddress(v)
		switch {
		case err != nil:
			ps.add("from_address", tf.FromAddress.line, "not an email address: %v", err)
		case a.Address != v:
			ps.add("from_address", tf.FromAddress.line, "give the bare address (%s); the name goes in from_name", a.Address)
		default:
			s.fromAddress = v
		}
	}
	s.fromName = optionalText(tf.FromName, "from_name", ps)
	if v := optionalText(tf.SESTenant, "ses_tenant", ps); v != "" {
		if render.ValidSESTenant(v) {
			s.sesTenant = v
		} else {
			ps.add("ses_tenant", tf.SESTenant.line, "%q is not an SES tenant name: 1 to 64 letters, digits, '-' or '_'", v)
		}
	}
	s.copyright = optionalText(tf.Copyright, "copyright", ps)
	if s.copyright == "" && s.product != "" {
		s.copyright = "© " + s.product
	}
	s.direction = checkDirection(tf.Direction, ps)

	defaultLocale = "en"
	if v := optionalText(tf.DefaultLocale, "default_locale", ps); v != "" {
		tag, err := language.Parse(v)
		switch {
		case err != nil:
			ps.add("default_locale", tf.DefaultLocale.line, "not a BCP 47 tag: %v", err)
		case tag.String() != v:
			ps.add("default_locale", tf.DefaultLocale.line, "write the canonical tag %q", tag.String())
		default:
			defaultLocale = v
		}
	}
	return defaultLocale
}

// applyLocale validates one locale file. It returns nil when a required key
// is unusable, after recording why.
func (s *set) applyLocale(tag language.Tag, file string, lf localeFile, ps problems) *locale {
	before := len(*ps.list)
	str := func(key string, t text) phrase {
		if !t.set {
			ps.missing(key)
			return nil
		}
		return checkPhrase(key, t, keyRules[key], ps)
	}
	loc := &locale{id: tag.String(), tag: tag, file: file, own: map[contract.Kind]*kindText{}}
	texts, expiry := lf.signInValues()
	signIn := parseKindText(kindSpecs[contract.KindSignInCode], texts, expiry, 0, ps)
	loc.greeting = str("greeting", lf.Greeting)
	loc.noName = str("greeting_no_name", lf.GreetingNoName)
	loc.sign = str("signature", lf.Signature)
	if signIn != nil {
		loc.own[contract.KindSignInCode] = signIn
	}
	sections := lf.sections()
	for _, kind := range contract.Kinds {
		sec, ok := sections[kind]
		if !ok || !sec.set {
			continue
		}
		if kt := parseSection(kindSpecs[kind], sec, ps); kt != nil {
			loc.own[kind] = kt
		}
	}

	dir := checkDirection(lf.Direction, ps)
	if dir == "" {
		dir = s.direction
	}
	loc.rtl = dir == "rtl" || dir == "" && isRTLScript(tag)

	if len(*ps.list) > before {
		return nil
	}
	return loc
}

// checkPhrase validates a locale string: present, one clean line, and only
// the placeholders its key allows. It returns nil after recording a problem.
func checkPhrase(key string, t text, rule keyRule, ps problems) phrase {
	v, ok := cleanText(t, key, ps)
	if !ok {
		return nil
	}
	if v == "" {
		ps.add(key, t.line, "is empty")
		return nil
	}
	p, err := parsePhrase(v)
	var unknown unknownPlaceholder
	switch {
	case errors.As(err, &unknown):
		ps.add(key, t.line, "unknown placeholder %q (known: %s)", "{"+string(unknown)+"}", braceList(scopePlaceholders(key)))
		return nil
	case err != nil:
		ps.add(key, t.line, "%v", err)
		return nil
	}
	bad := false
	for _, x := range p {
		if x.ph != "" && !slices.Contains(rule.allowed, x.ph) {
			ps.add(key, t.line, "placeholder {%s} is not allowed here (allowed: %s)", x.ph, braceList(rule.allowed))
			bad = true
		}
	}
	if rule.required != "" && !p.uses(rule.required) {
		ps.add(key, t.line, "must contain {%s}", rule.required)
		bad = true
	}
	if bad {
		return nil
	}
	return p
}

// scopePlaceholders are the placeholders a key's part of a locale file
// uses: the top-level keys {name}, {minutes} and {product}; a kind's
// section those and its own (its expiry's count, the username, the
// takeover's details).
func scopePlaceholders(key string) []string {
	section, _, ok := strings.Cut(key, ".")
	spec := kindSpecs[contract.Kind(section)]
	if !ok || spec == nil {
		return []string{phName, phMinutes, phProduct}
	}
	out := []string{phName}
	for _, u := range spec.units {
		out = append(out, string(u))
	}
	for _, k := range spec.keys {
		for _, ph := range spec.rule(k).allowed {
			if !slices.Contains(out, ph) && ph != phProduct {
				out = append(out, ph)
			}
		}
	}
	return append(out, phProduct)
}

func braceList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "{" + n + "}"
	}
	return strings.Join(out, ", ")
}

// cleanText trims a value and checks its characters. Locale and theme
// strings are trusted but must stay one line of visible text: a line break
// in a subject would start a new mail header, and the render cache relies
// on strings holding no control or private-use characters (the markers it
// substitutes are private-use characters).
func cleanText(t text, key string, ps problems) (string, bool) {
	if t.bad != "" {
		ps.add(key, t.line, "%s", t.bad)
		return "", false
	}
	v := strings.TrimSpace(t.value)
	if !utf8.ValidString(v) {
		ps.add(key, t.line, "is not valid UTF-8")
		return "", false
	}
	for _, r := range v {
		switch {
		case r == '\n' || r == '\r':
			ps.add(key, t.line, "contains a line break; write one line (a folded scalar, >-, is fine)")
			return "", false
		case unicode.Is(unicode.Cc, r):
			ps.add(key, t.line, "contains the control character %U", r)
			return "", false
		case unicode.Is(unicode.Co, r):
			ps.add(key, t.line, "contains the private-use character %U", r)
			return "", false
		case unicode.Is(unicode.Cf, r) && !allowedFormat(r):
			ps.add(key, t.line, "contains the invisible format character %U; only bidi marks and joiners are allowed", r)
			return "", false
		}
	}
	return v, true
}

// allowedFormat lists the invisible characters a translator may need: the
// joiners, and the bidi marks and isolates that fix punctuation in
// right-to-left text.
func allowedFormat(r rune) bool {
	switch r {
	case '\u200C', '\u200D', '\u200E', '\u200F', '\u061C', '\u2066', '\u2067', fsi, pdi:
		return true
	}
	return false
}

func requireText(t text, key string, ps problems) string {
	if !t.set {
		ps.missing(key)
		return ""
	}
	v, ok := cleanText(t, key, ps)
	if ok && v == "" {
		ps.add(key, t.line, "is empty")
	}
	return v
}

func optionalText(t text, key string, ps problems) string {
	if !t.set {
		return ""
	}
	v, _ := cleanText(t, key, ps)
	return v
}

func checkURL(t text, key string, required bool, ps problems) string {
	var v string
	if required {
		v = requireText(t, key, ps)
	} else {
		v = optionalText(t, key, ps)
	}
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		ps.add(key, t.line, "not a URL: %v", err)
	case u.Scheme != "https" || u.Host == "" || u.User != nil:
		ps.add(key, t.line, "must be an https:// URL with a host (mail clients block or warn about anything else)")
	case strings.ContainsAny(v, " \"'<>\\`"):
		ps.add(key, t.line, "must not contain spaces, quotes or angle brackets")
	default:
		return v
	}
	return ""
}

var colorRe = regexp.MustCompile(`^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$`)

// checkColor admits only #rgb and #rrggbb: colours are pasted into the
// theme's CSS, so anything richer could smuggle in CSS or template syntax.
func checkColor(t text, key string, ps problems) string {
	v := optionalText(t, key, ps)
	if v != "" && !colorRe.MatchString(v) {
		ps.add(key, t.line, "must be #rgb or #rrggbb, not %q", v)
		return ""
	}
	return v
}

func checkDirection(t text, ps problems) string {
	switch v := optionalText(t, "direction", ps); v {
	case "", "auto":
		return ""
	case "ltr", "rtl":
		return v
	default:
		ps.add("direction", t.line, "must be auto, ltr or rtl, not %q", v)
		return ""
	}
}

// isRTLScript reports whether a language is written right to left, judged
// by its (likely) script.
func isRTLScript(tag language.Tag) bool {
	sc, _ := tag.Script()
	switch sc.String() {
	case "Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm", "Rohg", "Mand", "Samr", "Mend":
		return true
	}
	return false
}

// String is for debugging and problem messages.
func (l *locale) String() string { return fmt.Sprintf("%s (%s)", l.id, l.file) }
