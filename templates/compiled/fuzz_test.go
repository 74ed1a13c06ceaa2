package compiled_test

import (
	"context"
	"html"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
	"github.com/cognito-email-otp/cognito-email-otp/templates/internal/render"
)

// FuzzLocaleMatch: whatever tenant and locale a send request carries, the
// embedded bundle renders, names a set and locale it really has, and flags
// every fallback, because the mailer's metrics and logs rely on those flags.
//
//	go test ./templates/compiled -run '^$' -fuzz '^FuzzLocaleMatch$' -fuzztime 30s
func FuzzLocaleMatch(f *testing.F) {
	b := embedded(f)
	for _, set := range b.Sets() {
		for _, loc := range b.Locales(set) {
			f.Add(set, loc)
		}
	}
	for _, s := range []struct{ tenant, locale string }{
		{"", ""}, {"acme", "de-AT"}, {"acme", "de_AT"}, {"globex", "ar-EG"}, {"default", "ja-JP-u-ca-japanese"},
		{"ACME", "EN"}, {"nope", "xx-garbage"}, {"../default", "en\x00"}, {"default", "zh-Hant-TW"},
		{"default", "zh"}, {"default", "sr-Latn"}, {"default", "und"}, {"default", "root"},
		{"acme", strings.Repeat("a-", 40)}, {"acme", "en-" + strings.Repeat("x", 64)}, {"\u202eacme", "\xff\xfe"},
		{"default", "i-klingon"}, {"default", "en-u-rg-gbzzzz-va-posix"}, {"default", "x-private"},
	} {
		f.Add(s.tenant, s.locale)
	}
	sets := b.Sets()
	defaults := map[string]string{}
	for _, set := range sets {
		e, err := b.Render(context.Background(), request(set, "", "Rosa", "493817", 3*time.Minute))
		if err != nil {
			f.Fatal(err)
		}
		defaults[set] = e.Locale
	}
	f.Fuzz(func(t *testing.T, tenant, locale string) {
		e, err := b.Render(context.Background(), request(tenant, locale, "Rosa", "493817", 3*time.Minute))
		if err != nil {
			t.Fatalf("Render(tenant %q, locale %q): %v", tenant, locale, err)
		}
		if slices.Contains(sets, tenant) {
			if e.Set != tenant || e.SetFallback {
				t.Fatalf("tenant %q: set %q, fallback %v; want the tenant's own set", tenant, e.Set, e.SetFallback)
			}
		} else if e.Set != compiled.DefaultSet || e.SetFallback != (tenant != "") {
			t.Fatalf("unknown tenant %q: set %q, fallback %v; want %q, flagged unless the tenant is empty", tenant, e.Set, e.SetFallback, compiled.DefaultSet)
		}
		locales := b.Locales(e.Set)
		switch {
		case !slices.Contains(locales, e.Locale):
			t.Fatalf("locale %q: rendered %q, which set %q does not have (%v)", locale, e.Locale, e.Set, locales)
		case locale == "" && (e.LocaleFallback || e.Locale != defaults[e.Set]):
			t.Fatalf("no locale: rendered %q, fallback %v; want the set's default %q, unflagged", e.Locale, e.LocaleFallback, defaults[e.Set])
		case slices.Contains(locales, locale) && (e.Locale != locale || e.LocaleFallback):
			t.Fatalf("locale %q is in set %q but rendered %q, fallback %v", locale, e.Set, e.Locale, e.LocaleFallback)
		case e.LocaleFallback && e.Locale != defaults[e.Set]:
			t.Fatalf("locale %q fell back to %q, not the set's default %q", locale, e.Locale, defaults[e.Set])
		case e.Subject == "" || !strings.Contains(e.HTML, "493817") || !strings.Contains(e.Text, "493817"):
			t.Fatalf("locale %q: an email without subject or code", locale)
		}
	})
}

// FuzzRenderSubstitution: a hostile display name, cleaned as the trigger
// cleans it, reaches the HTML only escaped and the text and subject without
// line breaks, and never pushes the code out or the email past Gmail's
// clipping size.
//
//	go test ./templates/compiled -run '^$' -fuzz '^FuzzRenderSubstitution$' -fuzztime 30s
func FuzzRenderSubstitution(f *testing.F) {
	b := embedded(f)
	for i, n := range names {
		f.Add(n.value, "493817", uint16(i))
	}
	for i, s := range []string{
		`"><img src=x onerror=alert(1)>`, `'; DROP TABLE users; --`, "&amp;&lt;", ">&gt;", "<", `"`,
		"Eve\u2028Bcc: x@evil.example", "Eve\u0085Bcc: x", "\u2068\u2069<b>", "{{.Code}}", "{name}",
		strings.Repeat("<&>\"'", 100), strings.Repeat("\r\n", 300), "\uE000C\uE001",
	} {
		f.Add(s, "0123456789", uint16(i*7))
	}
	sets := b.Sets()
	f.Fuzz(func(t *testing.T, rawName, rawCode string, pick uint16) {
		name := contract.CleanName(rawName)
		code := digits(rawCode)
		set := sets[int(pick)%len(sets)]
		locales := b.Locales(set)
		loc := locales[int(pick)/len(sets)%len(locales)]
		ctx := context.Background()
		e, err := b.Render(ctx, request(set, loc, name, code, 3*time.Minute))
		if err != nil {
			t.Fatalf("Render(%q): %v", name, err)
		}
		switch {
		case !strings.Contains(e.HTML, code) || !strings.Contains(e.Text, code):
			t.Fatalf("%s/%s, name %q: the code is missing from the HTML or the text", set, loc, name)
		case strings.ContainsAny(e.Subject, "\r\n") || strings.Contains(e.Text, "\r"):
			t.Fatalf("%s/%s, name %q: a CR or LF in the subject, or a CR in the text", set, loc, name)
		case len(e.HTML) >= 102*1024:
			t.Fatalf("%s/%s, name %q: HTML is %d bytes, Gmail clips at 102 KB", set, loc, name, len(e.HTML))
		}
		if name == "" {
			return
		}
		// Render cleans the name again; only an idempotent CleanName shows
		// the name the trigger cleaned.
		if again := contract.CleanName(name); again != name {
			t.Fatalf("CleanName(%q) = %q, but cleaning that again gives %q", rawName, name, again)
		}
		// The same email with a plain token for a name shows where the name
		// goes: swapping in the escaped name must give the HTML exactly, so
		// the name appears nowhere else and nowhere unescaped. The token
		// shares the name's direction, so both get the same isolates.
		token := "ZQXJ"
		if render.IsolateName(name, false) != name {
			token = "\u05d0ZQXJ"
		}
		tok, err := b.Render(ctx, request(set, loc, token, code, 3*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		escaped := html.EscapeString(name)
		if want := strings.ReplaceAll(tok.HTML, token, escaped); e.HTML != want {
			t.Fatalf("%s/%s, name %q: HTML is not the template with the escaped name in its place", set, loc, name)
		}
		// The literal property, with the template's own markup set aside
		// (a name such as `"` or "<td" is in every email's markup).
		if strings.ContainsAny(name, `<>&"'`) &&
			strings.Contains(strings.ReplaceAll(e.HTML, escaped, "\x00"), name) &&
			!strings.Contains(strings.ReplaceAll(tok.HTML, token, "\x00"), name) {
			t.Fatalf("%s/%s: the raw name %q is in the HTML", set, loc, name)
		}
		// A name adds no line: html2text's final pass may only take lines
		// away, for titles too short to frame.
		if strings.Count(e.Text, "\n") > strings.Count(tok.Text, "\n") {
			t.Fatalf("%s/%s, name %q: the text has more lines than with a plain name", set, loc, name)
		}
		if e.Subject != tok.Subject {
			t.Fatalf("%s/%s, name %q: the name changed the subject", set, loc, name)
		}
	})
}

// digits makes a 6-10 digit code from any string, so every input exercises
// a renderable code instead of being discarded.
func digits(s string) string {
	n := 6 + len(s)%5
	b := make([]byte, n)
	for i := range b {
		var c byte
		if i < len(s) {
			c = s[i]
		}
		b[i] = '0' + c%10
	}
	return string(b)
}
