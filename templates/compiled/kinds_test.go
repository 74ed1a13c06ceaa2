package compiled_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
)

// kindRequest is a valid send request of a kind.
func kindRequest(tenant, locale string, kind contract.Kind, name string) contract.SendRequest {
	r := request(tenant, locale, name, "482913", 10*time.Minute)
	r.Kind = kind
	switch kind {
	case contract.KindInvitation:
		r.Code, r.Username, r.TemporaryPassword = "", "zoe.obrien", `Tmp-9xQ!<w"v2&#'+ -->`
		r.ExpiresAt = r.IssuedAt.Add(7 * 24 * time.Hour)
	case contract.KindAccountTakeover:
		r.Code = ""
		r.Takeover = &contract.Takeover{EventID: "ev1", Action: "MFA", LoginTime: r.IssuedAt,
			IPAddress: "2001:db8::1", City: "Zürich", Country: "Schweiz", Device: "<Safari> & \"iPhone\"",
			ThisWasMe: "https://feedback.example/ok?t=a+b&v=1", ThisWasNotMe: "https://feedback.example/no?t=a+b&v=0"}
	case contract.KindSignUpVerification, contract.KindAttributeVerification:
		r.ExpiresAt = r.IssuedAt.Add(24 * time.Hour)
	case contract.KindPasswordReset:
		r.ExpiresAt = r.IssuedAt.Add(time.Hour)
	}
	return r
}

// TestKindsMatchLibrary is the differential test for every kind: every
// embedded set x locale x kind, with names, every takeover action, and
// takeover notices missing details and links.
func TestKindsMatchLibrary(t *testing.T) {
	lib := load(t, templates.Embedded())
	want, got := templates.ForMailer(lib), embedded(t)
	for _, set := range lib.Sets() {
		for _, loc := range lib.Locales(set) {
			t.Run(set+"/"+loc, func(t *testing.T) {
				for _, kind := range contract.Kinds {
					for _, n := range names[:9] {
						same(t, want, got, kindRequest(set, loc, kind, n.value))
					}
				}
				for _, action := range contract.TakeoverActions {
					r := kindRequest(set, loc, contract.KindAccountTakeover, "Ana")
					r.Takeover.Action = action
					same(t, want, got, r)
				}
				r := kindRequest(set, loc, contract.KindAccountTakeover, "")
				r.Takeover.IPAddress, r.Takeover.Device, r.Takeover.ThisWasMe = "", "", ""
				same(t, want, got, r)
				r.Takeover.City, r.Takeover.ThisWasNotMe = "", ""
				same(t, want, got, r)
			})
		}
	}
	for _, tc := range []struct{ tenant, locale string }{{"nope", "de"}, {"acme", "ja"}, {"globex", "ar-EG"}, {"", ""}} {
		for _, kind := range contract.Kinds {
			same(t, want, got, kindRequest(tc.tenant, tc.locale, kind, "Ana"))
		}
	}
	// Invalid messages fail both ways.
	r := kindRequest("default", "en", contract.KindInvitation, "Ana")
	r.TemporaryPassword = "two  spaces"
	same(t, want, got, r)
}

// TestVersion1Bundle: a set published before kinds still renders its
// sign-in codes as before, and every other kind from the default set,
// theme and all, flagged as a kind fallback.
func TestVersion1Bundle(t *testing.T) {
	lib := load(t, templates.Embedded())
	var f map[string]any
	if err := json.Unmarshal(compile(t, lib, "acme"), &f); err != nil {
		t.Fatal(err)
	}
	f["version"] = 1
	for _, s := range f["sets"].([]any) {
		for _, l := range s.(map[string]any)["locales"].([]any) {
			delete(l.(map[string]any), "kinds")
		}
	}
	data, _ := json.Marshal(f)
	v1, err := compiled.Parse("v1 acme", data)
	if err != nil {
		t.Fatal(err)
	}
	b := embedded(t).Layer(v1)
	ctx := context.Background()
	e, err := b.Render(ctx, request("acme", "de", "Jörg", "123456", 5*time.Minute))
	if err != nil || e.Set != "acme" || e.KindFallback || e.Subject != "Ihr Acme-Bestätigungscode" {
		t.Errorf("sign-in code: %+v, %v", e, err)
	}
	e, err = b.Render(ctx, kindRequest("acme", "de", contract.KindInvitation, "Jörg"))
	if err != nil || e.Set != "default" || !e.KindFallback || e.Locale != "de" || !strings.Contains(e.Text, "ein Administrator hat ein Example-Konto") {
		t.Errorf("invitation: set %s, kind fallback %v, locale %s, %v:\n%s", e.Set, e.KindFallback, e.Locale, err, e.Text)
	}
}
