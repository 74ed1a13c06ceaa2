// Package pseudonym computes the keyed hashes that log lines carry instead
// of who they are about: a user's pseudonym (the triggers' "user" field)
// and a recipient's to_hash (the Create trigger's enqueue line, the
// mailer's "sent" line and the feedback function's event lines). It is the
// one place these hashes are computed, so that an operator's tool (otpctl)
// finds every line about one person with the same function the functions
// log with.
//
// Every hash is keyed with a key derived from the project's HMAC key (the
// triggers' secret), one derived key per purpose, so a reader of the logs
// alone learns nothing, a user pseudonym and an address hash can never be
// compared with each other, and neither tells anything about the key that
// signs codes. The hashes change when the key rotates.
package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Labels of the derived keys. Changing one changes every hash of its kind,
// which breaks every search across the change: version them instead.
const (
	userLabel = "cognito-email-otp log pseudonym v1"
	toLabel   = "cognito-email-otp to_hash v1"
)

// FieldToHash is the log field every function writes an address hash to.
const FieldToHash = "to_hash"

// User is the pseudonym of a user id (Cognito's sub).
func User(key []byte, sub string) string { return of(key, userLabel, sub) }

// ToHash is the hash of a recipient address, normalised as NormalizeAddress
// does, so that "Rosa@Example.com " and "rosa@example.com" match. It is ""
// for an empty address.
func ToHash(key []byte, address string) string {
	a := NormalizeAddress(address)
	if a == "" {
		return ""
	}
	return of(key, toLabel, a)
}

// NormalizeAddress is the form of an address that ToHash hashes: trimmed
// and in lower case. Mailbox providers treat local parts case-insensitively
// in practice, and a trace that missed a line for a capital letter would
// send an operator looking in the wrong place.
func NormalizeAddress(address string) string {
	return strings.ToLower(strings.TrimSpace(address))
}

// of is HMAC-SHA256(HMAC-SHA256(key, label), value), its first 8 bytes in
// hex: 64 bits tell the few thousand people a log search is about apart,
// and are short enough for a table column.
func of(key []byte, label, value string) string {
	derived := hmac.New(sha256.New, key)
	derived.Write([]byte(label))
	m := hmac.New(sha256.New, derived.Sum(nil))
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil)[:8])
}
