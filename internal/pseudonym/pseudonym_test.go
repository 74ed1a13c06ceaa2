package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

var key = []byte("0123456789abcdef0123456789abcdef")

// TestGoldenValues pins the hashes: otpctl computes them to search logs
// the functions wrote, perhaps with another release, so a change of
// algorithm must be a visible diff (and a new label), never an accident.
func TestGoldenValues(t *testing.T) {
	const sub = "8a4c0d2e-1111-4222-8333-944445555666"
	tests := []struct {
		name, got, want string
	}{
		{"user pseudonym", User(key, sub), "d336541cca84b857"},
		{"address hash", ToHash(key, "rosa@example.com"), "258e7ac622d8e3f5"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

// TestUserIsTheTriggersFormerPseudonym: the user pseudonym is what the
// triggers logged before this package existed, so searches across the
// change still find a user.
func TestUserIsTheTriggersFormerPseudonym(t *testing.T) {
	former := func(key []byte, sub string) string {
		derived := hmac.New(sha256.New, key)
		derived.Write([]byte("cognito-email-otp log pseudonym v1"))
		m := hmac.New(sha256.New, derived.Sum(nil))
		m.Write([]byte(sub))
		return hex.EncodeToString(m.Sum(nil)[:8])
	}
	for _, sub := range []string{"a", "8a4c0d2e-1111-4222-8333-944445555666", ""} {
		if got, want := User(key, sub), former(key, sub); got != want {
			t.Errorf("User(%q) = %s, want %s", sub, got, want)
		}
	}
}

func TestToHashNormalisesTheAddress(t *testing.T) {
	want := ToHash(key, "rosa@example.com")
	tests := []struct {
		name, address string
		same          bool
	}{
		{"upper case", "Rosa@Example.COM", true},
		{"surrounding space", "  rosa@example.com\t", true},
		{"another address", "lena@example.com", false},
		{"a plus label is another mailbox", "rosa+x@example.com", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ToHash(key, tc.address); (got == want) != tc.same {
				t.Errorf("ToHash(%q) = %s, rosa@example.com's is %s; same = %v, want %v", tc.address, got, want, got == want, tc.same)
			}
		})
	}
	if ToHash(key, " ") != "" {
		t.Error("an empty address has a hash")
	}
}

// TestPurposesDoNotCollide: the same string hashed as a user id and as an
// address gives different values, so neither field can be used to look up
// the other.
func TestPurposesDoNotCollide(t *testing.T) {
	if User(key, "rosa@example.com") == ToHash(key, "rosa@example.com") {
		t.Error("user pseudonym and address hash share a key")
	}
	if ToHash(key, "rosa@example.com") == ToHash([]byte("another key, also thirty-two bytes"), "rosa@example.com") {
		t.Error("the hash does not depend on the key")
	}
}
