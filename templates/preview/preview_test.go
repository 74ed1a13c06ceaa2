package preview

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"html/template"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

func TestWrite(t *testing.T) {
	lib := mustLoad(t)
	dir := t.TempDir()
	var progress bytes.Buffer
	pages, err := Write(context.Background(), lib, dir, Options{Progress: &progress, Kinds: contract.Kinds})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, set := range lib.Sets() {
		want += len(lib.Locales(set)) * len(contract.Kinds)
	}
	if len(pages) != want {
		t.Errorf("%d pages, want one per set, locale and kind (%d)", len(pages), want)
	}
	// One line per page, counting: "[  1/119] acme/de" ... "[119/119] globex/ja account_takeover".
	lines := strings.Split(strings.TrimSpace(progress.String()), "\n")
	if len(lines) != len(pages) {
		t.Fatalf("%d progress lines for %d pages:\n%s", len(lines), len(pages), progress.String())
	}
	for i, p := range pages {
		what := p.Set + "/" + p.Locale
		if p.Kind != contract.KindSignInCode {
			what += " " + string(p.Kind)
		}
		if want := fmt.Sprintf("[%*d/%d] %s", len(fmt.Sprint(len(pages))), i+1, len(pages), what); lines[i] != want {
			t.Errorf("progress line %d is %q, want %q", i+1, lines[i], want)
		}
	}
	index, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		for _, f := range []string{p.HTMLFile, p.TextFile} {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
			if err != nil {
				t.Fatal(err)
			}
			want := DefaultCode
			switch p.Kind {
			case contract.KindInvitation:
				want = SampleUsername
			case contract.KindAccountTakeover:
				want = SampleTakeover().IPAddress
			}
			if !strings.Contains(string(b), want) {
				t.Errorf("%s lacks the sample code, username or IP address", f)
			}
		}
		for _, want := range []string{
			`href="` + p.HTMLFile + `"`, `href="` + p.TextFile + `"`,
			`id="set-` + p.Set + `"`,
			`<p class="subject" lang="` + p.Locale + `" dir="` + p.Dir + `">` + template.HTMLEscapeString(p.Subject) + `</p>`,
		} {
			if !strings.Contains(string(index), want) {
				t.Errorf("index.html lacks %s", want)
			}
		}
		if want := map[bool]string{false: "ltr", true: "rtl"}[strings.HasPrefix(p.Locale, "ar")]; p.Dir != want {
			t.Errorf("%s/%s: dir %s, want %s", p.Set, p.Locale, p.Dir, want)
		}
	}
	// The plain-text part of a right-to-left email reads from the right.
	if !strings.Contains(string(index), `<pre lang="ar" dir="rtl">`) || !strings.Contains(string(index), `[dir="rtl"] { text-align: right; }`) {
		t.Error("index.html does not set the Arabic text part right to left")
	}
}

func mustLoad(t *testing.T) *templates.Library {
	t.Helper()
	lib, err := templates.Load(templates.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	return lib
}

// TestFilters selects pages by set and locale.
func TestFilters(t *testing.T) {
	lib := mustLoad(t)
	for _, tc := range []struct {
		name          string
		sets, locales []string
		kinds         []contract.Kind
		want          []string // set/locale, or set/locale kind
		err           string
	}{
		{name: "one kind", sets: []string{"globex"}, locales: []string{"ja"}, kinds: []contract.Kind{contract.KindInvitation}, want: []string{"globex/ja invitation"}},
		{name: "every kind", sets: []string{"acme"}, locales: []string{"de"}, kinds: contract.Kinds,
			want: []string{"acme/de", "acme/de signup_verification", "acme/de invitation", "acme/de attribute_verification", "acme/de password_reset", "acme/de mfa_code", "acme/de account_takeover"}},
		{name: "the sign-in code when no kind is named", sets: []string{"acme"}, locales: []string{"de"}, kinds: []contract.Kind{}, want: []string{"acme/de"}},
		{name: "unknown kind", kinds: []contract.Kind{"newsletter"}, err: "kind newsletter: no such kind; there are signin_code, signup_verification"},
		{name: "one set", sets: []string{"acme"}, want: []string{"acme/de", "acme/en", "acme/fr"}},
		{name: "one locale everywhere", locales: []string{"ar"}, want: []string{"default/ar", "globex/ar"}},
		{name: "a set and a locale", sets: []string{"globex"}, locales: []string{"es"}, want: []string{"globex/es"}},
		{name: "a bare language selects its variants", sets: []string{"default"}, locales: []string{"fr"}, want: []string{"default/fr", "default/fr-CA"}},
		{name: "a regional tag selects itself", locales: []string{"fr-ca"}, want: []string{"default/fr-CA"}},
		{name: "a script", locales: []string{"zh"}, want: []string{"default/zh-Hans"}},
		{name: "several", sets: []string{"acme", "globex"}, locales: []string{"en", "ar"}, want: []string{"acme/en", "globex/ar", "globex/en"}},
		{name: "unknown set", sets: []string{"initech"}, err: "set initech: no such set; there are acme, default, globex"},
		{name: "locale in no chosen set", sets: []string{"acme"}, locales: []string{"ja"}, err: "locale ja: no such locale in acme: de en fr"},
		{name: "one of two locales missing", locales: []string{"de", "sv"}, err: "locale sv: no such locale"},
		{name: "not a tag", locales: []string{"en_US!"}, err: "locale en_US!:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kinds := tc.kinds
			if kinds == nil {
				kinds = []contract.Kind{contract.KindSignInCode}
			}
			picks, err := selectPages(lib, tc.sets, tc.locales, kinds)
			if tc.err != "" {
				if !errors.Is(err, ErrFilter) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want ErrFilter saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range picks {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// createDefaultTTL is the Create trigger's OTP_CODE_TTL default, read from
// the tag that envconfig reads it from.
func createDefaultTTL(t *testing.T) time.Duration {
	t.Helper()
	f, ok := reflect.TypeOf(triggers.CreateConfig{}).FieldByName("CodeTTL")
	if !ok {
		t.Fatal("triggers.CreateConfig has no CodeTTL")
	}
	d, err := time.ParseDuration(f.Tag.Get("default"))
	if err != nil {
		t.Fatalf("CodeTTL's default: %v", err)
	}
	return d
}

func TestDefaultTTLIsTheCreateTriggers(t *testing.T) {
	if want := createDefaultTTL(t); DefaultTTL != want {
		t.Errorf("DefaultTTL is %s, the Create trigger's OTP_CODE_TTL default %s", DefaultTTL, want)
	}
}

// TestExpiryMatchesRealEmail: a preview's expiry sentence is the one a
// real email carries for the same settings. The real email is rendered the
// way the mailer renders a send request from the Create trigger (IssuedAt
// and ExpiresAt OTP_CODE_TTL apart), through templates.ForMailer and
// through the compiled bundle the mailer Lambda reads. The sentence is
// found without knowing any language: it is the paragraph of the text part
// that changes with the lifetime.
func TestExpiryMatchesRealEmail(t *testing.T) {
	lib := mustLoad(t)
	bundle, err := compiled.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	renderers := map[string]mailer.Renderer{"templates.ForMailer": templates.ForMailer(lib), "compiled bundle": bundle}
	issued := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	request := func(p Page, ttl time.Duration) contract.SendRequest {
		return contract.SendRequest{
			V: contract.SendRequestVersion, Kind: contract.KindSignInCode, ID: "preview-test", Tenant: p.Set, Locale: p.Locale,
			To: "someone@example.com", Name: p.Name, Code: DefaultCode,
			IssuedAt: issued, ExpiresAt: issued.Add(ttl),
		}
	}
	for _, tc := range []struct {
		name string
		opt  Options
		ttl  time.Duration // the deployment's OTP_CODE_TTL
	}{
		{"defaults", Options{Kinds: signIn}, createDefaultTTL(t)},
		{"--ttl 5m", Options{TTL: 5 * time.Minute, Kinds: signIn}, 5 * time.Minute},
		{"--ttl 90s", Options{TTL: 90 * time.Second, Kinds: signIn}, 90 * time.Second},
		{"--ttl 1m", Options{TTL: time.Minute, Kinds: signIn}, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pages, err := Write(context.Background(), lib, dir, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pages {
				previewText := readFile(t, dir, p.TextFile)
				previewHTML := readFile(t, dir, p.HTMLFile)
				for rname, r := range renderers {
					real, err := r.Render(context.Background(), request(p, tc.ttl))
					if err != nil {
						t.Fatal(err)
					}
					other, err := r.Render(context.Background(), request(p, tc.ttl+7*time.Minute))
					if err != nil {
						t.Fatal(err)
					}
					sentence := changedParagraph(t, real.Text, other.Text)
					if !strings.Contains(previewText, "\n\n"+sentence+"\n\n") {
						t.Errorf("%s/%s: the preview's text lacks the real email's (%s) expiry sentence %q", p.Set, p.Locale, rname, sentence)
					}
					if !strings.Contains(previewHTML, ">"+html.EscapeString(sentence)+"<") {
						t.Errorf("%s/%s: the preview's HTML lacks the real email's (%s) expiry sentence %q", p.Set, p.Locale, rname, sentence)
					}
					// Beyond the sentence, the whole email is the same.
					if previewText != real.Text+"\n" || previewHTML != real.HTML || p.Subject != real.Subject {
						t.Errorf("%s/%s: the preview differs from the real email (%s)", p.Set, p.Locale, rname)
					}
				}
			}
		})
	}
}

var signIn = []contract.Kind{contract.KindSignInCode}

// TestKindPagesAreRealEmails: every other kind's page is the email the
// mailer sends for the same request, through templates.ForMailer and the
// compiled bundle, and a kind the set borrows says so.
func TestKindPagesAreRealEmails(t *testing.T) {
	lib := mustLoad(t)
	bundle, err := compiled.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pages, err := Write(context.Background(), lib, dir, Options{Kinds: contract.Kinds[1:], Locales: []string{"de", "ar", "ja"}})
	if err != nil {
		t.Fatal(err)
	}
	issued := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	index := readFile(t, dir, "index.html")
	for _, p := range pages {
		m := sampleMessage(pick{set: p.Set, locale: p.Locale, kind: p.Kind}, Options{Code: DefaultCode, TTL: DefaultTTL})
		r := contract.SendRequest{V: contract.SendRequestVersion, Kind: p.Kind, ID: "preview-test", Tenant: p.Set, Locale: p.Locale,
			To: "someone@example.com", Name: m.Name, Code: contract.Code(m.Code), Username: m.Username,
			TemporaryPassword: contract.Secret(m.TemporaryPassword), Takeover: m.Takeover, IssuedAt: issued, ExpiresAt: issued.Add(m.TTL)}
		for rname, rr := range map[string]mailer.Renderer{"templates.ForMailer": templates.ForMailer(lib), "compiled bundle": bundle} {
			real, err := rr.Render(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			if readFile(t, dir, p.TextFile) != real.Text+"\n" || readFile(t, dir, p.HTMLFile) != real.HTML || p.Subject != real.Subject || p.KindFallback != real.KindFallback {
				t.Errorf("%s/%s %s: the preview differs from the real email (%s)", p.Set, p.Locale, p.Kind, rname)
			}
		}
		if want := p.Set + "/" + string(p.Kind) + "/" + p.Locale + ".html"; p.HTMLFile != want {
			t.Errorf("page file %s, want %s", p.HTMLFile, want)
		}
		if borrowed := p.Set != "default" && !(p.Set == "globex" && p.Kind == contract.KindSignUpVerification); borrowed != p.KindFallback {
			t.Errorf("%s/%s %s: kind fallback %v", p.Set, p.Locale, p.Kind, p.KindFallback)
		}
		if !strings.Contains(index, `id="`+p.Set+"-"+string(p.Kind)+"-"+p.Locale+`"`) {
			t.Errorf("index.html has no card for %s/%s %s", p.Set, p.Locale, p.Kind)
		}
	}
	if !strings.Contains(index, "invitation · the default set's wording") {
		t.Error("index.html does not mark the borrowed kinds")
	}
}

// changedParagraph is the one paragraph of a that b does not have.
func changedParagraph(t *testing.T, a, b string) string {
	t.Helper()
	pa, pb := strings.Split(a, "\n\n"), strings.Split(b, "\n\n")
	if len(pa) != len(pb) {
		t.Fatalf("the text has %d paragraphs with one lifetime and %d with another", len(pa), len(pb))
	}
	var changed []string
	for i := range pa {
		if pa[i] != pb[i] {
			changed = append(changed, pa[i])
		}
	}
	if len(changed) != 1 {
		t.Fatalf("%d paragraphs change with the lifetime, want 1 (the expiry sentence): %q", len(changed), changed)
	}
	return changed[0]
}

func readFile(t *testing.T, dir, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLanguageName(t *testing.T) {
	for _, tc := range []struct{ locale, want string }{
		{"de", "German · Deutsch"},
		{"en", "English"},
		{"ar", "Arabic · العربية"},
		{"zh-Hans", "Simplified Chinese · 简体中文"},
	} {
		if got := languageName(tc.locale); got != tc.want {
			t.Errorf("languageName(%s) = %q, want %q", tc.locale, got, tc.want)
		}
	}
}

func TestFormatTTL(t *testing.T) {
	for d, want := range map[time.Duration]string{
		3 * time.Minute: "3m", 90 * time.Second: "1m30s", time.Hour: "1h", 90 * time.Minute: "1h30m", 45 * time.Second: "45s",
	} {
		if got := formatTTL(d); got != want {
			t.Errorf("formatTTL(%s) = %s, want %s", d, got, want)
		}
	}
}

func TestWriteRejectsANegativeLifetime(t *testing.T) {
	if _, err := Write(context.Background(), mustLoad(t), t.TempDir(), Options{TTL: -time.Minute}); err == nil {
		t.Error("a negative lifetime was accepted")
	}
}

// TestScreenshot drives the real browser; it is skipped without one.
func TestScreenshot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	if _, err := os.Stat(DefaultChromium); err != nil {
		t.Skipf("no %s (apt-get install -y chromium)", DefaultChromium)
	}
	lib, err := templates.Load(templates.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	e, err := lib.Render(templates.Message{Tenant: "globex", Locale: "ar", Name: "ليلى", Code: DefaultCode, TTL: DefaultTTL})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	htmlPath, pngPath := filepath.Join(dir, "e.html"), filepath.Join(dir, "e.png")
	if err := os.WriteFile(htmlPath, []byte(e.HTML), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Screenshot(context.Background(), "", htmlPath, pngPath, 600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 600 || cfg.Height < 300 || cfg.Height >= 1400 {
		t.Errorf("screenshot is %dx%d; want 600 wide, cropped below 1400", cfg.Width, cfg.Height)
	}
}
