package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeSendRequest feeds arbitrary SQS bodies to the mailer's decoder.
// The mailer dead-letters by sentinel and logs the error text, so both the
// classification and the text are part of the contract, not just "no panic".
//
//	go test ./mailer/contract -run '^$' -fuzz '^FuzzDecodeSendRequest$' -fuzztime 30s
func FuzzDecodeSendRequest(f *testing.F) {
	good, err := exampleRequest().Encode()
	if err != nil {
		f.Fatal(err)
	}
	with := func(old, new string) []byte { return []byte(strings.Replace(string(good), old, new, 1)) }
	for _, seed := range [][]byte{
		good,
		nil,
		[]byte(`{"v":1,"code":"493817"`),
		[]byte(`{"v":2,"code":{"digits":"493817"}}`),
		[]byte(`{"v":493817.5,"code":"493817"}`),
		[]byte(`{"v":99999999999999999999,"code":"4938170000"}`),
		with(`"code":"493817"`, `"code":493817`),
		with(`"code":"493817"`, `"code":"493817","CODE":"1234567"`),
		with(`"issuedAt":"2026-11-24T09:00:00Z"`, `"issuedAt":"2026-11-24T09:00:00+01:00"`),
		with(`"expiresAt":"2026-11-24T09:03:00Z"`, `"expiresAt":"493817"`),
		with(`"to":"rosa@example.com"`, `"to":"rosa@example.com\r\nBcc: eve@example.com"`),
		with(`"name":"Rosa Díaz"`, `"name":"\u003cscript\u003e\u2028\ud800"`),
		append(bytes.Clone(good), ` trailing`...),
		with(`"v":2,"kind":"signin_code",`, `"v":1,`),
		with(`"v":2,"kind":"signin_code",`, `"v":1,"kind":"invitation",`),
		with(`"kind":"signin_code"`, `"kind":"newsletter"`),
	} {
		f.Add(seed)
	}
	for _, r := range exampleRequests() {
		b, err := r.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeSendRequest(body)
		if err != nil {
			checkDecodeError(t, body, err)
			return
		}
		checkDecoded(t, r)
	})
}

var sentinels = []error{ErrMalformed, ErrUnknownVersion, ErrUnknownKind, ErrInvalidRequest, ErrInvalidRecipient}

// safeNumbers are the numbers errors print on purpose: the body's version
// (an operator needs it to redrive) and a syntax error's offset. A body whose
// code happens to equal its version or an offset leaks nothing the version
// field does not already say, so they are cut before looking for the code.
var safeNumbers = regexp.MustCompile(`v=-?[0-9]+|at byte [0-9]+`)

func checkDecodeError(t *testing.T, body []byte, err error) {
	t.Helper()
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error wraps %d of the sentinels, want exactly one: %v", n, err)
	}
	msg := safeNumbers.ReplaceAllString(err.Error(), "")
	for _, code := range codesIn(body) {
		if strings.Contains(msg, code) {
			t.Fatalf("error quotes the code %s: %v", code, err)
		}
	}
}

// codesIn returns every 6-10 digit value of a top-level "code" key, matched
// as encoding/json matches keys (case-insensitively, last one wins), so a
// duplicate or differently cased key cannot hide a code from the check. It
// reads up to the first syntax error: what came before it was still in the
// body the mailer saw.
func codesIn(body []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var codes []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return codes
		}
		key, _ := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return codes
		}
		if !strings.EqualFold(key, "code") {
			continue
		}
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case json.Number:
			s = v.String()
		}
		if len(s) >= 6 && len(s) <= 10 && isDigits(s) {
			codes = append(codes, s)
		}
	}
	return codes
}

func checkDecoded(t *testing.T, r SendRequest) {
	t.Helper()
	if err := r.Validate(); err != nil {
		t.Fatalf("decoded request fails Validate: %v", err)
	}
	switch {
	case len(r.ID) < 1 || len(r.ID) > maxIDLen || !isToken(r.ID):
		t.Fatalf("id breaks the limits: %q", r.ID)
	case len(r.Tenant) < 1 || len(r.Tenant) > maxTenantLen || !isToken(r.Tenant):
		t.Fatalf("tenant breaks the limits: %q", r.Tenant)
	case len(r.Locale) > maxLocaleLen || !isToken(r.Locale):
		t.Fatalf("locale breaks the limits: %q", r.Locale)
	case len(r.To) < 1 || len(r.To) > maxToLen:
		t.Fatalf("recipient breaks the limits: %d bytes", len(r.To))
	case len(r.Name) > maxNameLen || !utf8.ValidString(r.Name) || strings.ContainsAny(r.Name, "\r\n\x00"):
		t.Fatalf("name breaks the limits: %q", r.Name)
	case r.V != SendRequestVersion || !r.Kind.Known():
		t.Fatalf("decoded v=%d kind %q: want v=%d and a known kind", r.V, r.Kind, SendRequestVersion)
	case r.Kind.HasCode() && (len(r.Code) < 4 || len(r.Code) > maxCodeLen || !isDigits(string(r.Code))):
		t.Fatalf("code breaks the limits: %d characters", len(r.Code))
	case !r.Kind.HasCode() && r.Code != "":
		t.Fatalf("a %s decoded with a code", r.Kind)
	case !r.ExpiresAt.After(r.IssuedAt):
		t.Fatal("expiresAt is not after issuedAt")
	}
	enc, err := r.Encode()
	if err != nil {
		t.Fatalf("a decoded request does not encode: %v", err)
	}
	back, err := DecodeSendRequest(enc)
	if err != nil {
		t.Fatalf("decode(encode(r)) fails: %v\n%s", err, enc)
	}
	// Times compare with Equal: a decoded offset gets a fresh *Location, so
	// == would differ on the same instant.
	if back.V != r.V || back.ID != r.ID || back.Tenant != r.Tenant || back.Locale != r.Locale ||
		back.To != r.To || back.Name != r.Name || back.Code != r.Code || back.Kind != r.Kind ||
		back.Username != r.Username || back.TemporaryPassword != r.TemporaryPassword ||
		(back.Takeover == nil) != (r.Takeover == nil) ||
		!back.IssuedAt.Equal(r.IssuedAt) || !back.ExpiresAt.Equal(r.ExpiresAt) {
		t.Fatalf("decode(encode(r)) = %+v, want %+v", back, r)
	}
	again, err := back.Encode()
	if err != nil || !bytes.Equal(again, enc) {
		t.Fatalf("encoding is not stable: %s then %s (%v)", enc, again, err)
	}
}
