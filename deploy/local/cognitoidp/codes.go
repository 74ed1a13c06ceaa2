package cognitoidp

import (
	"crypto/subtle"
	"time"
)

// Cognito answers too many wrong codes, or too many codes asked for, with
// LimitExceededException "Attempt limit exceeded, please try after some
// time." and publishes no figures; these are the stricter reading. Without
// them anyone who signs up with another person's address could try every
// six-digit confirmation code until the address is "verified" as theirs.
const (
	maxWrongCodes   = 5 // wrong answers to one code, after which only a new code works
	maxCodesPerHour = 5 // confirmation or verification codes emailed to one user per hour
)

var (
	errCodeMismatch = fault("CodeMismatchException", "Invalid verification code provided, please try again.")
	errCodeExpired  = fault("ExpiredCodeException", "Invalid code provided, please request a code again.")
	errAttemptLimit = fault("LimitExceededException", "Attempt limit exceeded, please try after some time.")
)

// emailedCode is a confirmation or verification code the pool emailed,
// kept in memory only: compared in constant time, good until it expires
// and for maxWrongCodes wrong answers, and issued at most maxCodesPerHour
// times an hour.
type emailedCode struct {
	value   string
	expires time.Time
	wrong   int
	locked  bool        // too many wrong answers: refused until a new code is issued
	sent    []time.Time // when codes were issued, within the last hour
}

// issue replaces the code, unless the user has had maxCodesPerHour in the
// last hour.
func (c *emailedCode) issue(value string, now time.Time, validity time.Duration) error {
	var recent []time.Time // a new slice: clones of the user share the old one
	for _, t := range c.sent {
		if now.Sub(t) < time.Hour {
			recent = append(recent, t)
		}
	}
	if len(recent) >= maxCodesPerHour {
		return errAttemptLimit
	}
	*c = emailedCode{value: value, expires: now.Add(validity), sent: append(recent, now)}
	return nil
}

// use spends the code on a right answer. A wrong one counts, and the last
// one allowed locks the code: every answer is then refused as over the
// limit (the SDKs retry that error as throttling, so it must stay the
// answer) until a new code is issued. Callers run it inside users.update,
// whose function mutates the stored user even when it returns an error,
// so the count holds.
func (c *emailedCode) use(given string, now time.Time) error {
	if c.locked {
		return errAttemptLimit
	}
	if c.value == "" {
		return errCodeMismatch
	}
	if subtle.ConstantTimeCompare([]byte(c.value), []byte(given)) != 1 {
		if c.wrong++; c.wrong >= maxWrongCodes {
			c.value, c.locked = "", true
			return errAttemptLimit
		}
		return errCodeMismatch
	}
	if !now.Before(c.expires) {
		return errCodeExpired
	}
	c.value, c.wrong = "", 0
	return nil
}

// pending reports whether a code waits to be used.
func (c *emailedCode) pending() bool { return c.value != "" }
