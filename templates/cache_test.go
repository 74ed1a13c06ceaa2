package templates

import (
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates/internal/render"
)

// hostileNames are display names an attacker (or an unlucky user) could
// set. Each must render the same from the cache as through hermes.
var hostileNames = []struct {
	name, value string
}{
	{"empty", ""},
	{"plain", "Ana"},
	{"script tag", "<script>alert(1)</script>"},
	{"html specials and plus", `a&b "q" 'x' +`},
	{"CRLF header injection", "Eve\r\nBcc: victim@example.com"},
	{"RTL override", "\u202Eevil\u202C gnp.exe"},
	{"10 KB of letters", strings.Repeat("A", 10*1024)},
	{"10 KB of markup", strings.Repeat("<&>'\"", 2048)},
	{"emoji with joiners", "👩🏽‍💻 Dev 🇫🇷 🏴‍☠️"},
	{"CJK", "王芳"},
	{"Arabic with digits", "ليلى 2"},
	{"leading dot", ".bob"},
	{"only a dot", "."},
	{"only spaces", "   \t  "},
	{"control characters only", "\x00\x01\x1b[31m"},
	{"invalid UTF-8", "\xff\xfeZoë\xc3"},
	{"entity text", "&amp; &#43; &lt;"},
	{"comment opener", "<!-- x --> ]]>"},
	{"no-break and ideographic spaces", "\u00a0Zoë\u3000Martín\u00a0"},
	{"line separator", "x\u2028y\u2029z"},
	{"placeholder lookalike", "{name} {minutes} {{product}}"},
	{"render cache marker", render.MarkGreeting + render.MarkCode + render.MarkOpen},
	{"dashes", "-----"},
	{"zero-width and tag characters", "a\u200bb\U000E0041c\ufeffd"},
	{"combining marks", "Z\u0301\u0302\u0303oe"},
}

var ttls = []time.Duration{
	30 * time.Second, time.Minute, 61 * time.Second, 2 * time.Minute, 3 * time.Minute,
	11 * time.Minute, 100 * time.Minute, 24 * time.Hour, 1 << 62,
}

func assertSame(t *testing.T, lib *Library, m Message) {
	t.Helper()
	got, gotErr := lib.Render(m)
	want, wantErr := lib.RenderUncached(m)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("Render error %v, RenderUncached error %v", gotErr, wantErr)
	}
	if got.HTML != want.HTML {
		t.Errorf("HTML differs from hermes:\n%s", firstDiff(want.HTML, got.HTML))
	}
	if got.Text != want.Text {
		t.Errorf("text differs from hermes:\n%s", firstDiff(want.Text, got.Text))
	}
	got.HTML, got.Text, want.HTML, want.Text = "", "", "", ""
	if got != want {
		t.Errorf("metadata differs:\n got  %+v\n want %+v", got, want)
	}
}

// TestCachedMatchesUncached renders every set x locale with every hostile
// name, and with every lifetime (every plural category), both ways.
func TestCachedMatchesUncached(t *testing.T) {
	lib := mustLoad(t)
	for _, set := range lib.Sets() {
		for _, loc := range lib.Locales(set) {
			t.Run(set+"/"+loc, func(t *testing.T) {
				for _, n := range hostileNames {
					m := Message{Tenant: set, Locale: loc, Name: n.value, Code: "0123456789", TTL: 10 * time.Minute}
					t.Run("name "+n.name, func(t *testing.T) { assertSame(t, lib, m) })
				}
				for _, ttl := range ttls {
					m := Message{Tenant: set, Locale: loc, Name: "Zoë", Code: "4321", TTL: ttl}
					t.Run("ttl "+ttl.String(), func(t *testing.T) { assertSame(t, lib, m) })
				}
			})
		}
	}
}

// FuzzCachedMatchesUncached: for any message, Render and RenderUncached
// agree (both succeed with the same bytes, or both fail) and neither panics.
//
//	go test ./templates -run '^$' -fuzz FuzzCachedMatchesUncached -fuzztime 2m
func FuzzCachedMatchesUncached(f *testing.F) {
	lib := mustLoad(f)
	for i, n := range hostileNames {
		sets := lib.Sets()
		set := sets[i%len(sets)]
		locs := lib.Locales(set)
		f.Add(set, locs[i%len(locs)], n.value, "123456", int64(10*time.Minute))
	}
	f.Add("acme", "de-AT", "Jörg", "000000", int64(90*time.Second))
	f.Add("nope", "xx-garbage", "\r\n", "12", int64(0))
	f.Add("globex", "ar-EG", "محمد", "9999999999", int64(-1))
	f.Fuzz(func(t *testing.T, tenant, locale, name, code string, ttl int64) {
		assertSame(t, lib, Message{Tenant: tenant, Locale: locale, Name: name, Code: code, TTL: time.Duration(ttl)})
	})
}

// TestCacheTitleShapes drives the cache's text framing with greetings no
// locale file and name can produce today (a lone ".", titles starting with
// a space-like rune, a title that collapses to nothing) and checks each
// against hermes itself. html2text frames these differently: no space
// before the title, a frame one rune shorter, and none at all for a
// one-rune title, which its final pass then folds away.
func TestCacheTitleShapes(t *testing.T) {
	lib := mustLoad(t)
	greetings := []struct{ name, value string }{
		{"dot", "."},
		{"two dots", ".."},
		{"dot word", ".bob"},
		{"dot space word", ". bob"},
		{"no-break space first", "\u00a0Zoë"},
		{"lone no-break space", "\u00a0"},
		{"lone ideographic space", "\u3000"},
		{"ideographic space first", "\u3000王芳"},
		{"line separator first", "\u2028x"},
		{"vertical tab first", "\vx"},
		{"spaces only", "   "},
		{"spaces around a dot", "  .  "},
		{"tab and dot", "\t.x"},
		{"one letter", "x"},
		{"one emoji with joiners", "👩🏽‍💻"},
		{"joiner first", "\u200dx"},
		{"markup after a dot", ".<b>&amp;</b>"},
	}
	for _, name := range lib.Sets() {
		s := lib.sets[name]
		for i, loc := range s.locales {
			// The sign-in code everywhere, and each other kind in turn:
			// the title's frame is the same code for every kind.
			for _, kind := range []contract.Kind{contract.KindSignInCode, contract.Kinds[1+i%(len(contract.Kinds)-1)]} {
				kl := loc.kinds[kind]
				m := sampleMessage(kind)
				for _, g := range greetings {
					t.Run(name+"/"+loc.id+"/"+string(kind)+"/"+g.name, func(t *testing.T) {
						v := kl.w.Values(kind, m.renderMessage())
						v[render.SlotGreeting] = g.value
						wantHTML, wantText, err := s.renderUncached(kl, v)
						if err != nil {
							t.Fatal(err)
						}
						gotHTML, gotText := kl.cache.Render(v)
						if gotHTML != wantHTML {
							t.Errorf("HTML differs from hermes:\n%s", firstDiff(wantHTML, gotHTML))
						}
						if gotText != wantText {
							t.Errorf("text differs from hermes:\n%s", firstDiff(wantText, gotText))
						}
					})
				}
			}
		}
	}
}
