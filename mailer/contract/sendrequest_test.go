package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func exampleRequest() SendRequest {
	issued := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	return SendRequest{
		V: SendRequestVersion, Kind: KindSignInCode, ID: "q2V0aGlzaXNhY2hhbGxlbmdl", Tenant: "acme", Locale: "de-AT",
		To: "rosa@example.com", Name: "Rosa Díaz", Code: "493817",
		IssuedAt: issued, ExpiresAt: issued.Add(3 * time.Minute),
	}
}

// exampleRequests has one request of every kind.
func exampleRequests() map[Kind]SendRequest {
	out := map[Kind]SendRequest{}
	for _, k := range Kinds {
		r := exampleRequest()
		r.Kind = k
		r.ID = "req-" + string(k)
		switch k {
		case KindInvitation:
			r.Code, r.Username, r.TemporaryPassword = "", "rosa", "Tmp-9xQ!wv2#Lm"
		case KindAccountTakeover:
			r.Code = ""
			r.Takeover = &Takeover{EventID: "ev-42", Action: "BLOCK", LoginTime: r.IssuedAt.Add(-time.Minute),
				IPAddress: "203.0.113.7", City: "Lyon", Country: "France", Device: "Chrome 131, Windows",
				ThisWasMe:    "https://example.auth.eu-west-1.amazoncognito.com/confirm?token=valid-tok",
				ThisWasNotMe: "https://example.auth.eu-west-1.amazoncognito.com/confirm?token=invalid-tok"}
		}
		out[k] = r
	}
	return out
}

// TestSendRequestWireFormat pins the JSON both sides of the queue speak, one
// golden line per kind. A change here is a contract change: bump
// SendRequestVersion.
func TestSendRequestWireFormat(t *testing.T) {
	golden := filepath.Join("testdata", "sendrequest-v2.jsonl")
	var got []byte
	for _, k := range Kinds {
		line, err := exampleRequests()[k].Encode()
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		got = append(append(got, line...), '\n')
	}
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("wire format changed:\n got %s\nwant %s", got, want)
	}
	for i, line := range bytes.Split(bytes.TrimSpace(want), []byte("\n")) {
		back, err := DecodeSendRequest(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if w := exampleRequests()[back.Kind]; !reflect.DeepEqual(back, w) {
			t.Errorf("decode(encode(r)) = %+v, want %+v", back, w)
		}
	}
}

// TestVersion1StillDecodes: bodies queued by a trigger deployed before
// kinds existed are sign-in codes, and are sent.
func TestVersion1StillDecodes(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "sendrequest-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSendRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	if want := exampleRequest(); !reflect.DeepEqual(got, want) {
		t.Errorf("v1 body = %+v, want %+v", got, want)
	}
	withKind := bytes.Replace(body, []byte(`"v":1,`), []byte(`"v":1,"kind":"invitation",`), 1)
	if _, err := DecodeSendRequest(withKind); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("v1 body with a kind: err = %v, want ErrInvalidRequest", err)
	}
}

func TestKindRules(t *testing.T) {
	reqs := exampleRequests()
	tests := []struct {
		name   string
		change func(*SendRequest)
		want   error
	}{
		{"no kind", func(r *SendRequest) { r.Kind = "" }, ErrInvalidRequest},
		{"unknown kind", func(r *SendRequest) { r.Kind = "newsletter" }, ErrUnknownKind},
		{"unknown kind, not an identifier", func(r *SendRequest) { r.Kind = "493817 </script>" }, ErrUnknownKind},
		{"sign-in code without a code", func(r *SendRequest) { r.Code = "" }, ErrInvalidRequest},
		{"sign-in code with a password", func(r *SendRequest) { r.TemporaryPassword = "x" }, ErrInvalidRequest},
		{"sign-in code with takeover", func(r *SendRequest) { r.Takeover = reqs[KindAccountTakeover].Takeover }, ErrInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := reqs[KindSignInCode]
			tc.change(&r)
			err := r.Validate()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "493817") {
				t.Errorf("error reveals the code: %v", err)
			}
		})
	}
	invitation := []struct {
		name   string
		change func(*SendRequest)
	}{
		{"no username", func(r *SendRequest) { r.Username = "" }},
		{"no password", func(r *SendRequest) { r.TemporaryPassword = "" }},
		{"a code too", func(r *SendRequest) { r.Code = "493817" }},
		{"password with a line break", func(r *SendRequest) { r.TemporaryPassword = "Tmp\nBcc: x" }},
		{"password too long", func(r *SendRequest) { r.TemporaryPassword = Secret(strings.Repeat("p", 257)) }},
	}
	for _, tc := range invitation {
		t.Run("invitation "+tc.name, func(t *testing.T) {
			r := reqs[KindInvitation]
			tc.change(&r)
			err := r.Validate()
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidRequest", err)
			}
			if strings.Contains(err.Error(), "Tmp") {
				t.Errorf("error reveals the password: %v", err)
			}
		})
	}
	takeover := []struct {
		name   string
		change func(*Takeover)
	}{
		{"unknown action", func(tk *Takeover) { tk.Action = "SHRUG" }},
		{"no login time", func(tk *Takeover) { tk.LoginTime = time.Time{} }},
		{"plain http link", func(tk *Takeover) { tk.ThisWasNotMe = "http://evil.example/x" }},
		{"city with a header", func(tk *Takeover) { tk.City = "Lyon\r\nBcc: x" }},
	}
	for _, tc := range takeover {
		t.Run("takeover "+tc.name, func(t *testing.T) {
			r := reqs[KindAccountTakeover]
			tk := *r.Takeover
			tc.change(&tk)
			r.Takeover = &tk
			if err := r.Validate(); !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidRequest", err)
			}
		})
	}
	r := reqs[KindAccountTakeover]
	r.Takeover = nil
	if err := r.Validate(); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("takeover without takeover: err = %v", err)
	}
}

func TestRedactRemovesEverySecret(t *testing.T) {
	for k, r := range exampleRequests() {
		body, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out, ok := Redact(body)
		if !ok {
			t.Fatalf("%s: nothing redacted", k)
		}
		for _, secret := range []string{"493817", "Tmp-9xQ", "valid-tok", "invalid-tok"} {
			if bytes.Contains(out, []byte(secret)) {
				t.Errorf("%s: redacted body keeps %q: %s", k, secret, out)
			}
		}
		if !bytes.Contains(out, []byte(r.ID)) {
			t.Errorf("%s: redacted body lost its id: %s", k, out)
		}
	}
}

func TestDecodeSendRequestErrors(t *testing.T) {
	good, _ := exampleRequest().Encode()
	with := func(old, new string) []byte { return []byte(strings.Replace(string(good), old, new, 1)) }
	tests := []struct {
		name string
		body []byte
		want error
	}{
		{"not JSON", []byte(`{"v":2,"code":"493817"`), ErrMalformed},
		{"empty", nil, ErrMalformed},
		{"JSON array", []byte(`[1,2]`), ErrMalformed},
		{"no version", with(`"v":2,`, ""), ErrUnknownVersion},
		{"version 3", with(`"v":2`, `"v":3`), ErrUnknownVersion},
		{"version 3 with another shape", []byte(`{"v":3,"code":{"digits":"493817"}}`), ErrUnknownVersion},
		{"version as string", with(`"v":2`, `"v":"2"`), ErrMalformed},
		{"unknown kind", with(`"kind":"signin_code"`, `"kind":"newsletter"`), ErrUnknownKind},
		{"code as number", with(`"code":"493817"`, `"code":493817`), ErrMalformed},
		{"code with letters", with(`"code":"493817"`, `"code":"49381x"`), ErrInvalidRequest},
		{"two recipients", with(`"to":"rosa@example.com"`, `"to":"rosa@example.com, eve@example.com"`), ErrInvalidRecipient},
		{"recipient with a header", with(`"to":"rosa@example.com"`, `"to":"rosa@example.com\r\nBcc: eve@example.com"`), ErrInvalidRecipient},
		{"tenant as a path", with(`"tenant":"acme"`, `"tenant":"../acme"`), ErrInvalidRequest},
		{"expired before issued", with(`"expiresAt":"2026-11-24T09:03:00Z"`, `"expiresAt":"2026-11-24T08:00:00Z"`), ErrInvalidRequest},
		{"name with a line break", with(`"name":"Rosa Díaz"`, `"name":"Rosa\nBcc: x"`), ErrInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeSendRequest(tc.body)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "493817") {
				t.Errorf("error reveals the code: %v", err)
			}
		})
	}
}

func TestCodeNeverPrints(t *testing.T) {
	inv := exampleRequests()[KindInvitation]
	if s := fmt.Sprintf("%v %+v %#v %s", inv, inv.TemporaryPassword, inv.TemporaryPassword, inv.TemporaryPassword); strings.Contains(s, "Tmp-9xQ") {
		t.Errorf("printed form reveals the temporary password: %s", s)
	}
	r := exampleRequest()
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "req", r, "code", r.Code)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "req", r, "code", r.Code)
	for _, s := range []string{
		fmt.Sprint(r), fmt.Sprintf("%v %+v %#v %s %q %x %d", r, r, r, r.Code, r.Code, r.Code, r.Code),
		fmt.Sprintf("%v", []Code{r.Code}), logs.String(), fmt.Errorf("wrap: %v", r).Error(),
	} {
		if strings.Contains(s, "493817") || strings.Contains(s, "rosa@example.com") {
			t.Errorf("printed form reveals the code or the address: %s", s)
		}
	}
	if r.Code.Reveal() != "493817" {
		t.Error("Reveal lost the code")
	}
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"rosa@example.com": "r***@example.com",
		"é@example.com":    "é***@example.com",
		"@example.com":     "***",
		"rosa@":            "***",
		"no-at-sign":       "***",
		"":                 "***",
	} {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCleanName(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Rosa Díaz", "Rosa Díaz"},
		{"line breaks become a space", "Rosa\r\nBcc: eve@example.com", "Rosa Bcc: eve@example.com"},
		{"bidi override removed", "evil\u202egnp.exe", "evilgnp.exe"},
		{"runs of space collapse and trim", "  Rosa \t  Díaz  ", "Rosa Díaz"},
		{"NUL removed", "Ro\x00sa", "Rosa"},
		{"invalid UTF-8 removed", "Ro\xffsa", "Rosa"},
		{"long name cut to 100 runes", strings.Repeat("ß", 300), strings.Repeat("ß", 100)},
		{"four-byte runes", strings.Repeat("😀", 120), strings.Repeat("😀", 100)},
		{"joiners kept for emoji and Persian", "👩\u200d💻 می\u200cخواهم", "👩\u200d💻 می\u200cخواهم"},
		{"dangling joiner trimmed", "Rosa\u200d", "Rosa"},
		{"zero-width space removed", "Ro\u200bsa", "Rosa"},
		{"CJK", "山田 太郎", "山田 太郎"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := CleanName(tc.in)
			if got != tc.want {
				t.Errorf("CleanName(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if !utf8.ValidString(got) || len(got) > maxNameLen || utf8.RuneCountInString(got) > MaxNameRunes {
				t.Errorf("CleanName(%q) = %q breaks the contract's limits", tc.in, got)
			}
		})
	}
}

func FuzzCleanNameKeepsTheContract(f *testing.F) {
	for _, s := range []string{"Rosa", "a\r\nb", strings.Repeat("😀", 80), "\u202e\u200d x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r := exampleRequest()
		r.Name = CleanName(in)
		if err := r.Validate(); err != nil {
			t.Fatalf("CleanName(%q) = %q, which the contract refuses: %v", in, r.Name, err)
		}
	})
}

func TestScrubAddresses(t *testing.T) {
	in := "Email address is not verified. The following identities failed the check in region US-EAST-1: rosa@example.com, <eve@evil.example>"
	want := "Email address is not verified. The following identities failed the check in region US-EAST-1: r***@example.com, <e***@evil.example>"
	if got := ScrubAddresses(in); got != want {
		t.Errorf("ScrubAddresses:\n got %s\nwant %s", got, want)
	}
}
