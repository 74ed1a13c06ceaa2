package templates

import (
	"flag"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates/internal/render"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current templates")

const goldenDir = "testdata/golden"

// goldenMessage is the message every golden file renders. The apostrophe
// shows the HTML escaping, the diaeresis the UTF-8 handling.
func goldenMessage(set, locale string) Message {
	return Message{Tenant: set, Locale: locale, Name: "Zoë O'Brien", Code: "123456", TTL: 10 * time.Minute}
}

// mustLoad loads the sources, by default the embedded sets: those once
// per test binary (a Library is immutable), since loading renders every
// set x locale x kind through hermes.
func mustLoad(t testing.TB, sources ...Source) *Library {
	t.Helper()
	if len(sources) == 0 {
		lib, err := embeddedLib()
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		return lib
	}
	lib, err := Load(sources...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return lib
}

var embeddedLib = sync.OnceValues(func() (*Library, error) { return Load(Embedded()) })

// smallDefault is the embedded default set with its English locale only:
// enough for the kind fallbacks of a set under test, and quick to load
// and check.
func smallDefault() Source {
	th, _ := fs.ReadFile(embedded, "sets/default/theme.yaml")
	en, _ := fs.ReadFile(embedded, "sets/default/locales/en.yaml")
	return FromFS("small default", fstest.MapFS{"default/theme.yaml": {Data: th}, "default/locales/en.yaml": {Data: en}})
}

// TestGolden pins every set x locale x kind's HTML and text: the sign-in
// code at <set>/<locale>, every other kind at <set>/<kind>/<locale>.
// Refresh with go test ./templates -update, then read the diff.
func TestGolden(t *testing.T) {
	lib := mustLoad(t)
	want := map[string]bool{}
	for _, set := range lib.Sets() {
		for _, loc := range lib.Locales(set) {
			for _, kind := range contract.Kinds {
				t.Run(set+"/"+loc+"/"+string(kind), func(t *testing.T) {
					m := goldenMessage(set, loc)
					if kind != contract.KindSignInCode {
						m = sampleMessage(kind)
						m.Tenant, m.Locale = set, loc
					}
					e, err := lib.Render(m)
					if err != nil {
						t.Fatal(err)
					}
					if e.Set != set || e.Locale != loc || e.SetFallback || e.LocaleFallback || e.Kind != kind {
						t.Fatalf("rendered %s/%s %s (fallbacks %v, %v), want %s/%s %s", e.Set, e.Locale, e.Kind, e.SetFallback, e.LocaleFallback, set, loc, kind)
					}
					dir := filepath.Join(goldenDir, set)
					if kind != contract.KindSignInCode {
						dir = filepath.Join(dir, string(kind))
					}
					for ext, got := range map[string]string{".html": e.HTML, ".txt": e.Text + "\n"} {
						path := filepath.Join(dir, loc+ext)
						want[filepath.ToSlash(path)] = true
						compareGolden(t, path, got)
					}
					checkGoldenContent(t, e, m)
				})
			}
		}
	}

	// A golden file for a locale that no longer exists is stale.
	_ = filepath.WalkDir(goldenDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || want[filepath.ToSlash(path)] {
			return nil
		}
		if *update {
			return os.Remove(path)
		}
		t.Errorf("%s: no set/locale renders it any more; run go test ./templates -update", path)
		return nil
	})
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./templates -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the render (run go test ./templates -update and review the diff):\n%s", path, firstDiff(string(want), got))
	}
}

// firstDiff shows the first differing line, which is enough to find it.
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

// checkGoldenContent asserts what every golden email must show, so that a
// careless -update cannot bless a broken one.
func checkGoldenContent(t *testing.T, e Email, m Message) {
	t.Helper()
	checks := []struct {
		what, body, want string
	}{
		{"localized subject as the HTML title", e.HTML, "<title>" + html.EscapeString(e.Subject) + "</title>"},
		{"lang attribute", e.HTML, `lang="` + e.Locale + `"`},
		{"escaped name in HTML", e.HTML, "O&#39;Brien"},
		{"name in text", e.Text, "O'Brien"},
		{"Outlook block closed in a form Outlook reads", e.HTML, "<!--<![endif]-->"},
	}
	switch e.Kind {
	case contract.KindInvitation:
		checks = append(checks,
			struct{ what, body, want string }{"escaped temporary password in HTML", e.HTML, html.EscapeString(m.TemporaryPassword)},
			struct{ what, body, want string }{"temporary password in text", e.Text, m.TemporaryPassword},
			struct{ what, body, want string }{"username in text", e.Text, m.Username})
	case contract.KindAccountTakeover:
		for _, link := range []contract.Secret{m.Takeover.ThisWasMe, m.Takeover.ThisWasNotMe} {
			checks = append(checks,
				struct{ what, body, want string }{"link in HTML", e.HTML, `href="` + html.EscapeString(link.Reveal()) + `"`},
				struct{ what, body, want string }{"link in text", e.Text, link.Reveal()})
		}
		if strings.Contains(e.HTML, `class="invite-code"`) {
			t.Error("a takeover notice has a code box")
		}
	default:
		checks = append(checks,
			struct{ what, body, want string }{"code in HTML", e.HTML, m.Code},
			struct{ what, body, want string }{"code in text", e.Text, m.Code})
	}
	for _, c := range checks {
		if !strings.Contains(c.body, c.want) {
			t.Errorf("%s: %q not found", c.what, c.want)
		}
	}
	if strings.Contains(e.HTML, "<!--[endif]---->") {
		t.Error("HTML has hermes' mangled Outlook conditional <!--[endif]---->")
	}
	rtl := strings.HasPrefix(e.Locale, "ar")
	if got := strings.Contains(e.HTML, `dir="rtl"`); got != rtl {
		t.Errorf(`dir="rtl" present = %v, want %v`, got, rtl)
	}
	if strings.ContainsAny(e.Subject, "\r\n") {
		t.Errorf("subject %q contains a line break", e.Subject)
	}
	// The root element carries the direction too: webmail drops <body>.
	if root := `lang="` + e.Locale + `" dir="` + map[bool]string{false: "ltr", true: "rtl"}[rtl] + `">`; !strings.Contains(e.HTML, root) {
		t.Errorf("<html> lacks %s", root)
	}
	// The plain-text greeting's frame is as wide as the greeting on
	// screen, whatever the script.
	if lines := strings.SplitN(e.Text, "\n", 4); len(lines) < 4 || lines[0] != lines[2] || strings.Trim(lines[0], "-") != "" ||
		len(lines[0]) != render.TextWidth(lines[1]) {
		t.Errorf("text does not start with the greeting framed by dashes as wide as itself:\n%s", strings.Join(lines[:min(3, len(lines))], "\n"))
	}
}
