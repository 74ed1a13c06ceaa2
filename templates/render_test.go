package templates

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

func TestCleanName(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain name is kept", "Zoë Martín", "Zoë Martín"},
		{"CRLF becomes a space", "Eve\r\nBcc: x@example.com", "Eve Bcc: x@example.com"},
		{"whitespace runs collapse and trim", "  Ana \t\n  María  ", "Ana María"},
		{"unicode spaces count as spaces", "\u00a0Ana\u3000María\u2028", "Ana María"},
		{"control characters go", "A\x00n\x1ba\x7f", "Ana"},
		{"bidi overrides and isolates go", "\u202Eevil\u202C\u2066x\u2069", "evilx"},
		{"zero-width space, BOM and tag characters go", "a\u200bb\ufeffc\U000E0041d", "abcd"},
		{"joiners stay inside emoji", "👩🏽‍💻", "👩🏽‍💻"},
		{"ZWNJ stays for Persian", "می\u200cخواهم", "می\u200cخواهم"},
		{"invalid UTF-8 goes", "\xffZo\xc3ë", "Zoë"},
		{"only junk is empty", "\x00 \u202e \t", ""},
		{"CJK is kept", "王芳", "王芳"},
		{"markup is kept (escaping is the renderer's job)", "<b>&</b>", "<b>&</b>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CleanName(tc.in); got != tc.want {
				t.Errorf("CleanName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCleanNameCutsAtRuneBoundary(t *testing.T) {
	for _, tc := range []struct {
		name, in string
	}{
		{"10 KB of ASCII", strings.Repeat("a", 10*1024)},
		{"10 KB of 3-byte runes", strings.Repeat("名", 10*1024/3)},
		{"4-byte emoji", strings.Repeat("😀", 300)},
		{"words", strings.Repeat("ab ", 1000)},
		{"joiner at the cut", strings.Repeat("a", MaxNameRunes-1) + "\u200d" + "b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CleanName(tc.in)
			if n := utf8.RuneCountInString(got); n > MaxNameRunes {
				t.Errorf("%d runes, want at most %d", n, MaxNameRunes)
			}
			if !utf8.ValidString(got) {
				t.Errorf("result is not valid UTF-8")
			}
			if strings.HasSuffix(got, " ") || strings.HasSuffix(got, "\u200d") {
				t.Errorf("result %q ends in a space or joiner", got[len(got)-8:])
			}
		})
	}
}

func TestHostileNamesAreEscaped(t *testing.T) {
	lib := mustLoad(t)
	for _, tc := range []struct {
		name      string
		in        string
		htmlHas   []string
		htmlLacks []string
		textHas   []string
	}{
		{
			name: "script tag", in: "<script>alert(1)</script>",
			htmlHas: []string{"&lt;script&gt;alert(1)&lt;/script&gt;"}, htmlLacks: []string{"<script"},
			textHas: []string{"Hi <script>alert(1)</script>,"},
		},
		{
			name: "quotes, ampersand and plus", in: `a&b "q" 'x' +`,
			htmlHas: []string{`a&amp;b &#34;q&#34; &#39;x&#39; +,`}, htmlLacks: []string{"&#43;"},
			textHas: []string{`Hi a&b "q" 'x' +,`},
		},
		{
			name: "CRLF", in: "Eve\r\nBcc: x@example.com",
			htmlHas: []string{"Hi Eve Bcc: x@example.com,"}, htmlLacks: []string{"Eve\r", "Eve\n", "&#13;"},
			textHas: []string{"Hi Eve Bcc: x@example.com,"},
		},
		{
			name: "RTL override", in: "\u202Eevil",
			htmlHas: []string{"Hi evil,"}, htmlLacks: []string{"\u202E"},
		},
		{
			name: "10 KB name", in: strings.Repeat("<", 10*1024),
			htmlHas: []string{"Hi " + strings.Repeat("&lt;", MaxNameRunes) + ","}, htmlLacks: []string{strings.Repeat("&lt;", MaxNameRunes+1)},
		},
		{
			name: "emoji and CJK", in: "王芳 👩🏽‍💻",
			htmlHas: []string{"Hi 王芳 👩🏽‍💻,"}, textHas: []string{"Hi 王芳 👩🏽‍💻,"},
		},
		{
			name: "Arabic name in an English email is isolated", in: "ليلى 2",
			htmlHas: []string{"Hi \u2068ليلى 2\u2069,"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := lib.Render(Message{Tenant: "default", Locale: "en", Name: tc.in, Code: "123456", TTL: 5 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.htmlHas {
				if !strings.Contains(e.HTML, s) {
					t.Errorf("HTML lacks %q", s)
				}
			}
			for _, s := range tc.htmlLacks {
				if strings.Contains(e.HTML, s) {
					t.Errorf("HTML contains %q", s)
				}
			}
			for _, s := range tc.textHas {
				if !strings.Contains(e.Text, s) {
					t.Errorf("text lacks %q", s)
				}
			}
			if strings.ContainsAny(e.Subject, "\r\n") {
				t.Errorf("subject %q has a line break", e.Subject)
			}
		})
	}
}

func TestGreetingWithoutName(t *testing.T) {
	lib := mustLoad(t)
	for _, tc := range []struct {
		name, locale, in, want string
	}{
		{"empty name in English", "en", "", "<h1 style=\"margin-top:0;color:#2F3133;font-size:19px;font-weight:bold;overflow-wrap:anywhere;word-break:break-word\">Hi,</h1>"},
		{"blank name in German", "de", " \t ", ">Hallo,</h1>"},
		{"junk-only name in Japanese", "ja", "\u202e\x00", ">お客様</h1>"},
		{"a name in Japanese", "ja", "佐藤", ">佐藤 様</h1>"},
		{"a Latin name in Arabic is isolated", "ar", "Zoë", ">مرحبًا \u2068Zoë\u2069،</h1>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := lib.Render(Message{Tenant: "default", Locale: tc.locale, Name: tc.in, Code: "123456", TTL: 5 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(e.HTML, tc.want) {
				t.Errorf("HTML lacks %q", tc.want)
			}
		})
	}
}

func TestLocaleMatching(t *testing.T) {
	lib := mustLoad(t)
	for _, tc := range []struct {
		name, tenant, requested, want string
		fallback                      bool
	}{
		{"exact tag", "default", "fr-CA", "fr-CA", false},
		{"region falls to the language", "default", "fr-BE", "fr", false},
		{"Swiss French is French, not Québec French", "default", "fr-CH", "fr", false},
		{"Canadian English is English", "default", "en-CA", "en", false},
		{"Austrian German is German", "default", "de-AT", "de", false},
		{"underscore separator", "default", "de_AT", "de", false},
		{"case does not matter", "default", "PT-br", "pt-BR", false},
		{"European Portuguese takes pt-BR (the matcher rates it High)", "default", "pt-PT", "pt-BR", false},
		{"zh-CN is Simplified Chinese", "default", "zh-CN", "zh-Hans", false},
		{"Traditional Chinese is not served Simplified", "default", "zh-TW", "en", true},
		{"Egyptian Arabic is Arabic", "default", "ar-EG", "ar", false},
		{"Latin American Spanish", "default", "es-419", "es", false},
		{"unknown language", "default", "sv", "en", true},
		{"well-formed but unknown subtag", "default", "xx", "en", true},
		{"garbage", "default", "garbage!!", "en", true},
		{"partly valid tag keeps its valid part", "default", "de-DE-garbage", "de", false},
		{"very long input", "default", strings.Repeat("de-", 1000), "en", true},
		{"empty asks for the default, no fallback", "default", "", "en", false},
		{"a tenant without the locale uses its own default", "acme", "ja", "en", true},
		{"a tenant's set has its own matches", "globex", "ar-SA", "ar", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := lib.Render(Message{Tenant: tc.tenant, Locale: tc.requested, Code: "1234", TTL: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if e.Locale != tc.want || e.LocaleFallback != tc.fallback {
				t.Errorf("locale %q: got %s (fallback %v), want %s (fallback %v)", tc.requested, e.Locale, e.LocaleFallback, tc.want, tc.fallback)
			}
		})
	}
}

func TestSetChoice(t *testing.T) {
	lib := mustLoad(t)
	for _, tc := range []struct {
		name, tenant, want string
		fallback           bool
		fromAddress        string
		sesTenant          string
	}{
		{"known tenant", "acme", "acme", false, "security@acme.example", ""},
		{"a tenant with its own SES tenant", "globex", "globex", false, "no-reply@globex.example", "globex"},
		{"unknown tenant falls back", "initech", "default", true, "", ""},
		{"a path is not a tenant", "../acme", "default", true, "", ""},
		{"names are exact", "ACME", "default", true, "", ""},
		{"no tenant is not a fallback", "", "default", false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := lib.Render(Message{Tenant: tc.tenant, Locale: "en", Code: "1234", TTL: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if e.Set != tc.want || e.SetFallback != tc.fallback || e.FromAddress != tc.fromAddress {
				t.Errorf("got set %s (fallback %v, from %q), want %s (fallback %v, from %q)", e.Set, e.SetFallback, e.FromAddress, tc.want, tc.fallback, tc.fromAddress)
			}
			if e.SESTenant != tc.sesTenant || lib.SESTenant(e.Set) != tc.sesTenant {
				t.Errorf("SES tenant %q (library says %q), want %q", e.SESTenant, lib.SESTenant(e.Set), tc.sesTenant)
			}
		})
	}
}

func TestExpirySentence(t *testing.T) {
	lib := mustLoad(t)
	for _, tc := range []struct {
		name, tenant, locale string
		ttl                  time.Duration
		want                 string
	}{
		{"English singular", "default", "en", time.Minute, "The code expires in 1 minute."},
		{"English plural", "default", "en", 2 * time.Minute, "The code expires in 2 minutes."},
		{"seconds round up", "default", "en", 30 * time.Second, "The code expires in 1 minute."},
		{"a minute and a second is two", "default", "en", 61 * time.Second, "The code expires in 2 minutes."},
		{"French one covers 1", "default", "fr", time.Minute, "Ce code expire dans 1 minute."},
		{"Japanese has one form", "default", "ja", 3 * time.Minute, "このコードの有効期限は3分です。"},
		{"Arabic one: no numeral", "default", "ar", time.Minute, "تنتهي صلاحية هذا الرمز خلال دقيقة واحدة."},
		{"Arabic two: dual", "default", "ar", 2 * time.Minute, "تنتهي صلاحية هذا الرمز خلال دقيقتين."},
		{"Arabic few: 3-10", "default", "ar", 10 * time.Minute, "تنتهي صلاحية هذا الرمز خلال 10 دقائق."},
		{"Arabic many: 11-99", "default", "ar", 15 * time.Minute, "تنتهي صلاحية هذا الرمز خلال 15 دقيقة."},
		{"Arabic other: 100", "default", "ar", 100 * time.Minute, "تنتهي صلاحية هذا الرمز خلال 100 دقيقة."},
		{"a singular without the number", "acme", "de", time.Minute, "Er gilt für die nächste Minute und nur ein einziges Mal."},
		{"a day", "default", "de", 24 * time.Hour, "Der Code ist 1440 Minuten lang gültig."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := lib.Render(Message{Tenant: tc.tenant, Locale: tc.locale, Code: "1234", TTL: tc.ttl})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(e.Text, tc.want) {
				t.Errorf("text lacks %q:\n%s", tc.want, e.Text)
			}
		})
	}
}

func TestInvalidMessages(t *testing.T) {
	lib := mustLoad(t)
	for _, tc := range []struct {
		name string
		code string
		ttl  time.Duration
	}{
		{"code too short", "123", time.Minute},
		{"code too long", "12345678901", time.Minute},
		{"code with a letter", "12a456", time.Minute},
		{"code with non-ASCII digits", "١٢٣٤٥٦", time.Minute},
		{"code with markup", "<b>1234</b>", time.Minute},
		{"zero lifetime", "123456", 0},
		{"negative lifetime", "123456", -time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, render := range map[string]func(Message) (Email, error){"cached": lib.Render, "uncached": lib.RenderUncached} {
				_, err := render(Message{Tenant: "default", Code: tc.code, TTL: tc.ttl})
				if !errors.Is(err, ErrInvalidMessage) {
					t.Fatalf("%s: error %v, want ErrInvalidMessage", name, err)
				}
				if tc.code != "" && strings.Contains(err.Error(), tc.code) {
					t.Errorf("%s: error %q quotes the code", name, err)
				}
			}
		})
	}
}

func TestRenderOnZeroLibraryDoesNotPanic(t *testing.T) {
	var lib *Library
	if _, err := lib.Render(Message{Code: "1234", TTL: time.Minute}); err == nil {
		t.Error("nil library rendered")
	}
	if _, err := (&Library{}).Render(Message{Code: "1234", TTL: time.Minute}); err == nil {
		t.Error("empty library rendered")
	}
}

// TestConcurrentRender is for go test -race: both paths share the library.
func TestConcurrentRender(t *testing.T) {
	lib := mustLoad(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				m := Message{Tenant: []string{"default", "acme", "globex"}[(i+j)%3], Locale: []string{"en", "ar", "de", "fr-CA"}[j%4], Name: "Zoë", Code: "123456", TTL: time.Duration(j+1) * time.Minute}
				render := lib.Render
				if j%5 == 0 {
					render = lib.RenderUncached
				}
				if _, err := render(m); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestEmailMetadata(t *testing.T) {
	lib := mustLoad(t)
	e, err := lib.Render(Message{Tenant: "acme", Locale: "de-CH", Name: "Jörg", Code: "123456", TTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	want := Email{Subject: "Ihr Acme-Bestätigungscode", FromAddress: "security@acme.example", FromName: "Acme Security", Set: "acme", Locale: "de", Kind: contract.KindSignInCode}
	e.HTML, e.Text = "", ""
	if e != want {
		t.Errorf("got  %+v\nwant %+v", e, want)
	}
}

func TestSetsAndLocales(t *testing.T) {
	lib := mustLoad(t)
	if got, want := strings.Join(lib.Sets(), " "), "acme default globex"; got != want {
		t.Errorf("Sets() = %s, want %s", got, want)
	}
	if got, want := strings.Join(lib.Locales("default"), " "), "ar de en es fr fr-CA it ja pt-BR zh-Hans"; got != want {
		t.Errorf("Locales(default) = %s, want %s", got, want)
	}
	if got := lib.Locales("nope"); got != nil {
		t.Errorf("Locales(nope) = %v, want nil", got)
	}
	if got := lib.DefaultLocale("globex"); got != "en" {
		t.Errorf("DefaultLocale(globex) = %q, want en", got)
	}
}
