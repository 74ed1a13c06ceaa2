// Package compiled renders the one-time-code email from a bundle that
// templates.Compile wrote: every (set, locale) pre-rendered by hermes and
// cut at markers. It is what the mailer Lambda links instead of package
// templates, so that neither hermes, premailer nor a YAML parser is in the
// binary or runs at cold start; loading a bundle is a JSON decode.
//
// Its output is byte for byte that of templates.Library.Render over the
// sets the bundle was compiled from, with the same set and locale choice
// and the same fallbacks.
package compiled

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"

	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates/internal/render"
)

//go:generate go run ./internal/gen -o embedded.bundle.json

//go:embed embedded.bundle.json
var embedded []byte

// BundleFile is the bundle's name in OTP_TEMPLATES_DIR.
const BundleFile = render.BundleFile

// Version is the bundle format this package reads.
const Version = render.Version

// DefaultSet serves unknown tenants.
const DefaultSet = "default"

// ErrInvalidMessage is templates.ErrInvalidMessage: a code that is not
// 4..10 ASCII digits, or a lifetime that is not positive.
var ErrInvalidMessage = render.ErrInvalidMessage

// Bundle is a validated set of compiled template sets. It is immutable and
// safe for concurrent use; it implements mailer.Renderer.
type Bundle struct {
	sets map[string]*set
}

type set struct {
	name string
	// version names the bundle the set came from, for the email's tags
	// and logs: VersionOf its bytes, or "embedded-…"/"dir-…" for the
	// bundles in the binary and in OTP_TEMPLATES_DIR.
	version               string
	fromAddress, fromName string
	sesTenant             string
	locales               []*locale // the default first
	matcher               language.Matcher
}

type locale struct {
	id    string
	kinds map[contract.Kind]*kind // every kind a version 2 bundle has; only the sign-in code in version 1
}

// kind is one kind's email in one locale.
type kind struct {
	id                       string // the language the email is in
	subject                  string
	fallback, localeFallback bool
	w                        render.Wording
	body, noLinks            *render.Body
}

var _ mailer.Renderer = (*Bundle)(nil)

// Embedded returns the bundle compiled from templates.Embedded()'s sets
// by go generate. Its sets' version is "embedded-" and the start of the
// bundle's hash: a release's embedded sets are one version.
func Embedded() (*Bundle, error) {
	return parse("embedded bundle", embedded, EmbeddedVersionPrefix+VersionOf(embedded)[:12])
}

// Version prefixes of the bundles that do not come from the template
// store; a store version is a bare VersionOf.
const (
	EmbeddedVersionPrefix = "embedded-"
	DirVersionPrefix      = "dir-"
)

// VersionLen is the length of a VersionOf: 16 hex digits, 64 bits of
// SHA-256. It names a bundle among the few a set ever has, and fits a
// table column; the template store refuses a second bundle under a
// version it already holds, so a collision cannot go unnoticed.
const VersionLen = 16

// VersionOf is the version of a bundle: the start of the SHA-256 of its
// bytes, so that the same bundle always has the same version and a
// version names exactly one bundle.
func VersionOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:VersionLen]
}

// Load returns the embedded bundle, with the sets of dir's bundle (when dir
// is not empty) replacing embedded sets of the same name, as a whole.
func Load(dir string) (*Bundle, error) {
	b, err := Embedded()
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return b, nil
	}
	over, err := ReadDir(dir)
	if err != nil {
		return nil, err
	}
	return b.Layer(over), nil
}

// ReadDir reads BundleFile in dir.
func ReadDir(dir string) (*Bundle, error) {
	path := filepath.Join(dir, BundleFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		hint := "compile the sets with: otpctl templates compile DIR -o " + path
		if _, statErr := os.Stat(dir); statErr != nil {
			return nil, fmt.Errorf("template directory %s: %w", dir, statErr)
		}
		return nil, fmt.Errorf("template directory %s holds no %s (%s): %w", dir, BundleFile, hint, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read template bundle: %w", err)
	}
	return ParseDir(path, data)
}

// ParseDir is Parse for a bundle from a template directory (ReadDir, and
// otp-local's --templates-dir compiled on the fly): its sets' version is
// "dir-" and the start of its hash.
func ParseDir(name string, data []byte) (*Bundle, error) {
	return parse(name, data, DirVersionPrefix+VersionOf(data)[:12])
}

var setNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,63}$`)

// Parse decodes and validates a bundle; name (a file name) goes into every
// error, which also says which set and locale is at fault. Its sets'
// version is VersionOf(data).
func Parse(name string, data []byte) (*Bundle, error) {
	return parse(name, data, VersionOf(data))
}

func parse(name string, data []byte, version string) (*Bundle, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("template bundle %s: "+format, append([]any{name}, args...)...)
	}
	// Read the version alone first, so that a bundle of another version
	// says so instead of failing on a field this code does not know.
	var head struct {
		Version *int `json:"version"`
	}
	if v, ok := leadingVersion(data); ok {
		// What Compile writes: the version is the first field, so the
		// megabyte after it need not be scanned twice.
		head.Version = &v
	} else if err := json.Unmarshal(data, &head); err != nil {
		return nil, fail("not a bundle (JSON): %w", err)
	}
	switch {
	case head.Version == nil:
		return nil, fail("no version field; not a bundle written by otpctl templates compile")
	case *head.Version != Version && *head.Version != render.VersionSignInOnly:
		return nil, fail("version %d, this mailer reads versions %d and %d: compile the sets with the otpctl of this release", *head.Version, render.VersionSignInOnly, Version)
	}
	var f render.File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fail("%w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fail("not a bundle (JSON): data after top-level value")
	}
	if len(f.Sets) == 0 {
		return nil, fail("holds no sets")
	}
	b := &Bundle{sets: make(map[string]*set, len(f.Sets))}
	for _, sf := range f.Sets {
		if !setNameRe.MatchString(sf.Name) {
			return nil, fail("set name %q: want 1..63 characters of A-Z a-z 0-9 _ -", sf.Name)
		}
		if _, dup := b.sets[sf.Name]; dup {
			return nil, fail("set %q appears twice", sf.Name)
		}
		s, err := parseSet(sf, *head.Version)
		if err != nil {
			return nil, fail("set %q: %w", sf.Name, err)
		}
		s.version = version
		b.sets[sf.Name] = s
	}
	return b, nil
}

// leadingVersion reads the version when it is the object's first field,
// as Compile writes it. A bundle of any other shape gets the full decode,
// which reports its JSON errors.
func leadingVersion(data []byte) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0, false
	}
	if t, err := dec.Token(); err != nil || t != "version" {
		return 0, false
	}
	var v int
	if err := dec.Decode(&v); err != nil {
		return 0, false
	}
	return v, true
}

func parseSet(sf render.SetFile, version int) (*set, error) {
	if err := oneLine(sf.FromAddress, sf.FromName); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if len(sf.Locales) == 0 {
		return nil, errors.New("no locales")
	}
	if sf.SESTenant != "" && !render.ValidSESTenant(sf.SESTenant) {
		return nil, fmt.Errorf("ses_tenant %q is not an SES tenant name", sf.SESTenant)
	}
	s := &set{name: sf.Name, fromAddress: sf.FromAddress, fromName: sf.FromName, sesTenant: sf.SESTenant}
	tags := make([]language.Tag, 0, len(sf.Locales))
	seen := map[string]bool{}
	for _, lf := range sf.Locales {
		if version == render.VersionSignInOnly && len(lf.Kinds) > 0 {
			return nil, fmt.Errorf("locale %q: a version %d bundle has no kinds", lf.ID, version)
		}
		l, tag, err := parseLocale(lf)
		if err != nil {
			return nil, fmt.Errorf("locale %q: %w", lf.ID, err)
		}
		if seen[l.id] {
			return nil, fmt.Errorf("locale %q appears twice", l.id)
		}
		seen[l.id] = true
		s.locales = append(s.locales, l)
		tags = append(tags, tag)
	}
	s.matcher = language.NewMatcher(tags)
	return s, nil
}

var formsByName = func() map[string]plural.Form {
	m := make(map[string]plural.Form, len(render.FormNames))
	for f, n := range render.FormNames {
		m[n] = f
	}
	return m
}()

func parseLocale(lf render.LocaleFile) (*locale, language.Tag, error) {
	tag, err := language.Parse(lf.ID)
	if err != nil {
		return nil, tag, fmt.Errorf("not a BCP 47 tag: %w", err)
	}
	if tag.String() != lf.ID {
		return nil, tag, fmt.Errorf("not the canonical tag (%s)", tag)
	}
	l := &locale{id: lf.ID, kinds: make(map[contract.Kind]*kind, len(contract.Kinds))}
	signIn := render.KindFile{
		Kind: string(contract.KindSignInCode), RTL: lf.RTL, Subject: lf.Subject, Greeting: lf.Greeting, GreetingNoName: lf.GreetingNoName,
		Unit: string(render.UnitMinutes), Expiry: lf.Expiry, HTML: lf.HTML, Text: lf.Text,
	}
	for _, kf := range append([]render.KindFile{signIn}, lf.Kinds...) {
		base := lf.HTML
		if kf.Kind == string(contract.KindSignInCode) {
			base = "" // the sign-in body is the base itself, not a delta
		}
		k, err := parseKind(tag, base, kf)
		if err != nil {
			if kf.Kind == string(contract.KindSignInCode) {
				return nil, tag, err
			}
			return nil, tag, fmt.Errorf("%s: %w", kf.Kind, err)
		}
		kk := contract.Kind(kf.Kind)
		if _, dup := l.kinds[kk]; dup {
			return nil, tag, fmt.Errorf("kind %s appears twice", kf.Kind)
		}
		k.id = lf.ID
		if k.localeFallback {
			k.id = kf.Wording
		}
		l.kinds[kk] = k
	}
	return l, tag, nil
}

func parseKind(tag language.Tag, base string, kf render.KindFile) (*kind, error) {
	kk := contract.Kind(kf.Kind)
	if !kk.Known() {
		return nil, errors.New("not a kind this mailer knows")
	}
	k := &kind{subject: kf.Subject, fallback: kf.Fallback, localeFallback: kf.LocaleFallback}
	w := render.Wording{Tag: tag, RTL: kf.RTL, Greeting: kf.Greeting, GreetingNoName: kf.GreetingNoName, Unit: render.Unit(kf.Unit), Username: kf.Username}
	if kf.Fallback {
		wt, err := language.Parse(kf.Wording)
		if err != nil || wt.String() != kf.Wording {
			return nil, fmt.Errorf("wording %q: not a canonical BCP 47 tag", kf.Wording)
		}
		w.Tag = wt
	} else if kf.Wording != "" || kf.LocaleFallback {
		return nil, errors.New("wording or locale_fallback without fallback")
	}
	switch {
	case kf.Subject == "":
		return nil, errors.New("empty subject")
	case len(kf.Greeting) < 2:
		return nil, errors.New("greeting has no {name}")
	case kf.GreetingNoName == "":
		return nil, errors.New("empty greeting_no_name")
	}
	lines := append([]string{kf.Subject, kf.GreetingNoName}, kf.Greeting...)
	shape := render.ShapeCode
	switch kk {
	case contract.KindAccountTakeover:
		shape = render.ShapeTakeover
		if len(kf.Happened) != len(w.Happened) || len(kf.Details) != len(w.Details) || len(kf.LinkInstructions) != 2 || len(kf.LinkLabels) != 2 {
			return nil, errors.New("a takeover notice needs 3 happened sentences, 4 details, 2 link instructions and 2 link labels")
		}
		copy(w.Happened[:], kf.Happened)
		copy(w.LinkInstructions[:], kf.LinkInstructions)
		copy(w.LinkLabels[:], kf.LinkLabels)
		for i, d := range kf.Details {
			if len(d) != 2 {
				return nil, fmt.Errorf("details[%d] has no placeholder", i)
			}
			w.Details[i] = d
			lines = append(lines, d...)
		}
		lines = append(append(append(lines, kf.Happened...), kf.LinkInstructions...), kf.LinkLabels...)
		h, err := render.ApplyDelta(base, kf.NoLinksHTML)
		if err != nil {
			return nil, fmt.Errorf("no links: %w", err)
		}
		if k.noLinks, err = render.Parse(render.ShapeTakeoverNoLinks, h, kf.NoLinksText); err != nil {
			return nil, fmt.Errorf("no links: %w", err)
		}
	case contract.KindInvitation:
		shape = render.ShapeInvitation
		if len(kf.Username) != 2 {
			return nil, errors.New("username has no {username}")
		}
		lines = append(lines, kf.Username...)
	}
	if kk != contract.KindAccountTakeover {
		switch w.Unit {
		case render.UnitMinutes, render.UnitHours, render.UnitDays:
		default:
			return nil, fmt.Errorf("unit %q: want minutes, hours or days", kf.Unit)
		}
		if len(kf.Expiry["other"]) < 2 {
			return nil, errors.New(`expiry has no "other" form with its count`)
		}
		w.Expiry = make(map[plural.Form][]string, len(kf.Expiry))
		for name, parts := range kf.Expiry {
			form, ok := formsByName[name]
			if !ok {
				return nil, fmt.Errorf("expiry.%s: not a plural category", name)
			}
			if err := oneLine(parts...); err != nil {
				return nil, fmt.Errorf("expiry.%s: %w", name, err)
			}
			w.Expiry[form] = parts
		}
	}
	if err := oneLine(lines...); err != nil {
		return nil, err
	}
	h := kf.HTML
	if base != "" {
		var err error
		if h, err = render.ApplyDelta(base, kf.HTML); err != nil {
			return nil, err
		}
	}
	var err error
	if k.body, err = render.Parse(shape, h, kf.Text); err != nil {
		return nil, err
	}
	k.w = w
	return k, nil
}

// oneLine keeps a hand-edited bundle from putting a line break into a mail
// header or a marker into a value: the YAML checker guarantees both for
// compiled bundles.
func oneLine(values ...string) error {
	for _, v := range values {
		if strings.ContainsAny(v, "\r\n"+render.MarkOpen+render.MarkClose) {
			return fmt.Errorf("%q holds a line break or a marker", v)
		}
	}
	return nil
}

// Layer returns a bundle with b's sets, each replaced as a whole by the
// set of the same name in a later bundle of over, plus their other sets.
// b and over are not changed (a Bundle is immutable), and the sets are
// shared, not copied.
func (b *Bundle) Layer(over ...*Bundle) *Bundle {
	n := len(b.sets)
	for _, o := range over {
		n += len(o.sets)
	}
	out := &Bundle{sets: make(map[string]*set, n)}
	for name, s := range b.sets {
		out.sets[name] = s
	}
	for _, o := range over {
		for name, s := range o.sets {
			out.sets[name] = s
		}
	}
	return out
}

// Version is the version of the bundle a set came from; "" for an unknown
// set.
func (b *Bundle) Version(setName string) string {
	if s, ok := b.sets[setName]; ok {
		return s.version
	}
	return ""
}

// Sets lists the set names, sorted.
func (b *Bundle) Sets() []string {
	names := make([]string, 0, len(b.sets))
	for name := range b.sets {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Locales lists a set's locales, sorted; nil for an unknown set.
func (b *Bundle) Locales(setName string) []string {
	s, ok := b.sets[setName]
	if !ok {
		return nil
	}
	ids := make([]string, len(s.locales))
	for i, l := range s.locales {
		ids[i] = l.id
	}
	sort.Strings(ids)
	return ids
}

// Render renders a send request's email. Unknown tenants get the default
// set (SetFallback), unmatched locales the set's default (LocaleFallback),
// kinds the set has no wording for the default set's wording in the set's
// theme (KindFallback), exactly as templates.Library.Render chooses. A set
// from a version 1 bundle has only the sign-in code: its other kinds are
// the default set's emails, theme and all.
func (b *Bundle) Render(_ context.Context, r contract.SendRequest) (mailer.Email, error) {
	def := b.sets[DefaultSet]
	if def == nil {
		return mailer.Email{}, fmt.Errorf("templates: bundle has no %q set", DefaultSet)
	}
	kk := render.KindOf(r.Kind)
	m := render.Message{Name: r.Name, Code: r.Code.Reveal(), Username: r.Username, Password: r.TemporaryPassword.Reveal(),
		TTL: r.ExpiresAt.Sub(r.IssuedAt), Takeover: r.Takeover}
	if err := render.Check(kk, m); err != nil {
		return mailer.Email{}, err
	}
	s, setFallback := b.sets[r.Tenant], false
	if s == nil {
		s, setFallback = def, r.Tenant != ""
	}
	idx, localeFallback := render.PickLocale(s.matcher, len(s.locales), r.Locale)
	k, ok := s.locales[idx].kinds[kk]
	kindFallback := false
	if !ok {
		// A set published before kinds: the default set's email.
		di, fb := render.PickLocale(def.matcher, len(def.locales), s.locales[idx].id)
		if k, ok = def.locales[di].kinds[kk]; !ok {
			return mailer.Email{}, fmt.Errorf("templates: neither set %q nor the default set has a %s email", s.name, kk)
		}
		s, kindFallback, localeFallback = def, true, localeFallback || fb
	}
	v := k.w.Values(kk, m)
	body := k.body
	if kk == contract.KindAccountTakeover && !render.HasLinks(v) {
		body = k.noLinks
	}
	htmlOut, textOut := body.Render(v)
	return mailer.Email{
		Subject: k.subject, HTML: htmlOut, Text: textOut,
		FromAddress: s.fromAddress, FromName: s.fromName, SESTenant: s.sesTenant,
		Set: s.name, Version: s.version, Locale: k.id, Kind: kk,
		SetFallback: setFallback, LocaleFallback: localeFallback || k.localeFallback, KindFallback: kindFallback || k.fallback,
	}, nil
}
