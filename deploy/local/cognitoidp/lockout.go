package cognitoidp

import (
	"sync"
	"time"
)

// lockouts is Cognito's temporary lockout after failed passwords: "After
// five failed ... sign-in attempts with a password, Amazon Cognito locks out
// your user for one second. The lockout duration then doubles after each
// additional one failed attempt, up to a maximum of approximately 15
// minutes. Attempts made during a lockout period generate a Password
// attempts exceeded exception, and don't affect the duration of subsequent
// lockout periods." The count resets after a successful sign-in or 15
// minutes without attempts (Amazon Cognito developer guide, "User sign-in
// lockout"). Unknown users are counted the same way, so a lockout tells no
// one whether an account exists.
type lockouts struct {
	mu    sync.Mutex
	users map[string]*lockState // by the user's internal id (a stand-in for unknown users)
}

type lockState struct {
	failures    int
	last        time.Time
	lockedUntil time.Time
}

const (
	lockoutFreeFailures = 5
	lockoutMax          = 15 * time.Minute
	lockoutQuiet        = 15 * time.Minute
)

var errPasswordAttemptsExceeded = fault("NotAuthorizedException", "Password attempts exceeded")

// check refuses a password attempt during a lockout, without counting it.
func (l *lockouts) check(user string, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.users[user]
	if st == nil {
		return nil
	}
	if now.Sub(st.last) >= lockoutQuiet {
		delete(l.users, user)
		return nil
	}
	if now.Before(st.lockedUntil) {
		return errPasswordAttemptsExceeded
	}
	return nil
}

// record counts a password attempt's result.
func (l *lockouts) record(user string, ok bool, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ok {
		delete(l.users, user)
		return
	}
	if l.users == nil {
		l.users = map[string]*lockState{}
	}
	st := l.users[user]
	if st == nil {
		st = &lockState{}
		l.users[user] = st
	}
	st.failures++
	st.last = now
	if st.failures >= lockoutFreeFailures {
		wait := time.Second << min(st.failures-lockoutFreeFailures, 20)
		st.lockedUntil = now.Add(min(wait, lockoutMax))
	}
}
