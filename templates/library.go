package templates

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/matcornic/hermes/v2"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
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
	var lib *Library
	var list []Problem
	if len(sources) == 1 && isEmbedded(sources[0]) {
		lib, list = loadEmbedded()
	} else {
		lib, list, _ = load(sources)
	}
	if len(list) > 0 {
		return nil, &LoadError{Problems: list}
	}
	return lib, nil
}

// loadEmbedded is Load(Embedded()), once per process: the embedded sets
// are compiled into the binary, so every load of them alone gives the same
// Library, which nothing changes after load. otp-local loads them on every
// start, otpctl doctor and templates on every run, and in tests, under the
// race detector, a load costs seconds.
var loadEmbedded = sync.OnceValues(func() (*Library, []Problem) {
	lib, list, _ := load([]Source{Embedded()})
	return lib, list
})

func isEmbedded(src Source) bool {
	s, ok := src.(fsSource)
	return ok && s.embedded
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
	parsed := map[string]*set{}
	for _, name := range names {
		w := found[name]
		reports = append(reports, SetReport{Name: name, Source: w.source})
		s, setProblems := parseSet(name, w.source, w.fsys)
		list = append(list, setProblems...)
		if len(setProblems) == 0 {
			parsed[name] = s
		}
	}
	// Every (set, locale) renders each kind through hermes once, a few
	// milliseconds apiece: in parallel. None needs another prepared first;
	// a kind fallback reads only the default set's parsed wording.
	def := parsed[DefaultSet]
	type job struct {
		s   *set
		l   *locale
		err error
	}
	var jobs []*job
	for _, name := range names {
		if s, ok := parsed[name]; ok {
			for _, l := range s.locales {
				jobs = append(jobs, &job{s: s, l: l})
			}
		}
	}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			j.err = j.s.prepare(j.l, def)
		})
	}
	wg.Wait()
	failed := map[*set]bool{}
	for _, j := range jobs {
		if j.err == nil || failed[j.s] {
			continue
		}
		failed[j.s] = true
		// Without a default set, the problem listed below says it all.
		if def != nil || !errors.Is(j.err, errNoDefault) {
			list = append(list, Problem{Set: j.s.name, Source: j.s.source, File: j.l.file, Message: j.err.Error()})
		}
	}
	for _, name := range names {
		if s, ok := parsed[name]; ok && !failed[s] {
			lib.sets[name] = s
		}
	}
	lib.def = lib.sets[DefaultSet]
	if _, ok := found[DefaultSet]; !ok {
		list = append(list, Problem{Source: "templates", Message: fmt.Sprintf("no %q set in any source; it serves unknown tenants", DefaultSet)})
	}
	return lib, list, reports
}

// prepare makes every kind's email of a locale: the wording, the theme,
// and the bodies rendered once for the cache. def is the default set,
// whose wording a set without a kind's section borrows.
func (s *set) prepare(l *locale, def *set) error {
	l.kinds = make(map[contract.Kind]*kindLocale, len(contract.Kinds))
	for _, kind := range contract.Kinds {
		kl, err := s.kindLocale(l, kind, def)
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		if err := s.prepareKind(kl); err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		l.kinds[kind] = kl
	}
	return nil
}

var errNoDefault = errors.New("no wording, and no default set to borrow it from")

// kindLocale puts together a kind's wording for a locale of s. Without a
// section of its own, the locale takes the default set's wording for its
// language, and keeps its own greeting, signature and direction; when the
// default set does not speak the language, the default set's default
// locale stands in, greeting and all.
func (s *set) kindLocale(l *locale, kind contract.Kind, def *set) (*kindLocale, error) {
	kl := &kindLocale{kind: kind, wording: l, id: l.id, rtl: l.rtl}
	from := l // greeting and signature
	kt := l.own[kind]
	if kt == nil {
		if def == nil || def == s {
			return nil, errNoDefault
		}
		dl, fallback := def.pickLocale(l.id)
		kt = dl.own[kind]
		if kt == nil {
			return nil, fmt.Errorf("no wording, and the default set's %s has none either", dl.file)
		}
		kl.fallback, kl.wording = true, dl
		if fallback {
			kl.localeFallback, from, kl.id, kl.rtl = true, dl, dl.id, dl.rtl
		}
	}
	greeting, noName := from.greeting, from.noName
	if p, ok := kt.phrases["greeting"]; ok {
		greeting = p
	}
	if p, ok := kt.phrases["greeting_no_name"]; ok {
		noName = p
	}
	bind := func(p phrase) phrase { return p.bind(phProduct, s.product) }
	kl.subject = bind(kt.phrases["subject"]).text()
	kl.signature = bind(from.sign).text()
	kl.texts = map[string]string{}
	for key, p := range kt.phrases {
		if !slices.Contains(sectionGreetings, key) {
			kl.texts[key] = bind(p).text()
		}
	}
	if p, ok := kt.phrases["button_help"]; ok {
		// hermes puts the button's label in for "{ACTION}".
		kl.texts["button_help"] = bind(p).fill(phButton, "{ACTION}")
	}
	w := render.Wording{Tag: kl.wording.tag, RTL: kl.rtl, GreetingNoName: bind(noName).text(), Unit: kt.unit}
	var err error
	split := func(p phrase, ph string) []string {
		parts, e := splitAt(bind(p), ph)
		if e != nil && err == nil {
			err = e
		}
		return parts
	}
	w.Greeting = split(greeting, phName)
	if kt.unit != "" {
		w.Expiry = make(map[plural.Form][]string, len(kt.expiry))
		for form, p := range kt.expiry {
			w.Expiry[form] = split(p, string(kt.unit))
		}
	}
	switch kind {
	case contract.KindInvitation:
		w.Username = split(kt.phrases["username"], phUsername)
	case contract.KindAccountTakeover:
		for i, key := range takeoverHappened {
			w.Happened[i] = kl.texts[key]
		}
		for i, ph := range []string{phTime, phIP, phLocation, phDevice} {
			w.Details[i] = split(kt.phrases[takeoverDetails[i]], ph)
		}
		w.LinkInstructions = [2]string{kl.texts["confirm_instructions"], kl.texts["report_instructions"]}
		w.LinkLabels = [2]string{kl.texts["confirm_button"], kl.texts["report_button"]}
	}
	if err != nil {
		return nil, err
	}
	kl.w = w
	return kl, nil
}

// markers are the values a body is rendered with for the cache.
func (kl *kindLocale) markers(links bool) *render.Values {
	v := new(render.Values)
	for sl := render.SlotGreeting; sl < render.NSlots; sl++ {
		v[sl] = render.Mark(sl)
	}
	if kl.kind != contract.KindAccountTakeover {
		return v
	}
	for i := range 2 {
		// hermes sizes a button by its label's bytes.
		v[render.SlotLinkLabel0+render.Slot(i)] = render.MarkPadded(render.SlotLinkLabel0+render.Slot(i), len(kl.w.LinkLabels[i]))
		if !links {
			v[render.SlotLink0+render.Slot(i)] = ""
		}
	}
	return v
}

// prepareKind builds the email's theme and renders it once for the cache.
func (s *set) prepareKind(kl *kindLocale) error {
	th, err := buildTheme(s, kl)
	if err != nil {
		return fmt.Errorf("internal: %w", err)
	}
	kl.theme = th
	cut := func(sh render.Shape, v *render.Values) (*render.Body, error) {
		htmlOut, textOut, err := s.renderHermes(kl, v)
		if err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
		c, err := render.FromHermes(sh, htmlOut, textOut)
		if err != nil {
			return nil, fmt.Errorf("internal: build render cache: %w", err)
		}
		return c, nil
	}
	if kl.cache, err = cut(kindSpecs[kl.kind].shape, kl.markers(true)); err != nil {
		return err
	}
	if kl.kind == contract.KindAccountTakeover {
		if kl.noLinks, err = cut(render.ShapeTakeoverNoLinks, kl.markers(false)); err != nil {
			return err
		}
	}
	return nil
}

// renderHermes renders through hermes, premailer and html2text: the slow path.
func (s *set) renderHermes(kl *kindLocale, v *render.Values) (htmlOut, textOut string, err error) {
	dir := hermes.TDLeftToRight
	if kl.rtl {
		dir = hermes.TDRightToLeft
	}
	// A fresh Hermes per call: GenerateHTML merges defaults into its
	// receiver, so sharing one between goroutines would race.
	h := hermes.Hermes{
		Theme:         kl.theme,
		TextDirection: dir,
		Product: hermes.Product{
			Name: s.product,
			Link: s.link,
			Logo: s.logo,
			// The copyright is usually a Latin phrase ("© Globex
			// Corporation"): in a right-to-left email the bidi algorithm
			// would put the leading "©" after the name. An isolate lets the
			// phrase take its own direction, as it does for the name.
			Copyright: render.IsolateName(s.copyright, kl.rtl),
		},
	}
	t := kl.texts
	body := hermes.Body{Title: v[render.SlotGreeting], Signature: kl.signature}
	switch kl.kind {
	case contract.KindInvitation:
		body.Intros = []string{t["intro"], v[render.SlotUsername]}
		body.Actions = []hermes.Action{{Instructions: t["instructions"], InviteCode: v[render.SlotCode]}}
		body.Outros = []string{v[render.SlotExpiry], t["sign_in"]}
	case contract.KindAccountTakeover:
		body.Intros = []string{v[render.SlotHappened]}
		for i := range 4 {
			if d := v[render.SlotDetail0+render.Slot(i)]; d != "" {
				body.Intros = append(body.Intros, d)
			}
		}
		for i := range 2 {
			if link := v[render.SlotLink0+render.Slot(i)]; link != "" {
				body.Actions = append(body.Actions, hermes.Action{
					Instructions: v[render.SlotLinkInstructions0+render.Slot(i)],
					Button:       hermes.Button{Text: v[render.SlotLinkLabel0+render.Slot(i)], Link: link, Color: s.colors.accent},
				})
			}
		}
		body.Outros = []string{t["what_to_do"]}
		h.Product.TroubleText = t["button_help"]
	default:
		body.Intros = []string{t["intro"]}
		body.Actions = []hermes.Action{{Instructions: t["instructions"], InviteCode: v[render.SlotCode]}}
		body.Outros = []string{v[render.SlotExpiry], t["not_requested"]}
	}
	e := hermes.Email{Body: body}
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
func (s *set) renderUncached(kl *kindLocale, v *render.Values) (htmlOut, textOut string, err error) {
	htmlOut, textOut, err = s.renderHermes(kl, v)
	if err != nil {
		return "", "", err
	}
	if textOut, err = render.Reframe(textOut, v[render.SlotGreeting]); err != nil {
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

// SESTenant returns the SES tenant a set's theme names ("" for none or an
// unknown set), for deployment checks.
func (l *Library) SESTenant(setName string) string {
	if s, ok := l.sets[setName]; ok {
		return s.sesTenant
	}
	return ""
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
	kind := render.KindOf(m.Kind)
	rm := m.renderMessage()
	if err := render.Check(kind, rm); err != nil {
		return Email{}, err
	}
	s, setFallback := l.pickSet(m.Tenant)
	loc, localeFallback := s.pickLocale(m.Locale)
	kl := loc.kinds[kind]
	v := kl.w.Values(kind, rm)

	var htmlOut, textOut string
	if cached {
		body := kl.cache
		if kind == contract.KindAccountTakeover && !render.HasLinks(v) {
			body = kl.noLinks
		}
		htmlOut, textOut = body.Render(v)
	} else {
		var err error
		if htmlOut, textOut, err = s.renderUncached(kl, v); err != nil {
			return Email{}, fmt.Errorf("render set %q locale %s %s: %w", s.name, loc.id, kind, err)
		}
	}
	return Email{
		Subject:        kl.subject,
		HTML:           htmlOut,
		Text:           textOut,
		FromAddress:    s.fromAddress,
		FromName:       s.fromName,
		SESTenant:      s.sesTenant,
		Set:            s.name,
		Locale:         kl.id,
		Kind:           kind,
		SetFallback:    setFallback,
		LocaleFallback: localeFallback || kl.localeFallback,
		KindFallback:   kl.fallback,
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
