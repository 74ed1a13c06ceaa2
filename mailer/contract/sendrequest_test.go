package contract

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func exampleRequest() SendRequest {
	issued := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	return SendRequest{
		V: SendRequestVersion, ID: "q2V0aGlzaXNhY2hhbGxlbmdl", Tenant: "acme", Locale: "de-AT",
		To: "rosa@example.com", Name: "Rosa Díaz", Code: "493817",
		IssuedAt: issued, ExpiresAt: issued.Add(3 * time.Minute),
	}
}

// TestSendRequestWireFormat pins the JSON both sides of the queue speak. A
// change here is a contract change: bump SendRequestVersion.
func TestSendRequestWireFormat(t *testing.T) {
	golden := filepath.Join("testdata", "sendrequest-v1.json")
	got, err := exampleRequest().Encode()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != strings.TrimSpace(string(want)) {
		t.Errorf("wire format changed:\n got %s\nwant %s", got, want)
	}
	back, err := DecodeSendRequest(want)
	if err != nil {
		t.Fatal(err)
	}
	if back != exampleRequest() {
		t.Errorf("decode(encode(r)) = %+v, want %+v", back, exampleRequest())
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
		{"not JSON", []byte(`{"v":1,"code":"493817"`), ErrMalformed},
		{"empty", nil, ErrMalformed},
		{"JSON array", []byte(`[1,2]`), ErrMalformed},
		{"no version", with(`"v":1,`, ""), ErrUnknownVersion},
		{"version 2", with(`"v":1`, `"v":2`), ErrUnknownVersion},
		{"version 2 with another shape", []byte(`{"v":2,"code":{"digits":"493817"}}`), ErrUnknownVersion},
		{"version as string", with(`"v":1`, `"v":"1"`), ErrMalformed},
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
