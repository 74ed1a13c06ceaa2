package templates

import (
	"errors"
	"fmt"
	"html"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

var sampleLoginTime = time.Date(2026, 3, 14, 15, 9, 0, 0, time.UTC)

// sampleMessage is a valid message of a kind, every optional part there.
func sampleMessage(kind contract.Kind) Message {
	m := Message{Kind: kind, Name: "Zoë O'Brien", TTL: 10 * time.Minute}
	switch kind {
	case contract.KindInvitation:
		m.Username, m.TemporaryPassword, m.TTL = "zoe.obrien", `Tmp-9xQ!<w"v2&#'+`, 7*24*time.Hour
	case contract.KindAccountTakeover:
		m.Takeover = &contract.Takeover{EventID: "ev1", Action: "BLOCK", LoginTime: sampleLoginTime,
			IPAddress: "203.0.113.7", City: "Lyon", Country: "France", Device: "Firefox on Windows <10>",
			ThisWasMe: "https://example.com/feedback?t=ok&v=1", ThisWasNotMe: "https://example.com/feedback?t=no+1&v=0"}
	default:
		m.Code = "123456"
	}
	return m
}

// takeoverVariants are a takeover notice with every action, and with
// each detail and link there or not (a link that is not https counts as
// not there).
func takeoverVariants() []struct {
	name string
	t    *contract.Takeover
} {
	var out []struct {
		name string
		t    *contract.Takeover
	}
	full := sampleMessage(contract.KindAccountTakeover).Takeover
	for _, action := range contract.TakeoverActions {
		t := *full
		t.Action = action
		out = append(out, struct {
			name string
			t    *contract.Takeover
		}{"action " + action, &t})
	}
	for mask := range 64 {
		t := *full
		t.Action = "NO_ACTION"
		if mask&1 == 0 {
			t.IPAddress = ""
		}
		if mask&2 == 0 {
			t.City = ""
		}
		if mask&4 == 0 {
			t.Country = ""
		}
		if mask&8 == 0 {
			t.Device = " \u200b\t" // cleans to nothing
		}
		if mask&16 == 0 {
			t.ThisWasMe = ""
		}
		if mask&32 == 0 {
			t.ThisWasNotMe = "http://example.com/plain-http"
		}
		out = append(out, struct {
			name string
			t    *contract.Takeover
		}{fmt.Sprintf("details and links %06b", mask), &t})
	}
	return out
}

var hostilePasswords = []string{">x",
	`<script>alert(1)</script>`, `a&b "q" 'x' +`, "&amp;&lt;&#43;", "--><!--", "-->", "!>x", "p@ss w0rd", "Zoë€😀", strings.Repeat("&<", 128), "\uE000C\uE001",
}

var hostileUsernames = []string{"<b>rosa</b>", "a&b\"'+", "ليلى_2", "王芳", "-->", "\uE000U\uE001"}

// TestKindsCachedMatchesUncached renders every set x locale x kind from
// the cache and through hermes, with hostile names, usernames and
// temporary passwords, and the takeover notice in every shape.
func TestKindsCachedMatchesUncached(t *testing.T) {
	lib := mustLoad(t)
	for _, set := range lib.Sets() {
		for _, loc := range lib.Locales(set) {
			t.Run(set+"/"+loc, func(t *testing.T) {
				for _, kind := range contract.Kinds[1:] {
					for _, n := range hostileNames[:6] {
						m := sampleMessage(kind)
						m.Tenant, m.Locale, m.Name = set, loc, n.value
						t.Run(string(kind)+"/name "+n.name, func(t *testing.T) { assertSame(t, lib, m) })
					}
				}
				for i, pw := range hostilePasswords {
					m := sampleMessage(contract.KindInvitation)
					m.Tenant, m.Locale, m.TemporaryPassword = set, loc, pw
					m.Username = hostileUsernames[i%len(hostileUsernames)]
					m.TTL = time.Duration(i+1) * 24 * time.Hour
					t.Run(fmt.Sprintf("invitation/password %d", i), func(t *testing.T) { assertSame(t, lib, m) })
				}
				variants := takeoverVariants()
				if set != "default" || loc != "en" && loc != "ar" {
					variants = variants[:len(contract.TakeoverActions)+4]
				}
				for _, v := range variants {
					m := sampleMessage(contract.KindAccountTakeover)
					m.Tenant, m.Locale, m.Takeover = set, loc, v.t
					t.Run("account_takeover/"+v.name, func(t *testing.T) { assertSame(t, lib, m) })
				}
			})
		}
	}
}

func TestKindFallback(t *testing.T) {
	lib := mustLoad(t)
	for _, tc := range []struct {
		name, tenant, locale string
		kind                 contract.Kind
		wantLocale           string
		wantKindFallback     bool
		textHas              []string
	}{
		{"acme has no invitation: the default set's German in Acme's theme", "acme", "de-AT", contract.KindInvitation, "de", true,
			[]string{"Hallo Zoë O'Brien,", "ein Administrator hat ein Acme-Konto für Sie eingerichtet.", "Viele Grüße\nAcme - https://acme.example", "© Acme Corporation"}},
		{"acme speaks no Japanese, so its invitation is in its default locale", "acme", "ja", contract.KindInvitation, "en", true,
			[]string{"Hello Zoë O'Brien,", "An administrator has created your Acme account.", "Stay safe,"}},
		{"globex has its own sign-up email", "globex", "es", contract.KindSignUpVerification, "es", false,
			[]string{"Te damos la bienvenida a Globex, Zoë O'Brien", "Escribe este código en la pantalla de registro: 123456"}},
		{"globex borrows the password reset", "globex", "ar", contract.KindPasswordReset, "ar", true,
			[]string{"تلقّينا طلبًا لإعادة تعيين كلمة المرور لحسابك في Globex.", "نراك قريبًا،"}},
		{"the default set is never a kind fallback", "default", "fr-CA", contract.KindMFACode, "fr-CA", false,
			[]string{"Votre code de vérification\u00a0: 123456"}},
		{"an unknown tenant gets the default set's own email", "initech", "it", contract.KindAccountTakeover, "it", false,
			[]string{"Abbiamo bloccato un tentativo sospetto di accesso al tuo account Example."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := sampleMessage(tc.kind)
			m.Tenant, m.Locale = tc.tenant, tc.locale
			e, err := lib.Render(m)
			if err != nil {
				t.Fatal(err)
			}
			if e.Locale != tc.wantLocale || e.KindFallback != tc.wantKindFallback || e.Kind != tc.kind {
				t.Errorf("locale %s, kind %s, kind fallback %v; want %s, %s, %v", e.Locale, e.Kind, e.KindFallback, tc.wantLocale, tc.kind, tc.wantKindFallback)
			}
			for _, s := range tc.textHas {
				if !strings.Contains(e.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, e.Text)
				}
			}
			if want, _ := lib.Sender(e.Set); e.FromAddress != want {
				t.Errorf("from %q, want the set's %q", e.FromAddress, want)
			}
		})
	}
	// The tenant's colours, not the default set's.
	m := sampleMessage(contract.KindInvitation)
	m.Tenant, m.Locale = "acme", "fr"
	e, err := lib.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.HTML, "#C2410C") || !strings.Contains(e.HTML, `lang="fr"`) {
		t.Error("acme's invitation does not have Acme's background colour and the French lang attribute")
	}
}

// TestKindFallbackWithoutTheLanguage: a set speaking a language the
// default set does not borrows the default set's default locale, greeting
// and all, and says so.
func TestKindFallbackWithoutTheLanguage(t *testing.T) {
	lib := mustLoad(t, Embedded(), FromFS("dir", fstest.MapFS{
		"nordic/theme.yaml": {Data: []byte("product: Nordic\nlink: https://nordic.example\ndefault_locale: nl\n")},
		"nordic/locales/nl.yaml": {Data: []byte(`subject: "Uw code"
greeting: "Hallo {name},"
greeting_no_name: "Hallo,"
intro: "Meld u aan bij {product}."
instructions: "Voer deze code in:"
expiry: {one: "De code verloopt over {minutes} minuut.", other: "De code verloopt over {minutes} minuten."}
not_requested: "Was u dit niet? Wijzig dan uw wachtwoord."
signature: "Groeten,"
`)},
	}))
	m := sampleMessage(contract.KindPasswordReset)
	m.Tenant, m.Locale = "nordic", "nl"
	e, err := lib.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	if e.Locale != "en" || !e.LocaleFallback || !e.KindFallback || !strings.Contains(e.Text, "Hi Zoë O'Brien,") || e.Subject != "Reset your Nordic password" {
		t.Errorf("got locale %s (fallback %v, kind fallback %v), subject %q:\n%s", e.Locale, e.LocaleFallback, e.KindFallback, e.Subject, e.Text)
	}
	m.Kind, m.Code = contract.KindSignInCode, "123456"
	if e, err := lib.Render(m); err != nil || e.Locale != "nl" || e.LocaleFallback {
		t.Errorf("the sign-in code: locale %s (fallback %v), %v; want nl", e.Locale, e.LocaleFallback, err)
	}
}

func TestInvitation(t *testing.T) {
	lib := mustLoad(t)
	for _, tc := range []struct{ name, pw string }{
		{"symbols", `Tmp-9xQ!<w"v2&#'+`},
		{"an inner space", "correct horse"},
		{"markup", "<b>&amp;</b>"},
		{"non-ASCII", "Zoë€😀"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := sampleMessage(contract.KindInvitation)
			m.Tenant, m.Locale, m.TemporaryPassword = "default", "en", tc.pw
			e, err := lib.Render(m)
			if err != nil {
				t.Fatal(err)
			}
			if box := `<span class="invite-code" `; !strings.Contains(e.HTML, box) {
				t.Fatalf("no code box")
			}
			if !strings.Contains(e.HTML, ">"+html.EscapeString(tc.pw)+"</span>") {
				t.Errorf("the box does not show %q escaped", tc.pw)
			}
			if !strings.Contains(e.Text, "Your temporary password: "+tc.pw+"\n") {
				t.Errorf("the text does not show %q:\n%s", tc.pw, e.Text)
			}
			if !strings.Contains(e.Text, "Your username: zoe.obrien") || !strings.Contains(e.Text, "valid for 7 days") {
				t.Errorf("the text lacks the username or the validity:\n%s", e.Text)
			}
			if strings.Contains(e.Subject, tc.pw) {
				t.Error("the password is in the subject")
			}
		})
	}
	// In a right-to-left email the password still reads left to right,
	// in both copies of its box, without invisible marks to copy along.
	m := sampleMessage(contract.KindInvitation)
	m.Tenant, m.Locale = "globex", "ar"
	e, err := lib.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(e.HTML, "direction:ltr;unicode-bidi:embed"); n != 2 {
		t.Errorf("%d password boxes set left to right, want 2 (the box and Outlook's copy)", n)
	}
	if strings.ContainsAny(e.HTML, "\u2066\u2067\u2068\u2069\u200e") && strings.Contains(e.HTML, "\u2066"+html.EscapeString(m.TemporaryPassword)) {
		t.Error("the password is wrapped in bidi marks")
	}
	for _, tc := range []struct {
		ttl  time.Duration
		want string
	}{{24 * time.Hour, "valid for 1 day."}, {36 * time.Hour, "valid for 2 days."}, {time.Minute, "valid for 1 day."}} {
		m := sampleMessage(contract.KindInvitation)
		m.Tenant, m.TTL = "default", tc.ttl
		if e, err := lib.Render(m); err != nil || !strings.Contains(e.Text, tc.want) {
			t.Errorf("validity %s: %v; text lacks %q", tc.ttl, err, tc.want)
		}
	}
}

func TestTakeover(t *testing.T) {
	lib := mustLoad(t)
	for _, tc := range []struct {
		name, locale, action string
		edit                 func(*contract.Takeover)
		has, lacks           []string
	}{
		{"blocked", "en", "BLOCK", nil, []string{"We blocked an attempt", "When: March 14, 2026, 3:09 PM UTC", "Where: Lyon, France", "Device: Firefox on Windows <10>"}, []string{"invite-code"}},
		{"challenged", "en", "MFA_REQUIRED", nil, []string{"we asked for an extra verification step"}, nil},
		{"challenged if configured", "en", "MFA_IF_CONFIGURED", nil, []string{"we asked for an extra verification step"}, nil},
		{"allowed", "en", "NO_ACTION", nil, []string{"We let it through"}, nil},
		{"German time", "de", "BLOCK", nil, []string{"Zeitpunkt: 14. März 2026 um 15:09 UTC"}, nil},
		{"details left out", "en", "BLOCK", func(t *contract.Takeover) { t.IPAddress, t.City, t.Device = "", "", "" },
			[]string{"Where: France"}, []string{"IP address:", "Device:"}},
		{"a link that is not https is left out", "en", "BLOCK", func(t *contract.Takeover) { t.ThisWasMe = "javascript:alert(1)" },
			[]string{"This wasn’t me", "https://example.com/feedback?t=no+1&v=0"}, []string{"This was me", "javascript"}},
		{"no links, no buttons", "en", "BLOCK", func(t *contract.Takeover) { t.ThisWasMe, t.ThisWasNotMe = "", "https://exa mple.com/" },
			[]string{"change your password now"}, []string{"class=\"button\"", "feedback", "exa mple"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := sampleMessage(contract.KindAccountTakeover)
			m.Tenant, m.Locale = "default", tc.locale
			m.Takeover.Action = tc.action
			if tc.edit != nil {
				tc.edit(m.Takeover)
			}
			e, err := lib.Render(m)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.has {
				if !strings.Contains(e.Text, s) && !strings.Contains(e.HTML, s) {
					t.Errorf("lacks %q:\n%s", s, e.Text)
				}
			}
			for _, s := range tc.lacks {
				if strings.Contains(e.Text, s) || strings.Contains(e.HTML, s) {
					t.Errorf("has %q", s)
				}
			}
		})
	}
}

func TestKindMessagesRejected(t *testing.T) {
	lib := mustLoad(t)
	for _, tc := range []struct {
		name string
		kind contract.Kind
		edit func(*Message)
	}{
		{"an unknown kind", "carrier_pigeon", nil},
		{"a code in an invitation", contract.KindInvitation, func(m *Message) { m.Code = "123456" }},
		{"an invitation without a password", contract.KindInvitation, func(m *Message) { m.TemporaryPassword = "" }},
		{"a doubled space in the password", contract.KindInvitation, func(m *Message) { m.TemporaryPassword = "Secret  Pass1" }},
		{"a leading space in the password", contract.KindInvitation, func(m *Message) { m.TemporaryPassword = " SecretPass1" }},
		{"a tab in the password", contract.KindInvitation, func(m *Message) { m.TemporaryPassword = "Secret\tPass1" }},
		{"a zero-width space in the password", contract.KindInvitation, func(m *Message) { m.TemporaryPassword = "Secret\u200bPass1" }},
		{"a space in the username", contract.KindInvitation, func(m *Message) { m.Username = "rosa diaz" }},
		{"a password in a sign-up email", contract.KindSignUpVerification, func(m *Message) { m.TemporaryPassword = "SecretPass1" }},
		{"a code in a takeover notice", contract.KindAccountTakeover, func(m *Message) { m.Code = "123456" }},
		{"a takeover notice without details", contract.KindAccountTakeover, func(m *Message) { m.Takeover = nil }},
		{"an unknown takeover action", contract.KindAccountTakeover, func(m *Message) { m.Takeover.Action = "SHRUG" }},
		{"takeover details in a reset email", contract.KindPasswordReset, func(m *Message) { m.Takeover = &contract.Takeover{} }},
		{"a password reset without a code", contract.KindPasswordReset, func(m *Message) { m.Code = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := sampleMessage(tc.kind)
			if tc.kind == "carrier_pigeon" {
				m = sampleMessage(contract.KindSignInCode)
				m.Kind = tc.kind
			}
			if tc.edit != nil {
				tc.edit(&m)
			}
			for name, render := range map[string]func(Message) (Email, error){"cached": lib.Render, "uncached": lib.RenderUncached} {
				_, err := render(m)
				if !errors.Is(err, ErrInvalidMessage) {
					t.Fatalf("%s: error %v, want ErrInvalidMessage", name, err)
				}
				if m.TemporaryPassword != "" && strings.Contains(err.Error(), m.TemporaryPassword) {
					t.Errorf("%s: the error quotes the password", name)
				}
			}
		})
	}
}

// FuzzKindCachedMatchesUncached: whatever an invitation's username and
// temporary password, and whatever a takeover notice's details and links,
// the cache and hermes agree (both render the same bytes, or both refuse).
//
//	go test ./templates -run '^$' -fuzz FuzzKindCachedMatchesUncached -fuzztime 2m
func FuzzKindCachedMatchesUncached(f *testing.F) {
	lib := mustLoad(f)
	for i, pw := range hostilePasswords {
		f.Add(uint8(i), hostileUsernames[i%len(hostileUsernames)], pw, "Lyon <x>", "Firefox & co", "https://example.com/a?b=c&d=e+f")
	}
	f.Add(uint8(200), "rosa", "-->", "", "\u202e", "javascript:alert(1)")
	f.Fuzz(func(t *testing.T, pick uint8, username, password, city, device, link string) {
		sets := lib.Sets()
		set := sets[int(pick)%len(sets)]
		locs := lib.Locales(set)
		loc := locs[int(pick/3)%len(locs)]
		inv := sampleMessage(contract.KindInvitation)
		inv.Tenant, inv.Locale, inv.Username, inv.TemporaryPassword = set, loc, username, password
		assertSame(t, lib, inv)
		to := sampleMessage(contract.KindAccountTakeover)
		to.Tenant, to.Locale = set, loc
		to.Takeover.Action = contract.TakeoverActions[int(pick)%len(contract.TakeoverActions)]
		to.Takeover.City, to.Takeover.Device, to.Takeover.ThisWasMe = city, device, contract.Secret(link)
		if pick%2 == 0 {
			to.Takeover.ThisWasNotMe = ""
		}
		assertSame(t, lib, to)
	})
}
