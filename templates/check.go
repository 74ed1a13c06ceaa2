package templates

import (
	"fmt"
	"html"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/feature/plural"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates/internal/render"
)

// Limits the checker enforces.
const (
	// MaxHTMLBytes is Gmail's clipping threshold: larger bodies are cut
	// behind a "[Message clipped]" link, which could hide the code.
	MaxHTMLBytes = 102 * 1024
	// MaxSubjectRunes keeps "Subject: ..." on one 78-character header line
	// in most clients' eyes; longer subjects are truncated on phones.
	MaxSubjectRunes = 77
	// checkMaxMinutes is the longest code lifetime the checker expects; the
	// plural categories a locale must cover are those used for 1..this.
	checkMaxMinutes = 24 * 60
)

// SetReport describes one checked set. Locales is empty when the set did
// not load.
type SetReport struct {
	Name    string   `json:"name"`
	Source  string   `json:"source"`
	Locales []string `json:"locales"`
	Loaded  bool     `json:"loaded"`
}

// Report is the outcome of Check.
type Report struct {
	Sets     []SetReport `json:"sets"`
	Problems []Problem   `json:"problems"`
}

// OK reports whether the check found no problems.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Check loads the sources as Load would and then goes further: it renders
// every locale of every set with probe messages (no name, a hostile name,
// a name as long as CleanName allows, every plural category the language
// uses) and reports every problem it finds, not just the first: missing or
// unknown keys, broken placeholders, an invalid theme, a missing plural
// category, a subject over MaxSubjectRunes, HTML over MaxHTMLBytes, a code
// missing from either body, any difference between Render and
// RenderUncached, and white space no typography wants (two spaces in a
// row, a space before a comma or full stop, a plain space where French
// takes a no-break one).
func Check(sources ...Source) Report {
	lib, list, sets := load(sources)
	r := Report{Sets: sets, Problems: list}
	if lib == nil {
		return r
	}
	// Each locale's probes render through hermes: in parallel, the
	// problems kept in set and locale order.
	type job struct {
		s        *set
		loc      *locale
		problems []Problem
	}
	var jobs []*job
	for i, sr := range r.Sets {
		s, ok := lib.sets[sr.Name]
		if !ok {
			continue
		}
		r.Sets[i].Loaded = true
		r.Sets[i].Locales = lib.Locales(sr.Name)
		for _, loc := range s.locales {
			jobs = append(jobs, &job{s: s, loc: loc})
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for _, j := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			j.problems = lib.checkLocale(j.s, j.loc)
		})
	}
	wg.Wait()
	for _, j := range jobs {
		r.Problems = append(r.Problems, j.problems...)
	}
	return r
}

// Probe values. The code uses all ten digits so that a body showing only
// part of it is caught; the long name is the worst case for size (each "&"
// becomes five bytes of HTML). The password and username hold every
// character HTML escapes, and the longest the contract allows.
const probeCode = "9081726354"

var (
	probeHostile  = "<script>alert(1)</script> a&b \"q\" 'x' + \u202Eevil\r\nBcc: x@example.com"
	probeLong     = strings.Repeat("&", MaxNameRunes)
	probeUsername = "r<o>s&a'\"+9"
	probePassword = "<Tmp> &amp; \"'+9x!"
	probeLongPass = strings.Repeat("&<", 128)
	probeLinks    = [2]string{"https://feedback.example/ok?t=a+b&v=1", "https://feedback.example/no?t=a+b&v=0"}
	probeTime     = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
)

// unitMax is the longest lifetime, per unit, the checker expects; the
// plural categories a locale must cover are those its language uses for
// 1..this. Cognito's temporary passwords last at most 365 days.
var unitMax = map[render.Unit]int{render.UnitMinutes: checkMaxMinutes, render.UnitHours: 7 * 24, render.UnitDays: 365}

var unitPer = map[render.Unit]time.Duration{render.UnitMinutes: time.Minute, render.UnitHours: time.Hour, render.UnitDays: 24 * time.Hour}

func (lib *Library) checkLocale(s *set, loc *locale) []Problem {
	var list []Problem
	ps := problems{set: s.name, source: s.source, file: loc.file, list: &list}
	checkTypography(ps, "greeting", loc.greeting.bind(phProduct, s.product).fill(phName, "Alex"), loc.id)
	checkTypography(ps, "greeting_no_name", loc.noName.bind(phProduct, s.product).text(), loc.id)
	checkTypography(ps, "signature", loc.sign.bind(phProduct, s.product).text(), loc.id)
	for _, kind := range contract.Kinds {
		kl := loc.kinds[kind]
		if !kl.fallback {
			lib.checkWording(ps, s, loc, kl)
		}
		if !lib.probe(ps, s, loc, kl) {
			break
		}
	}
	return list
}

// checkWording checks what the locale file says for a kind: the subject's
// length, the typography, and the plural forms of the expiry sentence.
func (lib *Library) checkWording(ps problems, s *set, loc *locale, kl *kindLocale) {
	spec := kindSpecs[kl.kind]
	kt := loc.own[kl.kind]
	if n := utf8.RuneCountInString(kl.subject); n > MaxSubjectRunes {
		ps.add(spec.keyName("subject"), 0, "is %d characters; keep it to %d so it is not cut off", n, MaxSubjectRunes)
	}
	for _, key := range append(slices.Clone(spec.keys), sectionGreetings...) {
		p, ok := kt.phrases[key]
		if !ok {
			continue
		}
		p = p.bind(phProduct, s.product)
		for _, ph := range knownPlaceholders {
			p = p.bind(ph, sampleValues[ph])
		}
		checkTypography(ps, spec.keyName(key), p.text(), loc.id)
	}
	for _, f := range sortedForms(kt.expiry) {
		checkTypography(ps, spec.keyName("expiry."+formNames[f]), kt.expiry[f].bind(phProduct, s.product).fill(string(kt.unit), "5"), loc.id)
	}
	if kt.unit == "" {
		return
	}
	used := formsUsed(loc.tag, unitMax[kt.unit])
	for _, f := range sortedForms(used) {
		if _, ok := kt.expiry[f]; !ok && f != plural.Other {
			ps.add(spec.keyName("expiry"), 0, "has no %q form, which %s uses for a count of %d (and others); %q is used instead",
				formNames[f], loc.id, used[f], "other")
		}
	}
	for f := range kt.expiry {
		if _, ok := used[f]; !ok && f != plural.Other {
			ps.add(spec.keyName("expiry."+formNames[f]), 0, "is never used: %s does not use it for 1..%d %s", loc.id, unitMax[kt.unit], kt.unit)
		}
	}
}

// sampleValues stand in for the per-message values in the typography
// check: "{name}," is fine, "{name} ," is not.
var sampleValues = map[string]string{
	phName: "Alex", phUsername: "alex", phTime: "14:03", phIP: "203.0.113.7", phLocation: "Lyon", phDevice: "Firefox", phButton: "OK",
}

// probe renders a kind's email with probe messages, through hermes and
// from the cache, and reports what is wrong with them. It returns false
// when the locale does not render at all.
func (lib *Library) probe(ps problems, s *set, loc *locale, kl *kindLocale) bool {
	what := ""
	if kl.kind != contract.KindSignInCode {
		what = " the " + string(kl.kind) + " email"
	}
	if kl.fallback {
		what += " (with the default set's wording, from its " + kl.wording.file + ")"
	}
	list := probes(kl)
	if kl.fallback && len(list) > 2 {
		// The wording is checked with the default set; here only that it
		// renders in this set's theme.
		list = []probeMsg{list[0], list[len(list)-1]}
	}
	for _, p := range list {
		m := p.msg
		m.Tenant, m.Locale, m.Kind = s.name, loc.id, kl.kind
		want, err := lib.RenderUncached(m)
		if err != nil {
			ps.at(0, "%s does not render: %v", what, err)
			return false
		}
		if want.Set != s.name || want.Locale != kl.id {
			ps.at(0, "a request for %s/%s%s renders %s/%s", s.name, loc.id, what, want.Set, want.Locale)
			return false
		}
		got, err := lib.Render(m)
		if err != nil {
			ps.at(0, "%s does not render from the cache: %v", what, err)
			return false
		}
		var bad []string
		for _, shown := range p.shows {
			if !strings.Contains(want.HTML, shown.html) {
				bad = append(bad, shown.what+" is missing from the HTML")
			}
			if !strings.Contains(want.Text, shown.text) {
				bad = append(bad, shown.what+" is missing from the text")
			}
		}
		if kl.kind == contract.KindAccountTakeover && strings.Contains(want.HTML, `class="invite-code"`) {
			bad = append(bad, "it has a code box, which a takeover notice must not have")
		}
		if got.HTML != want.HTML || got.Text != want.Text {
			bad = append(bad, "the cached render differs from hermes' render (a bug in package templates; please report it with this locale file)")
		}
		if len(want.HTML) > MaxHTMLBytes {
			bad = append(bad, fmt.Sprintf("the HTML is %d bytes, over Gmail's clipping limit of %d", len(want.HTML), MaxHTMLBytes))
		}
		for _, b := range bad {
			ps.at(0, "rendered%s with %s: %s", what, p.name, b)
		}
		if len(bad) > 0 {
			break
		}
	}
	return true
}

type probeMsg struct {
	name  string
	msg   Message
	shows []shown
}

// shown is something a probe's email must show, as the HTML and the text
// show it.
type shown struct{ what, html, text string }

func show(what, v string) shown { return shown{what, html.EscapeString(v), v} }

// probes are the messages the checker renders a kind's email with: every
// plural category of its expiry sentence, no name, a hostile and a long
// one; for a takeover notice every action, with and without each link and
// detail.
func probes(kl *kindLocale) []probeMsg {
	var out []probeMsg
	unit := kl.w.Unit
	switch kl.kind {
	case contract.KindAccountTakeover:
		full := &contract.Takeover{EventID: "e1", LoginTime: probeTime, IPAddress: "203.0.113.7", City: "Lyon <x>", Country: "France & co", Device: probeHostile,
			ThisWasMe: contract.Secret(probeLinks[0]), ThisWasNotMe: contract.Secret(probeLinks[1])}
		// One action per sentence: BLOCK, an MFA action, NO_ACTION.
		for i, action := range []string{"BLOCK", "MFA_IF_CONFIGURED", "NO_ACTION"} {
			t := *full
			t.Action = action
			name := probeHostile
			if i%2 == 1 {
				name = ""
			}
			out = append(out, probeMsg{"action " + action, Message{Name: name, TTL: time.Hour, Takeover: &t},
				[]shown{show("what happened", kl.w.Happened[render.HappenedIndex(action)]), show("the link", probeLinks[0]), show("the other link", probeLinks[1])}})
		}
		bare := contract.Takeover{EventID: "e1", Action: "BLOCK", LoginTime: probeTime}
		one := bare
		one.ThisWasNotMe = contract.Secret(probeLinks[1])
		bad := bare
		bad.ThisWasMe = "http://feedback.example/ok"
		out = append(out,
			probeMsg{"no details and no links", Message{Name: probeLong, TTL: time.Hour, Takeover: &bare}, []shown{show("what happened", kl.w.Happened[0])}},
			probeMsg{"one link", Message{TTL: time.Hour, Takeover: &one}, []shown{show("the link", probeLinks[1])}},
			probeMsg{"a link that is not https", Message{TTL: time.Hour, Takeover: &bad}, nil},
		)
		return out
	case contract.KindInvitation:
		used := formsUsed(kl.w.Tag, unitMax[unit])
		for _, f := range firstForm(used) {
			out = append(out, probeMsg{fmt.Sprintf("a validity of %d %s", used[f], unit),
				Message{Name: probeHostile, Username: probeUsername, TemporaryPassword: probePassword, TTL: time.Duration(used[f]) * unitPer[unit]},
				[]shown{show("the username", probeUsername), show("the temporary password", probePassword)}})
		}
		return append(out, probeMsg{"the longest temporary password", Message{Name: probeLong, Username: "u", TemporaryPassword: probeLongPass, TTL: 365 * 24 * time.Hour},
			[]shown{show("the temporary password", probeLongPass)}})
	}
	used := formsUsed(kl.w.Tag, unitMax[unit])
	forms := sortedForms(used)
	if kl.kind != contract.KindSignInCode {
		forms = firstForm(used)
	}
	for _, f := range forms {
		out = append(out, probeMsg{fmt.Sprintf("a lifetime of %d %s", used[f], unit),
			Message{Name: probeHostile, Code: probeCode, TTL: time.Duration(used[f]) * unitPer[unit]}, []shown{show("the code", probeCode)}})
	}
	return append(out,
		probeMsg{"a lifetime of 5 minutes", Message{Code: probeCode, TTL: 5 * time.Minute}, []shown{show("the code", probeCode)}},
		probeMsg{fmt.Sprintf("a lifetime of %d %s", unitMax[unit], unit), Message{Name: probeLong, Code: probeCode, TTL: time.Duration(unitMax[unit]) * unitPer[unit]}, []shown{show("the code", probeCode)}})
}

// closingMarks are punctuation marks that follow a word without a space in
// every language the sets speak, French's high marks excepted (below):
// Latin, fullwidth CJK and Arabic forms.
const closingMarks = ",.;:!?、。，．；：！？،؛؟"

// frenchSpacedMarks take a no-break space before them in French (France
// and, for the colon, Québec): a plain space there lets a line break
// before the mark.
const frenchSpacedMarks = ";:!?"

// checkTypography reports white space that no language's typography wants,
// things a reader notices and a translator's tool often leaves: two spaces
// in a row, and a space before a closing punctuation mark; in French a
// plain space where the no-break space belongs. Wording itself (register,
// promises the deployment cannot keep) is for a person to read; see the
// sets' comments and docs/rendering.md.
func checkTypography(ps problems, key, v, id string) {
	french := id == "fr" || strings.HasPrefix(id, "fr-")
	if strings.Contains(v, "  ") {
		ps.add(key, 0, "has two spaces in a row")
		return
	}
	prev := rune(0)
	for _, r := range v {
		if strings.ContainsRune(closingMarks, r) && isSpaceBefore(prev) {
			switch {
			case !french || !strings.ContainsRune(frenchSpacedMarks, r):
				ps.add(key, 0, "has a space before %q", string(r))
				return
			case prev == ' ':
				ps.add(key, 0, "has a plain space before %q; French takes a no-break space there (\\u00A0), so that no line breaks before it", string(r))
				return
			}
		}
		prev = r
	}
}

// isSpaceBefore reports a rune that puts space between a word and the mark
// after it: any white space, the no-break spaces included.
func isSpaceBefore(r rune) bool { return unicode.IsSpace(r) || r == '\u202F' }

// firstForm is the first plural category only. The sign-in code's email
// is rendered with every category; the other kinds' share its body but
// for the wording, whose every form the typography check has read, so one
// render with a hostile name and one with the longest name and count say
// as much, at a seventh of the cost.
func firstForm(used map[plural.Form]int) []plural.Form { return sortedForms(used)[:1] }

func sortedForms[V any](m map[plural.Form]V) []plural.Form {
	forms := make([]plural.Form, 0, len(m))
	for f := range m {
		forms = append(forms, f)
	}
	slices.Sort(forms)
	return forms
}
