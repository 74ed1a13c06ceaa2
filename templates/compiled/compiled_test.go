package compiled_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
)

var names = []struct{ name, value string }{
	{"empty", ""},
	{"plain", "Zoë O'Brien"},
	{"script tag", "<script>alert(1)</script>"},
	{"html specials and plus", `a&b "q" 'x' +`},
	{"CRLF", "Eve\r\nBcc: victim@example.com"},
	{"10 KB", strings.Repeat("A", 10*1024)},
	{"10 KB of markup", strings.Repeat("<&>'\"", 2048)},
	{"RTL name", "ليلى 2"},
	{"RTL override", "\u202Eevil\u202C gnp.exe"},
	{"leading dot", ".leading"},
	{"only a dot", "."},
	{"leading space", " leading"},
	{"leading no-break space", "\u00a0leading"},
	{"emoji", "😀 Zoë"},
	{"ZWJ sequence", "👩🏽‍💻 Dev 🏴‍☠️"},
	{"lone joiner", "\u200d"},
	{"CJK", "王芳"},
	{"invalid UTF-8", "\xff\xfeZoë\xc3"},
	{"markers", "\uE000G\uE001\uE000D\uE001\uE000"},
	{"dashes", "-----"},
}

var ttls = []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 3 * time.Minute, 11 * time.Minute, 100 * time.Minute, 24 * time.Hour, 1 << 62}

func request(tenant, locale, name, code string, ttl time.Duration) contract.SendRequest {
	issued := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return contract.SendRequest{
		V: contract.SendRequestVersion, Kind: contract.KindSignInCode, ID: "c1", Tenant: tenant, Locale: locale, To: "user@example.com", Name: name,
		Code: contract.Code(code), IssuedAt: issued, ExpiresAt: issued.Add(ttl),
	}
}

func load(t testing.TB, sources ...templates.Source) *templates.Library {
	t.Helper()
	lib, err := templates.Load(sources...)
	if err != nil {
		t.Fatalf("templates.Load: %v", err)
	}
	return lib
}

func compile(t testing.TB, lib *templates.Library, sets ...string) []byte {
	t.Helper()
	data, err := templates.Compile(lib, sets...)
	if err != nil {
		t.Fatalf("templates.Compile: %v", err)
	}
	return data
}

func embedded(t testing.TB) *compiled.Bundle {
	t.Helper()
	b, err := compiled.Embedded()
	if err != nil {
		t.Fatalf("compiled.Embedded: %v", err)
	}
	return b
}

// same fails the test unless both renderers give the same email or both
// fail.
func same(t *testing.T, want, got mailer.Renderer, r contract.SendRequest) {
	t.Helper()
	ctx := context.Background()
	w, werr := want.Render(ctx, r)
	g, gerr := got.Render(ctx, r)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("templates error %v, compiled error %v", werr, gerr)
	}
	if werr != nil {
		if errors.Is(werr, templates.ErrInvalidMessage) != errors.Is(gerr, compiled.ErrInvalidMessage) {
			t.Fatalf("templates error %v, compiled error %v", werr, gerr)
		}
		return
	}
	if g.HTML != w.HTML {
		t.Errorf("HTML differs:\n%s", firstDiff(w.HTML, g.HTML))
	}
	if g.Text != w.Text {
		t.Errorf("text differs:\n%s", firstDiff(w.Text, g.Text))
	}
	w.HTML, w.Text, g.HTML, g.Text = "", "", "", ""
	// Only the bundle knows its version (TestVersions checks it).
	g.Version = ""
	if g != w {
		t.Errorf("metadata differs:\n got  %+v\n want %+v", g, w)
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return "(same lines, different bytes)"
}

// TestMatchesLibrary is the differential test: every embedded set x locale
// x name x lifetime, and the fallbacks, compiled against templates.Library.
func TestMatchesLibrary(t *testing.T) {
	lib := load(t, templates.Embedded())
	want, got := templates.ForMailer(lib), embedded(t)
	for _, set := range lib.Sets() {
		for _, loc := range lib.Locales(set) {
			t.Run(set+"/"+loc, func(t *testing.T) {
				for _, n := range names {
					t.Run("name "+n.name, func(t *testing.T) {
						same(t, want, got, request(set, loc, n.value, "0123456789", 10*time.Minute))
					})
				}
				for _, ttl := range ttls {
					t.Run("ttl "+ttl.String(), func(t *testing.T) {
						same(t, want, got, request(set, loc, "Zoë", "4321", ttl))
					})
				}
			})
		}
	}
	for _, tc := range []struct{ name, tenant, locale, code string }{
		{"empty tenant and locale", "", "", "123456"},
		{"unknown tenant", "nope", "de", "123456"},
		{"path as tenant", "../acme", "en", "123456"},
		{"regional to plain", "acme", "de-AT", "123456"},
		{"fr-BE to fr, not fr-CA", "default", "fr-BE", "123456"},
		{"zh-CN to zh-Hans", "default", "zh-CN", "123456"},
		{"zh-TW is a low match", "default", "zh-TW", "123456"},
		{"pt-PT to pt-BR", "default", "pt-PT", "123456"},
		{"underscore", "default", "de_AT", "123456"},
		{"garbage locale", "globex", "xx-garbage-!!", "123456"},
		{"over-long locale", "default", strings.Repeat("en-", 30), "123456"},
		{"short code", "default", "en", "123"},
		{"letters in code", "default", "en", "12a456"},
		{"long code", "default", "en", "12345678901"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			same(t, want, got, request(tc.tenant, tc.locale, "Ana", tc.code, 5*time.Minute))
		})
	}
	t.Run("non-positive lifetime", func(t *testing.T) {
		same(t, want, got, request("default", "en", "Ana", "123456", 0))
		same(t, want, got, request("default", "en", "Ana", "123456", -time.Minute))
	})
}

// bareFS is a set whose greeting is the name alone, so that a name such as
// "." becomes a one-rune title: html2text then leaves the frame out and
// folds the blank lines, the shape cache.go used to leave to hermes.
var bareFS = fstest.MapFS{
	"bare/theme.yaml": {Data: []byte("product: Bare\nlink: https://bare.example\n")},
	"bare/locales/en.yaml": {Data: []byte(`subject: "Your code"
greeting: "{name}"
greeting_no_name: "Hello"
intro: "Sign in to {product}."
instructions: "Enter this code:"
expiry: {one: "{minutes} minute.", other: "{minutes} minutes."}
not_requested: "Not you? Ignore this."
signature: "Thanks"
`)},
	"bare/locales/ar.yaml": {Data: []byte(`subject: "رمزك"
greeting: "{name}"
greeting_no_name: "مرحبًا"
intro: "سجّل الدخول إلى {product}."
instructions: "أدخل هذا الرمز:"
expiry: {zero: "{minutes} دقيقة.", one: "دقيقة واحدة.", two: "دقيقتان.", few: "{minutes} دقائق.", many: "{minutes} دقيقة.", other: "{minutes} دقيقة."}
not_requested: "لست أنت؟ تجاهل هذه الرسالة."
signature: "شكرًا"
`)},
}

// TestTitleShapesMatchHermes renders names that make odd titles from a
// bundle and through hermes itself (RenderUncached), with no cache between.
func TestTitleShapesMatchHermes(t *testing.T) {
	lib := load(t, templates.Embedded(), templates.FromFS("test", bareFS))
	b, err := compiled.Parse("test bundle", compile(t, lib))
	if err != nil {
		t.Fatal(err)
	}
	hermes := uncached{lib}
	for _, set := range []string{"bare", "default"} {
		for _, loc := range lib.Locales(set) {
			for _, n := range append(names, []struct{ name, value string }{
				{"dot space", ". x"}, {"two dots", ".."}, {"dot then RTL", ".ليلى"}, {"one letter", "x"}, {"one emoji", "😀"},
			}...) {
				t.Run(set+"/"+loc+"/"+n.name, func(t *testing.T) {
					same(t, hermes, b, request(set, loc, n.value, "0123456789", 10*time.Minute))
				})
			}
		}
	}
}

// uncached renders through hermes on every call.
type uncached struct{ lib *templates.Library }

func (u uncached) Render(_ context.Context, r contract.SendRequest) (mailer.Email, error) {
	e, err := u.lib.RenderUncached(templates.MessageOf(r))
	if err != nil {
		return mailer.Email{}, err
	}
	return e.ForMailer(), nil
}

// TestEmbeddedBundleFresh fails when the YAML sets changed and the bundle
// was not generated again.
func TestEmbeddedBundleFresh(t *testing.T) {
	want := compile(t, load(t, templates.Embedded()))
	got, err := os.ReadFile("embedded.bundle.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("embedded.bundle.json is stale versus templates/sets: run go generate ./templates/... and commit the result\n%s",
			firstDiff(string(want), string(got)))
	}
}

func TestLoadLayersDirOverEmbedded(t *testing.T) {
	acme := fstest.MapFS{}
	for p, f := range bareFS {
		acme["acme/"+strings.TrimPrefix(p, "bare/")] = f
	}
	lib := load(t, templates.Embedded(), templates.FromFS("dir", acme))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, compiled.BundleFile), compile(t, lib, "acme"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := compiled.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(b.Sets(), " "), "acme default globex"; got != want {
		t.Errorf("sets %q, want %q", got, want)
	}
	// The dir's acme replaces the embedded one as a whole: its locales,
	// not a merge.
	if got := strings.Join(b.Locales("acme"), " "); got != "ar en" {
		t.Errorf("acme locales %q, want the dir's (ar en)", got)
	}
	want := templates.ForMailer(lib)
	for _, r := range []contract.SendRequest{
		request("acme", "de", "Jörg", "123456", 5*time.Minute),
		request("acme", "ar", "ليلى", "123456", 2*time.Minute),
		request("default", "de", "Jörg", "123456", 5*time.Minute),
		request("globex", "ar-EG", "Zoë", "123456", 5*time.Minute),
	} {
		t.Run(r.Tenant+"/"+r.Locale, func(t *testing.T) { same(t, want, b, r) })
	}
	if b, err := compiled.Load(""); err != nil || len(b.Sets()) != 3 {
		t.Errorf("Load(\"\") = %v sets, %v; want the 3 embedded sets", b.Sets(), err)
	}
}

func TestBadBundles(t *testing.T) {
	good := string(compile(t, load(t, templates.Embedded()), "acme"))
	for _, tc := range []struct {
		name, data, want string
	}{
		{"not JSON", "theme: flat\n", "not a bundle (JSON)"},
		{"no version", `{"sets":[]}`, "no version field"},
		{"wrong version", strings.Replace(good, `"version": 2`, `"version": 3`, 1), "version 3, this mailer reads versions 1 and 2"},
		{"unknown field", strings.Replace(good, `"version": 2,`, `"version": 2, "extra": true,`, 1), `unknown field "extra"`},
		{"kinds in a version 1 bundle", strings.Replace(good, `"version": 2`, `"version": 1`, 1), "a version 1 bundle has no kinds"},
		{"unknown kind", strings.Replace(good, `"kind": "mfa_code"`, `"kind": "carrier_pigeon"`, 1), `locale "en": carrier_pigeon: not a kind this mailer knows`},
		{"kind twice", strings.Replace(good, `"kind": "mfa_code"`, `"kind": "password_reset"`, 1), `kind password_reset appears twice`},
		{"invitation without its username marker", strings.Replace(good, "\uE000U\uE001", "", 1), `invitation: text username: marker found 0 times`},
		{"takeover without a link marker", strings.Replace(good, "\uE000L1\uE001", "", 1), `account_takeover: HTML marker L1: marker found`},
		{"takeover items out of order", strings.Replace(good, "\uE000T0\uE001", "\uE000T2\uE001", 1), `account_takeover: plain text: a list starts at its item 2`},
		{"fallback without a canonical wording locale", strings.Replace(good, `"wording": "en"`, `"wording": "EN"`, 1), `wording "EN": not a canonical BCP 47 tag`},
		{"a delta reference outside the base", strings.Replace(good, "\uE0020,", "\uE0029999999,", 1), `delta: a reference outside the base`},
		{"unknown unit", strings.Replace(good, `"unit": "days"`, `"unit": "weeks"`, 1), `unit "weeks": want minutes, hours or days`},
		{"no sets", `{"version":1,"sets":[]}`, "holds no sets"},
		{"trailing data", good + "{}", "after top-level value"},
		{"bad set name", strings.Replace(good, `"name": "acme"`, `"name": "../acme"`, 1), `set name "../acme"`},
		{"an SES tenant SES would refuse", strings.Replace(good, `"name": "acme",`, `"name": "acme", "ses_tenant": "acme corp",`, 1), `ses_tenant "acme corp" is not an SES tenant name`},
		{"missing code marker", strings.ReplaceAll(good, "\uE000C\uE001", ""), `set "acme": locale "en": HTML code: marker found 0 times`},
		{"missing text greeting", strings.Replace(good, `\n`+"\uE000G\uE001"+`\n`, `\nHi\n`, 1), `locale "en": text greeting: marker found 0 times`},
		{"unknown marker", strings.Replace(good, "\uE000E\uE001", "\uE000X\uE001", 1), "unknown marker"},
		{"unframed title", strings.Replace(good, "\uE000D\uE001"+`\n`+"\uE000G", "\uE000D\uE001"+`\n\n`+"\uE000G", 1), "not framed"},
		{"not canonical locale", strings.Replace(good, `"id": "de"`, `"id": "DE"`, 1), `locale "DE": not the canonical tag`},
		{"no other form", strings.Replace(good, `"other"`, `"several"`, 1), `expiry has no "other" form`},
		{"line break in subject", strings.Replace(good, `"subject": "Your Acme verification code"`, `"subject": "Your code\r\nBcc: x@example.com"`, 1), "holds a line break"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.data == good {
				t.Fatal("the edit did not apply")
			}
			dir := t.TempDir()
			path := filepath.Join(dir, compiled.BundleFile)
			if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := compiled.Load(dir)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to name %s and say %q", err, path, tc.want)
			}
		})
	}
}

func TestLoadDirWithoutBundle(t *testing.T) {
	yamlDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(yamlDir, "acme", "locales"), 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "nope")
	for _, tc := range []struct{ name, dir, want string }{
		{"YAML sets, no bundle", yamlDir, "holds no " + compiled.BundleFile + " (compile the sets with: otpctl templates compile"},
		{"no such directory", missing, "template directory " + missing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compiled.Load(tc.dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestRenderWithoutDefaultSet(t *testing.T) {
	b, err := compiled.Parse("acme only", compile(t, load(t, templates.Embedded()), "acme"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Render(context.Background(), request("acme", "en", "", "123456", time.Minute)); err == nil {
		t.Error("rendered from a bundle without a default set")
	}
}
