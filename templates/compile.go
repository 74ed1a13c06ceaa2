package templates

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"golang.org/x/text/feature/plural"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates/internal/render"
)

// Compile writes the bundle that package templates/compiled renders from
// without hermes: for each named set (every set when none is named), each
// locale's strings and its bodies pre-rendered by Load, cut at markers. The
// output is deterministic, so a committed bundle can be checked for
// staleness by compiling again and comparing bytes.
func Compile(lib *Library, sets ...string) ([]byte, error) {
	if lib == nil || lib.sets == nil {
		return nil, fmt.Errorf("compile templates: library not loaded")
	}
	if len(sets) == 0 {
		sets = lib.Sets()
	} else {
		sets = append([]string(nil), sets...)
		sort.Strings(sets)
	}
	f := render.File{Version: render.Version, Sets: make([]render.SetFile, 0, len(sets))}
	for i, name := range sets {
		if i > 0 && sets[i-1] == name {
			continue
		}
		s, ok := lib.sets[name]
		if !ok {
			return nil, fmt.Errorf("compile templates: no set %q", name)
		}
		sf, err := compileSet(s)
		if err != nil {
			return nil, fmt.Errorf("compile template set %q: %w", name, err)
		}
		f.Sets = append(f.Sets, sf)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// The bodies are HTML; \u003c for every "<" would only bloat the file.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("compile templates: %w", err)
	}
	return buf.Bytes(), nil
}

func compileSet(s *set) (render.SetFile, error) {
	sf := render.SetFile{Name: s.name, FromAddress: s.fromAddress, FromName: s.fromName, SESTenant: s.sesTenant}
	for _, l := range s.locales {
		kl := l.kinds[contract.KindSignInCode]
		lf := render.LocaleFile{
			ID: l.id, RTL: kl.rtl, Subject: kl.subject,
			Greeting: kl.w.Greeting, GreetingNoName: kl.w.GreetingNoName,
			Expiry: formNamed(kl.w.Expiry),
		}
		lf.HTML, lf.Text = kl.cache.Marked()
		for _, kind := range contract.Kinds[1:] {
			kl := l.kinds[kind]
			kf := render.KindFile{
				Kind: string(kind), Fallback: kl.fallback, LocaleFallback: kl.localeFallback, RTL: kl.rtl,
				Subject: kl.subject, Greeting: kl.w.Greeting, GreetingNoName: kl.w.GreetingNoName,
				Unit: string(kl.w.Unit), Expiry: formNamed(kl.w.Expiry), Username: kl.w.Username,
			}
			if kl.fallback {
				kf.Wording = kl.wording.id
			}
			if kind == contract.KindAccountTakeover {
				kf.Happened = kl.w.Happened[:]
				kf.Details = kl.w.Details[:]
				kf.LinkInstructions = kl.w.LinkInstructions[:]
				kf.LinkLabels = kl.w.LinkLabels[:]
				var h string
				h, kf.NoLinksText = kl.noLinks.Marked()
				kf.NoLinksHTML = render.MakeDelta(lf.HTML, h)
			}
			var h string
			h, kf.Text = kl.cache.Marked()
			kf.HTML = render.MakeDelta(lf.HTML, h)
			lf.Kinds = append(lf.Kinds, kf)
		}
		sf.Locales = append(sf.Locales, lf)
	}
	return sf, nil
}

func formNamed(m map[plural.Form][]string) map[string][]string {
	if m == nil {
		return nil
	}
	out := make(map[string][]string, len(m))
	for form, parts := range m {
		out[formNames[form]] = parts
	}
	return out
}

// splitAt turns a phrase whose only placeholder left is ph into the
// literals between its occurrences, the form strings.Join fills.
func splitAt(p phrase, ph string) ([]string, error) {
	parts := []string{""}
	for _, x := range p {
		switch x.ph {
		case "":
			parts[len(parts)-1] += x.lit
		case ph:
			parts = append(parts, "")
		default:
			return nil, fmt.Errorf("internal: placeholder {%s} left unfilled", x.ph)
		}
	}
	return parts, nil
}

// OverridingSets lists, sorted, the sets that did not come from the
// embedded source: what a bundle for OTP_TEMPLATES_DIR carries. The mailer
// has the embedded sets already, and a copy of them in the bundle would
// shadow the newer wording of a later release.
func (l *Library) OverridingSets() []string {
	embedded := Embedded().String()
	var out []string
	for _, name := range l.Sets() {
		if l.Source(name) != embedded {
			out = append(out, name)
		}
	}
	return out
}

// Source names where a set came from ("embedded", "dir /etc/otp"); "" for
// an unknown set.
func (l *Library) Source(setName string) string {
	if s, ok := l.sets[setName]; ok {
		return s.source
	}
	return ""
}
