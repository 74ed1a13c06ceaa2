package templates

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const validTheme = `product: Acme
link: https://acme.example
`

const validLocale = `subject: "Your {product} code"
greeting: "Hi {name},"
greeting_no_name: "Hi,"
intro: "Sign-in requested."
instructions: "Enter this code:"
expiry:
  one: "It expires in {minutes} minute."
  other: "It expires in {minutes} minutes."
not_requested: "Not you? Change your password."
signature: "Thanks,"
`

// acmeFS is a valid one-set source named "acme", with edits applied: a
// path mapped to "" is removed, anything else replaces the file.
func acmeFS(edits map[string]string) fstest.MapFS {
	files := map[string]string{
		"acme/theme.yaml":      validTheme,
		"acme/locales/en.yaml": validLocale,
		"acme/locales/de.yaml": strings.Replace(validLocale, "Hi {name},", "Hallo {name},", 1),
	}
	for k, v := range edits {
		if v == "" {
			delete(files, k)
		} else {
			files[k] = v
		}
	}
	fsys := fstest.MapFS{}
	for k, v := range files {
		fsys[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return fsys
}

func withoutLine(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edits map[string]string
		want  string // the whole first problem, as Error() prints it
	}{
		{
			name:  "missing key names the file and the key",
			edits: map[string]string{"acme/locales/de.yaml": withoutLine(validLocale, "intro:")},
			want:  `load template set "acme": locales/de.yaml: missing key "intro"`,
		},
		{
			name:  "unknown key",
			edits: map[string]string{"acme/locales/en.yaml": validLocale + "outro: \"Bye\"\n"},
			want:  `load template set "acme": locales/en.yaml:11: key "outro": unknown key (check the spelling; see docs/rendering.md for the keys)`,
		},
		{
			name:  "misspelled placeholder",
			edits: map[string]string{"acme/locales/en.yaml": strings.Replace(validLocale, "{name}", "{nmae}", 1)},
			want:  `load template set "acme": locales/en.yaml:2: key "greeting": unknown placeholder "{nmae}" (known: {name}, {minutes}, {product})`,
		},
		{
			name:  "unclosed brace",
			edits: map[string]string{"acme/locales/en.yaml": strings.Replace(validLocale, "Enter this code:", "Enter {this code:", 1)},
			want:  `load template set "acme": locales/en.yaml:5: key "instructions": unclosed "{" (write "{{" for a literal brace)`,
		},
		{
			name:  "placeholder not allowed for the key",
			edits: map[string]string{"acme/locales/en.yaml": strings.Replace(validLocale, `"Your {product} code"`, `"Your code, {name}"`, 1)},
			want:  `load template set "acme": locales/en.yaml:1: key "subject": placeholder {name} is not allowed here (allowed: {product})`,
		},
		{
			name:  "greeting without the name",
			edits: map[string]string{"acme/locales/en.yaml": strings.Replace(validLocale, "Hi {name},", "Hi there,", 1)},
			want:  `load template set "acme": locales/en.yaml:2: key "greeting": must contain {name}`,
		},
		{
			name:  "expiry without other",
			edits: map[string]string{"acme/locales/en.yaml": withoutLine(validLocale, "  other:")},
			want:  `load template set "acme": locales/en.yaml:7: key "expiry": missing plural category "other"; it is used for every count no other category covers`,
		},
		{
			name:  "other without the minutes",
			edits: map[string]string{"acme/locales/en.yaml": strings.Replace(validLocale, "It expires in {minutes} minutes.", "It expires soon.", 1)},
			want:  `load template set "acme": locales/en.yaml:8: key "expiry.other": must contain {minutes}`,
		},
		{
			name:  "unknown plural category",
			edits: map[string]string{"acme/locales/en.yaml": strings.Replace(validLocale, "  one:", "  single:", 1)},
			want:  `load template set "acme": locales/en.yaml:7: key "expiry.single": not a plural category; use zero, one, two, few, many or other`,
		},
		{
			name:  "multi-line subject",
			edits: map[string]string{"acme/locales/en.yaml": strings.Replace(validLocale, `subject: "Your {product} code"`, "subject: |\n  Your code\n  Bcc: x@example.com", 1)},
			want:  `load template set "acme": locales/en.yaml:1: key "subject": contains a line break; write one line (a folded scalar, >-, is fine)`,
		},
		{
			name:  "empty value",
			edits: map[string]string{"acme/locales/en.yaml": strings.Replace(validLocale, `signature: "Thanks,"`, `signature: ""`, 1)},
			want:  `load template set "acme": locales/en.yaml:10: key "signature": is empty`,
		},
		{
			name:  "a list where a string belongs",
			edits: map[string]string{"acme/locales/en.yaml": strings.Replace(validLocale, `signature: "Thanks,"`, "signature: [a, b]", 1)},
			want:  `load template set "acme": locales/en.yaml:10: key "signature": must be a string, not a list or a mapping`,
		},
		{
			name:  "duplicate key",
			edits: map[string]string{"acme/locales/en.yaml": validLocale + "intro: \"Again.\"\n"},
			want:  `load template set "acme": locales/en.yaml:11: mapping key "intro" already defined at line 4`,
		},
		{
			name:  "invalid YAML",
			edits: map[string]string{"acme/locales/en.yaml": "subject: \"unterminated\n"},
			want:  `load template set "acme": locales/en.yaml:2: invalid YAML: found unexpected end of stream`,
		},
		{
			name:  "empty file",
			edits: map[string]string{"acme/locales/en.yaml": "# nothing yet\n"},
			want:  `load template set "acme": locales/en.yaml: file is empty`,
		},
		{
			name:  "private-use character",
			edits: map[string]string{"acme/locales/en.yaml": strings.Replace(validLocale, "Thanks,", "Thanks\uE000", 1)},
			want:  `load template set "acme": locales/en.yaml:10: key "signature": contains the private-use character U+E000`,
		},
		{
			name:  "locale file name with underscore",
			edits: map[string]string{"acme/locales/pt_BR.yaml": validLocale},
			want:  `load template set "acme": locales/pt_BR.yaml: file name must be the canonical tag: rename to pt-BR.yaml`,
		},
		{
			name:  "locale file name not canonical",
			edits: map[string]string{"acme/locales/zh-hans.yaml": validLocale},
			want:  `load template set "acme": locales/zh-hans.yaml: file name must be the canonical tag: rename to zh-Hans.yaml`,
		},
		{
			name:  "wrong extension",
			edits: map[string]string{"acme/locales/fr.yml": validLocale},
			want:  `load template set "acme": locales/fr.yml: unexpected entry; locale files are named <BCP 47 tag>.yaml`,
		},
		{
			name:  "no file for the default locale",
			edits: map[string]string{"acme/locales/en.yaml": ""},
			want:  `load template set "acme": theme.yaml: key "default_locale": the default locale "en" has no file locales/en.yaml (set default_locale in theme.yaml, or add the file)`,
		},
		{
			name:  "missing theme",
			edits: map[string]string{"acme/theme.yaml": ""},
			want:  `load template set "acme": theme.yaml: missing file`,
		},
		{
			name:  "theme without product",
			edits: map[string]string{"acme/theme.yaml": "link: https://acme.example\n"},
			want:  `load template set "acme": theme.yaml: missing key "product"`,
		},
		{
			name:  "http link",
			edits: map[string]string{"acme/theme.yaml": "product: Acme\nlink: http://acme.example\n"},
			want:  `load template set "acme": theme.yaml:2: key "link": must be an https:// URL with a host (mail clients block or warn about anything else)`,
		},
		{
			name:  "unknown hermes theme",
			edits: map[string]string{"acme/theme.yaml": validTheme + "theme: fancy\n"},
			want:  `load template set "acme": theme.yaml:3: key "theme": must be default or flat, not "fancy"`,
		},
		{
			name:  "colour that could smuggle CSS",
			edits: map[string]string{"acme/theme.yaml": validTheme + "colors:\n  accent: \"red;}body{display:none\"\n"},
			want:  `load template set "acme": theme.yaml:4: key "colors.accent": must be #rgb or #rrggbb, not "red;}body{display:none"`,
		},
		{
			name:  "unknown colour key",
			edits: map[string]string{"acme/theme.yaml": validTheme + "colors:\n  accnet: \"#fff\"\n"},
			want:  `load template set "acme": theme.yaml:4: key "colors.accnet": unknown key (check the spelling; see docs/rendering.md for the keys)`,
		},
		{
			name:  "from address with a display name",
			edits: map[string]string{"acme/theme.yaml": validTheme + "from_address: \"Acme <a@acme.example>\"\n"},
			want:  `load template set "acme": theme.yaml:3: key "from_address": give the bare address (a@acme.example); the name goes in from_name`,
		},
		{
			name:  "stray file in the set",
			edits: map[string]string{"acme/logo.png": "png"},
			want:  `load template set "acme": logo.png: unexpected entry; a set holds theme.yaml and locales/<tag>.yaml only`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(smallDefault(), FromFS("test", acmeFS(tc.edits)))
			if err == nil {
				t.Fatal("Load succeeded")
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not a *LoadError", err)
			}
			got, _, _ := strings.Cut(err.Error(), " (and ")
			if got != tc.want {
				t.Errorf("error:\n got  %s\n want %s", got, tc.want)
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load(smallDefault(), FromFS("test", acmeFS(map[string]string{
		"acme/locales/de.yaml": withoutLine(withoutLine(validLocale, "intro:"), "signature:"),
		"acme/theme.yaml":      validTheme + "theme: fancy\n",
	})))
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error %v is not a *LoadError", err)
	}
	var got []string
	for _, p := range le.Problems {
		got = append(got, p.String())
	}
	want := []string{
		`set "acme": theme.yaml:3: key "theme": must be default or flat, not "fancy"`,
		`set "acme": locales/de.yaml: missing key "intro"`,
		`set "acme": locales/de.yaml: missing key "signature"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.HasSuffix(err.Error(), "(and 2 more; run `otpctl templates check` to list them)") {
		t.Errorf("error %q does not count the rest", err)
	}
}

func TestLoadSourceErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sources []Source
		want    string
	}{
		{"no sources", nil, "load templates: templates: no sources given"},
		{"missing directory", []Source{Embedded(), Dir("testdata/does-not-exist")}, "load templates: dir testdata/does-not-exist: open: stat testdata/does-not-exist: no such file or directory"},
		{"no default set", []Source{FromFS("test", acmeFS(nil))}, `load templates: templates: no "default" set in any source; it serves unknown tenants`},
		{"bad set name", []Source{Embedded(), FromFS("test", fstest.MapFS{"ac me/theme.yaml": {Data: []byte(validTheme)}})}, "load templates: test: ac me: set names are 1..63 characters of A-Z a-z 0-9 _ -"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.sources...)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error:\n got  %v\n want %s", err, tc.want)
			}
		})
	}
}

// TestDirOverridesEmbeddedSetByName: a directory's "acme" replaces the
// embedded "acme" as a whole; the other embedded sets stay.
func TestDirOverridesEmbeddedSetByName(t *testing.T) {
	dir := t.TempDir()
	for path, content := range map[string]string{
		"acme/theme.yaml":      "product: Acme Override\nlink: https://override.example\nfrom_address: otp@override.example\n",
		"acme/locales/en.yaml": validLocale,
		"README.md":            "notes for operators are ignored",
	} {
		p := filepath.Join(dir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lib := mustLoad(t, Embedded(), Dir(dir))

	e, err := lib.Render(Message{Tenant: "acme", Locale: "de", Name: "Jörg", Code: "123456", TTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if e.Subject != "Your Acme Override code" || e.FromAddress != "otp@override.example" {
		t.Errorf("acme was not overridden: subject %q, from %q", e.Subject, e.FromAddress)
	}
	if e.Locale != "en" || !e.LocaleFallback {
		t.Errorf("locale %s (fallback %v): the override has no German, and must not borrow the embedded one", e.Locale, e.LocaleFallback)
	}
	// Sender agrees with what Render puts in the email, without rendering.
	for _, tc := range []struct{ set, address string }{{"acme", "otp@override.example"}, {"globex", "no-reply@globex.example"}, {"default", ""}, {"nope", ""}} {
		if got, _ := lib.Sender(tc.set); got != tc.address {
			t.Errorf("Sender(%s) = %q, want %q", tc.set, got, tc.address)
		}
	}
	if got := strings.Join(lib.Locales("acme"), " "); got != "en" {
		t.Errorf("Locales(acme) = %s, want en only", got)
	}
	if got := strings.Join(lib.Sets(), " "); got != "acme default globex" {
		t.Errorf("Sets() = %s, want the embedded ones still there", got)
	}
	if e, _ := lib.Render(Message{Tenant: "globex", Locale: "ar", Code: "1234", TTL: time.Minute}); e.Set != "globex" || e.Locale != "ar" {
		t.Errorf("globex/ar rendered as %s/%s", e.Set, e.Locale)
	}
}

func TestParsePhrase(t *testing.T) {
	for _, tc := range []struct {
		name, in, filled, err string
	}{
		{"literal braces", "a {{b}} c", "a {b} c", ""},
		{"placeholder", "Hi {name}!", "Hi Zoë!", ""},
		{"placeholder at both ends", "{name}{name}", "ZoëZoë", ""},
		{"unknown", "{nom}", "", `unknown placeholder "{nom}" (known: {name}, {minutes}, {hours}, {days}, {username}, {time}, {ip}, {location}, {device}, {button}, {product})`},
		{"empty", "{}", "", `unknown placeholder "{}" (known: {name}, {minutes}, {hours}, {days}, {username}, {time}, {ip}, {location}, {device}, {button}, {product})`},
		{"spaces inside", "{ name }", "", `unknown placeholder "{ name }" (known: {name}, {minutes}, {hours}, {days}, {username}, {time}, {ip}, {location}, {device}, {button}, {product})`},
		{"stray closing", "a } b", "", `stray "}" (write "}}" for a literal brace)`},
		{"unclosed", "a {name", "", `unclosed "{" (write "{{" for a literal brace)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parsePhrase(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.fill(phName, "Zoë"); got != tc.filled {
				t.Errorf("fill = %q, want %q", got, tc.filled)
			}
		})
	}
}

// TestUnknownPlaceholderListsTheScope: a typo is answered with the
// placeholders of its part of the file, not every one there is.
func TestUnknownPlaceholderListsTheScope(t *testing.T) {
	for key, want := range map[string]string{
		"greeting":                "{name}, {minutes}, {product}",
		"invitation.username":     "{name}, {days}, {username}, {product}",
		"mfa_code.intro":          "{name}, {minutes}, {hours}, {product}",
		"account_takeover.device": "{name}, {time}, {ip}, {location}, {device}, {button}, {product}",
	} {
		if got := braceList(scopePlaceholders(key)); got != want {
			t.Errorf("%s: %s, want %s", key, got, want)
		}
	}
}
