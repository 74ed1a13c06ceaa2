package templates

import (
	"strings"
	"testing"
)

func TestCheckEmbeddedSetsPass(t *testing.T) {
	r := Check(Embedded())
	for _, p := range r.Problems {
		t.Errorf("problem: %s", p)
	}
	if len(r.Sets) != 3 {
		t.Errorf("checked %d sets, want 3", len(r.Sets))
	}
	for _, s := range r.Sets {
		if !s.Loaded || len(s.Locales) == 0 {
			t.Errorf("set %s: loaded %v with %d locales", s.Name, s.Loaded, len(s.Locales))
		}
	}
}

// TestCheckBrokenSet runs the checker over testdata/broken, which lacks a
// key in one locale and misspells a placeholder in another: both problems,
// not just the first, with set, file and key.
func TestCheckBrokenSet(t *testing.T) {
	r := Check(Embedded(), SetDir("testdata/broken"))
	want := []Problem{
		{Set: "broken", Source: "set dir testdata/broken", File: "locales/de.yaml", Key: "intro", Message: `missing key "intro"`},
		{Set: "broken", Source: "set dir testdata/broken", File: "locales/en.yaml", Key: "greeting", Line: 2, Message: `key "greeting": unknown placeholder "{nmae}" (known: {name}, {minutes}, {hours}, {days}, {username}, {time}, {ip}, {location}, {device}, {button}, {product})`},
	}
	if len(r.Problems) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(r.Problems), len(want), r.Problems)
	}
	for i := range want {
		if r.Problems[i] != want[i] {
			t.Errorf("problem %d:\n got  %+v\n want %+v", i, r.Problems[i], want[i])
		}
	}
	if r.OK() {
		t.Error("OK() is true")
	}
}

// validArabic is validLocale in Arabic, with every plural form Arabic uses.
const validArabic = `subject: "رمز {product}"
greeting: "مرحبًا {name}،"
greeting_no_name: "مرحبًا،"
intro: "طُلب تسجيل الدخول."
instructions: "أدخل هذا الرمز:"
expiry:
  one: "تنتهي صلاحيته خلال دقيقة واحدة."
  two: "تنتهي صلاحيته خلال دقيقتين."
  few: "تنتهي صلاحيته خلال {minutes} دقائق."
  many: "تنتهي صلاحيته خلال {minutes} دقيقة."
  other: "تنتهي صلاحيته خلال {minutes} دقيقة."
not_requested: "ألم تحاول تسجيل الدخول؟ غيّر كلمة المرور."
signature: "شكرًا،"
`

// TestCheckFindsRenderTimeProblems edits a valid set and expects exactly
// the problems listed (none when want is empty).
func TestCheckFindsRenderTimeProblems(t *testing.T) {
	arabicOtherOnly := strings.Replace(validLocale, "expiry:\n  one: \"It expires in {minutes} minute.\"\n  other:", "expiry:\n  other:", 1)
	for _, tc := range []struct {
		name  string
		edits map[string]string
		want  []string
	}{
		{
			name:  "missing plural categories the language uses",
			edits: map[string]string{"acme/locales/ar.yaml": arabicOtherOnly},
			want: []string{
				`set "acme": locales/ar.yaml: key "expiry": has no "one" form, which ar uses for a count of 1 (and others); "other" is used instead`,
				`set "acme": locales/ar.yaml: key "expiry": has no "two" form, which ar uses for a count of 2 (and others); "other" is used instead`,
				`set "acme": locales/ar.yaml: key "expiry": has no "few" form, which ar uses for a count of 3 (and others); "other" is used instead`,
				`set "acme": locales/ar.yaml: key "expiry": has no "many" form, which ar uses for a count of 11 (and others); "other" is used instead`,
			},
		},
		{
			name:  "a plural category the language never uses",
			edits: map[string]string{"acme/locales/en.yaml": strings.Replace(validLocale, "expiry:\n", "expiry:\n  few: \"It expires in a few minutes.\"\n", 1)},
			want:  []string{`set "acme": locales/en.yaml: key "expiry.few": is never used: en does not use it for 1..1440 minutes`},
		},
		{
			name:  "long subject",
			edits: map[string]string{"acme/locales/en.yaml": strings.Replace(validLocale, "Your {product} code", "Your {product} code "+strings.Repeat("x", 70), 1)},
			want:  []string{`set "acme": locales/en.yaml: key "subject": is 85 characters; keep it to 77 so it is not cut off`},
		},
		{
			name:  "two spaces in a row",
			edits: map[string]string{"acme/locales/en.yaml": strings.Replace(validLocale, "Sign-in requested.", "Sign-in  requested.", 1)},
			want:  []string{`set "acme": locales/en.yaml: key "intro": has two spaces in a row`},
		},
		{
			name:  "a space before a comma after the name",
			edits: map[string]string{"acme/locales/en.yaml": strings.Replace(validLocale, "Hi {name},", "Hi {name} ,", 1)},
			want:  []string{`set "acme": locales/en.yaml: key "greeting": has a space before ","`},
		},
		{
			name:  "a space before an ideographic full stop",
			edits: map[string]string{"acme/locales/ja.yaml": strings.Replace(validLocale, "expiry:\n  one: \"It expires in {minutes} minute.\"\n  other: \"It expires in {minutes} minutes.\"", `expiry: "{minutes}分で失効します 。"`, 1)},
			want:  []string{`set "acme": locales/ja.yaml: key "expiry.other": has a space before "。"`},
		},
		{
			name:  "a space before an Arabic question mark",
			edits: map[string]string{"acme/locales/ar.yaml": strings.Replace(validArabic, "ألم تحاول تسجيل الدخول؟", "ألم تحاول تسجيل الدخول ؟", 1)},
			want:  []string{`set "acme": locales/ar.yaml: key "not_requested": has a space before "؟"`},
		},
		{
			name: "French: a plain space before a colon",
			edits: map[string]string{"acme/locales/fr.yaml": strings.Replace(strings.Replace(validLocale, "Enter this code:", "Saisissez ce code :", 1),
				"Not you? Change your password.", "Ce n’est pas vous\u00A0? Changez de mot de passe.", 1)},
			want: []string{`set "acme": locales/fr.yaml: key "instructions": has a plain space before ":"; French takes a no-break space there (\u00A0)`},
		},
		{
			name:  "French: no space before a question mark is Québec usage",
			edits: map[string]string{"acme/locales/fr-CA.yaml": strings.Replace(validLocale, "Enter this code:", "Entrez ce code\u00A0:", 1)},
		},
		{
			name:  "French: a no-break space before a comma",
			edits: map[string]string{"acme/locales/fr.yaml": strings.Replace(validLocale, "Hi {name},", "Bonjour {name}\u00A0,", 1)},
			want:  []string{`set "acme": locales/fr.yaml: key "greeting": has a space before ","`},
		},
		{
			name:  "HTML over Gmail's clipping limit",
			edits: map[string]string{"acme/locales/en.yaml": strings.Replace(validLocale, "Sign-in requested.", strings.Repeat("Sign-in requested. ", 6000), 1)},
			want:  []string{`set "acme": locales/en.yaml: rendered with a lifetime of 2 minutes: the HTML is 1`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(Embedded(), FromFS("test", acmeFS(tc.edits)))
			var got []string
			for _, p := range r.Problems {
				got = append(got, p.String())
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i := range tc.want {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("problem %d:\n got  %s\n want %s", i, got[i], tc.want[i])
				}
			}
		})
	}
}
