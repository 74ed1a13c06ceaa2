package templates

import (
	"fmt"
	"io/fs"
	"slices"
	"sort"

	"github.com/matcornic/hermes/v2"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"

	"github.com/cognito-email-otp/cognito-email-otp/templates/internal/render"
)

// Library is a validated collection of template sets. It is immutable after
// Load and safe for concurrent use.
type Library struct {
	sets map[string]*set
	def  *set
}

// Load reads the sets of every source, later sources replacing earlier ones
// set by set, validates all of them, and renders each (set, locale) once
// for the cache. Any problem in any effective set fails the whole load with
// a *LoadError naming the file and the key.
func Load(sources ...Source) (*Library, error) {
	lib, list, _ := load(sources)
	if len(list) > 0 {
		return nil, &LoadError{Problems: list}
	}
	return lib, nil
}

// load does the work of Load and Check: it goes as far as it can and
// returns every problem it meets, and every effective set, loaded or not.
func load(sources []Source) (*Library, []Problem, []SetReport) {
	var list []Problem
	if len(sources) == 0 {
		return nil, []Problem{{Source: "templates", Message: "no sources given"}}, nil
	}
	type where struct {
		source string
		fsys   fs.FS
	}
	found := map[string]where{}
	for _, src := range sources {
		fsys, err := src.Open()
		if err != nil {
			list = append(list, Problem{Source: src.String(), Message: fmt.Sprintf("open: %v", err)})
			continue
		}
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			list = append(list, Problem{Source: src.String(), Message: fmt.Sprintf("list sets: %v", err)})
			continue
		}
		for _, e := range entries {
			switch {
			case ignorable(e.Name()):
			case e.Name() == render.BundleFile && !e.IsDir():
				// otpctl templates compile's output may sit beside the sets
				// it was compiled from.
			case !e.IsDir():
				list = append(list, Problem{Source: src.String(), Message: fmt.Sprintf("%s: not a set directory; sets are directories at the top level", e.Name())})
			case !setNameRe.MatchString(e.Name()):
				list = append(list, Problem{Source: src.String(), Message: fmt.Sprintf("%s: set names are 1..63 characters of A-Z a-z 0-9 _ -", e.Name())})
			default:
				sub, err := fs.Sub(fsys, e.Name())
				if err != nil {
					list = append(list, Problem{Source: src.String(), Message: fmt.Sprintf("%s: %v", e.Name(), err)})
					continue
				}
				found[e.Name()] = where{src.String(), sub}
			}
		}
	}

	lib := &Library{sets: map[string]*set{}}
	names := make([]string, 0, len(found))
	for name := range found {
		names = append(names, name)
	}
	sort.Strings(names)
	reports := make([]SetReport, 0, len(names))
	for _, name := range names {
		w := found[name]
		reports = append(reports, SetReport{Name: name, Source: w.source})
		s, setProblems := parseSet(name, w.source, w.fsys)
		list = append(list, setProblems...)
		if len(setProblems) > 0 {
			continue
		}
		ok := true
		for _, l := range s.locales {
			if err := s.prepare(l); err != nil {
				list = append(list, Problem{Set: name, Source: w.source, File: l.file, Message: err.Error()})
				ok = false
			}
		}
		if ok {
			lib.sets[name] = s
		}
	}
	lib.def = lib.sets[DefaultSet]
	if _, ok := found[DefaultSet]; !ok {
		list = append(list, Problem{Source: "templates", Message: fmt.Sprintf("no %q set in any source; it serves unknown tenants", DefaultSet)})
	}
	return lib, list, reports
}

// prepare builds the locale's theme and renders it once for the cache.
func (s *set) prepare(l *locale) error {
	th, err := buildTheme(s, l)
	if err != nil {
		return fmt.Errorf("internal: %w", err)
	}
	l.theme = th
	htmlOut, textOut, err := s.renderHermes(l, render.MarkGreeting, render.MarkExpiry, render.MarkCode)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	c, err := render.FromHermes(htmlOut, textOut)
	if err != nil {
		return fmt.Errorf("internal: build render cache: %w", err)
	}
	l.cache = c
	return nil
}

// renderHermes renders through hermes, premailer and html2text: the slow path.
func (s *set) renderHermes(l *locale, greeting, expiry, code string) (htmlOut, textOut string, err error) {
	dir := hermes.TDLeftToRight
	if l.rtl {
		dir = hermes.TDRightToLeft
	}
	// A fresh Hermes per call: GenerateHTML merges defaults into its
	// receiver, so sharing one between goroutines would race.
	h := hermes.Hermes{
		Theme:         l.theme,
		TextDirection: dir,
		Product: hermes.Product{
			Name: s.product,
			Link: s.link,
			Logo: s.logo,
			// The copyright is usually a Latin phrase ("© Globex
			// Corporation"): in a right-to-left email the bidi algorithm
			// would put the leading "©" after the name. An isolate lets the
			// phrase take its own direction, as it does for the name.
			Copyright: render.IsolateName(s.copyright, l.rtl),
		},
	}
	e := hermes.Email{Body: hermes.Body{
		Title:     greeting,
		Intros:    []string{l.intro},
		Actions:   []hermes.Action{{Instructions: l.instructions, InviteCode: code}},
		Outros:    []string{expiry, l.notRequested},
		Signature: l.signature,
	}}
	h2 := h
	if htmlOut, err = h.GenerateHTML(e); err != nil {
		return "", "", err
	}
	if textOut, err = h2.GeneratePlainText(e); err != nil {
		return "", "", err
	}
	return htmlOut, textOut, nil
}

// renderUncached is renderHermes with the title's plain-text frame as
// wide as the title on screen (render.Reframe), the output Render's cache
// reproduces.
func (s *set) renderUncached(l *locale, greeting, expiry, code string) (htmlOut, textOut string, err error) {
	htmlOut, textOut, err = s.renderHermes(l, greeting, expiry, code)
	if err != nil {
		return "", "", err
	}
	if textOut, err = render.Reframe(textOut, greeting); err != nil {
		return "", "", err
	}
	return htmlOut, textOut, nil
}

// Sets lists the set names, sorted.
func (l *Library) Sets() []string {
	names := make([]string, 0, len(l.sets))
	for name := range l.sets {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Sender returns the From address and name a set's theme names; an empty
// address means the mailer sends from its OTP_FROM_ADDRESS. Deployment
// checks need it without rendering an email.
func (l *Library) Sender(setName string) (address, name string) {
	if s, ok := l.sets[setName]; ok {
		return s.fromAddress, s.fromName
	}
	return "", ""
}

// Locales lists a set's locales as canonical BCP 47 tags, sorted; nil for
// an unknown set.
func (l *Library) Locales(setName string) []string {
	s, ok := l.sets[setName]
	if !ok {
		return nil
	}
	ids := make([]string, len(s.locales))
	for i, loc := range s.locales {
		ids[i] = loc.id
	}
	sort.Strings(ids)
	return ids
}

// DefaultLocale returns a set's default locale, "" for an unknown set.
func (l *Library) DefaultLocale(setName string) string {
	if s, ok := l.sets[setName]; ok {
		return s.locales[0].id
	}
	return ""
}

// Render renders a message from the cache. Same output as RenderUncached,
// byte for byte, at a fraction of the cost, and the same as a
// templates/compiled bundle made from this library by Compile.
func (l *Library) Render(m Message) (Email, error) {
	return l.render(m, true)
}

// RenderUncached renders a message through hermes on every call. It exists
// to check Render against.
func (l *Library) RenderUncached(m Message) (Email, error) {
	return l.render(m, false)
}

func (l *Library) render(m Message, cached bool) (Email, error) {
	if l == nil || l.def == nil {
		return Email{}, fmt.Errorf("templates: render with an unloaded library")
	}
	if err := checkMessage(m); err != nil {
		return Email{}, err
	}
	s, setFallback := l.pickSet(m.Tenant)
	loc, localeFallback := s.pickLocale(m.Locale)

	greeting := loc.greetingNoName
	if name := CleanName(m.Name); name != "" {
		greeting = loc.greeting.fill(phName, isolateName(name, loc.rtl))
	}
	expiry := loc.expiryFor(minutes(m.TTL))

	var htmlOut, textOut string
	if cached {
		htmlOut, textOut = loc.cache.Render(greeting, expiry, m.Code)
	} else {
		var err error
		if htmlOut, textOut, err = s.renderUncached(loc, greeting, expiry, m.Code); err != nil {
			return Email{}, fmt.Errorf("render set %q locale %s: %w", s.name, loc.id, err)
		}
	}
	return Email{
		Subject:        loc.subject,
		HTML:           htmlOut,
		Text:           textOut,
		FromAddress:    s.fromAddress,
		FromName:       s.fromName,
		Set:            s.name,
		Locale:         loc.id,
		SetFallback:    setFallback,
		LocaleFallback: localeFallback,
	}, nil
}

// pickSet looks the tenant up by exact name: a tenant is a key, never a
// path, so nothing in it can reach another directory.
func (l *Library) pickSet(tenant string) (*set, bool) {
	if s, ok := l.sets[tenant]; ok {
		return s, false
	}
	return l.def, tenant != ""
}

// pickLocale matches a requested tag against the set's locales; see
// render.PickLocale.
func (s *set) pickLocale(requested string) (*locale, bool) {
	idx, fallback := render.PickLocale(s.matcher, len(s.locales), requested)
	return s.locales[idx], fallback
}

// expiryFor picks the plural form for the count and fills it in.
func (l *locale) expiryFor(mins int64) string {
	p, ok := l.expiry[render.PluralForm(l.tag, mins)]
	if !ok {
		p = l.expiry[plural.Other]
	}
	return p.fill(phMinutes, render.FormatMinutes(mins))
}

// formsUsed lists the plural categories the locale's language uses for
// counts from 1 to max, with the smallest count of each.
func formsUsed(tag language.Tag, max int) map[plural.Form]int {
	used := map[plural.Form]int{}
	for n := 1; n <= max; n++ {
		f := plural.Cardinal.MatchPlural(tag, n, 0, 0, 0, 0)
		if _, ok := used[f]; !ok {
			used[f] = n
		}
	}
	return used
}

var formNames = render.FormNames

func sortedForms(m map[plural.Form]int) []plural.Form {
	forms := make([]plural.Form, 0, len(m))
	for f := range m {
		forms = append(forms, f)
	}
	slices.Sort(forms)
	return forms
}
