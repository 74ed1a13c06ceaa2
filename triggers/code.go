package triggers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"unicode"
)

const macSize = sha256.Size

// Code lengths the configuration accepts. Six digits against three wrong
// answers per code and two resends gives an attacker who has the password
// at most 7 compared guesses in 10^6 per sign-in: the third wrong answer to
// a code ends the sign-in, so a new code costs the attacker one guess on the
// old one (2 + 2 + 3; bruteforce_test.go drives every strategy).
const (
	MinCodeLength = 6
	MaxCodeLength = 10
)

// newCode returns n decimal digits, each uniform over 0-9. Bytes of 250 and
// above are discarded rather than reduced modulo 10, which would make the
// digits 0-5 slightly more likely (256 = 25*10 + 6).
func newCode(random io.Reader, n int) (string, error) {
	const limit = 250
	out := make([]byte, 0, n)
	buf := make([]byte, n+8) // a few spare bytes make a second read rare
	for len(out) < n {
		if _, err := io.ReadFull(random, buf); err != nil {
			return "", fmt.Errorf("read random bytes for code: %w", err)
		}
		for _, b := range buf {
			if b < limit {
				out = append(out, '0'+b%10)
				if len(out) == n {
					break
				}
			}
		}
	}
	return string(out), nil
}

// newChallengeID returns 128 random bits, URL-safe. It is bound into the MAC,
// so a MAC from one challenge cannot vouch for a code in another.
func newChallengeID(random io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("read random bytes for challenge id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func validChallengeID(id string) bool {
	b, err := base64.RawURLEncoding.DecodeString(id)
	// The decoder skips line breaks and ignores the last character's spare
	// bits, so only the encoding newChallengeID writes is accepted: the id
	// is compared as a string when rounds chain and hashed into the MAC.
	return err == nil && len(b) == 16 && base64.RawURLEncoding.EncodeToString(b) == id
}

// codeMAC is HMAC-SHA256(key, "otp-code-v2" || challengeID || len(sub) ||
// sub || code). The challenge id has a fixed length and the sub a length
// prefix, so the concatenation is unambiguous. Binding the user means a MAC
// from one user's challenge can never vouch for a code in another's, even
// if challenge parameters were ever mixed up.
func codeMAC(key []byte, challengeID, sub, code string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("otp-code-v2"))
	m.Write([]byte(challengeID))
	m.Write([]byte{byte(len(sub) >> 8), byte(len(sub))})
	m.Write([]byte(sub))
	m.Write([]byte(code))
	return m.Sum(nil)
}

func encodeMAC(mac []byte) string { return base64.RawURLEncoding.EncodeToString(mac) }

func decodeMAC(s string) ([]byte, bool) {
	mac, err := base64.RawURLEncoding.DecodeString(s)
	return mac, err == nil && len(mac) == macSize
}

// defaultRandom is crypto/rand's reader; tests swap in a fixed source.
var defaultRandom io.Reader = rand.Reader

// normalizeAnswer turns what a user typed or pasted into ASCII digits:
// surrounding and inner spaces go ("123 456"), and decimal digits from
// other scripts become ASCII, because phones with Arabic or Persian keyboards
// and Japanese IMEs (full-width) type them. Anything else makes the answer
// invalid; ok is false and the answer is not compared at all.
func normalizeAnswer(answer string, length int) (digits string, ok bool) {
	answer = strings.TrimSpace(answer)
	if len(answer) > 8*length { // bound the work on hostile input
		return "", false
	}
	var b strings.Builder
	b.Grow(length)
	for _, r := range answer {
		switch {
		case r == ' ' || r == '\u00a0' || r == '\u202f' || r == '\u3000':
			continue
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case unicode.Is(unicode.Nd, r):
			d, known := digitValue(r)
			if !known {
				return "", false
			}
			b.WriteByte('0' + d)
		default:
			return "", false
		}
	}
	if b.Len() != length {
		return "", false
	}
	return b.String(), true
}

// digitValue maps the decimal digit blocks users are likely to type. Each
// block in Unicode is ten consecutive code points starting at zero.
func digitValue(r rune) (byte, bool) {
	for _, zero := range []rune{
		'\u0660', // Arabic-Indic
		'\u06f0', // Extended Arabic-Indic (Persian, Urdu)
		'\u0966', // Devanagari
		'\uff10', // Full-width (Japanese, Chinese IMEs)
	} {
		if r >= zero && r <= zero+9 {
			return byte(r - zero), true
		}
	}
	return 0, false
}

// NewID returns a random id of the challenge ids' form, for send requests
// that no challenge names (the custom email sender's).
func NewID(random io.Reader) (string, error) { return newChallengeID(random) }
