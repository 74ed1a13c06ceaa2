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
		{Set: "broken", Source: "set dir testdata/broken", File: "locales/en.yaml", Key: "greeting", Line: 2, Message: `key "greeting": unknown placeholder "{nmae}" (known: {name}, {minutes}, {product})`},
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
			name:  "HTML over Gmail's clipping limit",
			edits: map[string]string{"acme/locales/en.yaml": strings.Replace(validLocale, "Sign-in requested.", strings.Repeat("Sign-in requested. ", 6000), 1)},
			want:  []string{`set "acme": locales/en.yaml: rendered with a lifetime of 2 min: the HTML is 1`},
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
