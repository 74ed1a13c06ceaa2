package templates

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/feature/plural"
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
	for i, sr := range r.Sets {
		s, ok := lib.sets[sr.Name]
		if !ok {
			continue
		}
		r.Sets[i].Loaded = true
		r.Sets[i].Locales = lib.Locales(sr.Name)
		for _, loc := range s.locales {
			r.Problems = append(r.Problems, lib.checkLocale(s, loc)...)
		}
	}
	return r
}

// Probe values. The code uses all ten digits so that a body showing only
// part of it is caught; the long name is the worst case for size (each "&"
// becomes five bytes of HTML).
const probeCode = "9081726354"

var (
	probeHostile = "<script>alert(1)</script> a&b \"q\" 'x' + \u202Eevil\r\nBcc: x@example.com"
	probeLong    = strings.Repeat("&", MaxNameRunes)
)

func (lib *Library) checkLocale(s *set, loc *locale) []Problem {
	var list []Problem
	ps := problems{set: s.name, source: s.source, file: loc.file, list: &list}

	if n := utf8.RuneCountInString(loc.subject); n > MaxSubjectRunes {
		ps.add("subject", 0, "is %d characters; keep it to %d so it is not cut off", n, MaxSubjectRunes)
	}

	checkTypography(ps, loc)

	used := formsUsed(loc.tag, checkMaxMinutes)
	for _, f := range sortedForms(used) {
		if _, ok := loc.expiry[f]; !ok && f != plural.Other {
			ps.add("expiry", 0, "has no %q form, which %s uses for a count of %d (and others); %q is used instead",
				formNames[f], loc.id, used[f], "other")
		}
	}
	for f := range loc.expiry {
		if _, ok := used[f]; !ok && f != plural.Other {
			ps.add("expiry."+formNames[f], 0, "is never used: %s does not use it for 1..%d minutes", loc.id, checkMaxMinutes)
		}
	}

	type probe struct {
		name string
		mins int
	}
	var probes []probe
	for _, f := range sortedForms(used) {
		probes = append(probes, probe{probeHostile, used[f]})
	}
	probes = append(probes, probe{"", 5}, probe{probeLong, checkMaxMinutes})

	for _, p := range probes {
		m := Message{Tenant: s.name, Locale: loc.id, Name: p.name, Code: probeCode, TTL: time.Duration(p.mins) * time.Minute}
		want, err := lib.RenderUncached(m)
		if err != nil {
			ps.at(0, "does not render: %v", err)
			return list
		}
		if want.Set != s.name || want.Locale != loc.id {
			ps.at(0, "a request for %s/%s renders %s/%s", s.name, loc.id, want.Set, want.Locale)
			return list
		}
		got, err := lib.Render(m)
		if err != nil {
			ps.at(0, "does not render from the cache: %v", err)
			return list
		}
		var what []string
		if !strings.Contains(want.HTML, probeCode) {
			what = append(what, "the code is missing from the HTML")
		}
		if !strings.Contains(want.Text, probeCode) {
			what = append(what, "the code is missing from the text")
		}
		if got.HTML != want.HTML || got.Text != want.Text {
			what = append(what, "the cached render differs from hermes' render (a bug in package templates; please report it with this locale file)")
		}
		if len(want.HTML) > MaxHTMLBytes {
			what = append(what, fmt.Sprintf("the HTML is %d bytes, over Gmail's clipping limit of %d", len(want.HTML), MaxHTMLBytes))
		}
		for _, w := range what {
			ps.at(0, "rendered with a lifetime of %d min: %s", p.mins, w)
		}
		if len(what) > 0 {
			break
		}
	}
	return list
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
func checkTypography(ps problems, loc *locale) {
	french := loc.id == "fr" || strings.HasPrefix(loc.id, "fr-")
	check := func(key, v string) {
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
	check("subject", loc.subject)
	// The greeting with a name in it: "{name}," is fine, "{name} ," is not.
	check("greeting", loc.greeting.fill(phName, "Alex"))
	check("greeting_no_name", loc.greetingNoName)
	check("intro", loc.intro)
	check("instructions", loc.instructions)
	for _, f := range sortedExpiryForms(loc) {
		check("expiry."+formNames[f], loc.expiry[f].fill(phMinutes, "5"))
	}
	check("not_requested", loc.notRequested)
	check("signature", loc.signature)
}

// isSpaceBefore reports a rune that puts space between a word and the mark
// after it: any white space, the no-break spaces included.
func isSpaceBefore(r rune) bool { return unicode.IsSpace(r) || r == '\u202F' }

func sortedExpiryForms(loc *locale) []plural.Form {
	forms := make([]plural.Form, 0, len(loc.expiry))
	for f := range loc.expiry {
		forms = append(forms, f)
	}
	slices.Sort(forms)
	return forms
}
