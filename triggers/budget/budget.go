// Package budget bounds code guessing across sign-ins. Cognito's session
// bounds one sign-in (three wrong answers to a code, two resends), but an
// attacker who has the password can start as many sign-ins as they like.
// So each user (Cognito's sub) has a failure budget kept outside the
// session, in a Store (DynamoDB on AWS, dynalite in otp-local):
//
//   - every failed code step (a wrong, malformed or expired answer, and a
//     sign-in ended for early-resend abuse) spends one unit;
//   - after Policy.BackoffAfter consecutive failures, each further answer
//     must wait a back-off that doubles, up to Policy.BackoffMax;
//   - after Policy.MaxFailures consecutive failures (NIST SP 800-63B
//     allows at most 100) the code step is refused until an administrator
//     resets the budget; a correct answer resets it as well, but none can
//     be given any more;
//   - a unit is spent before the answer is compared (Reserve), atomically
//     across concurrent sign-ins, so no race yields one guess more;
//   - each user has one live code: issuing a code supersedes the previous
//     one, and an answer to a superseded code is refused uncompared;
//   - at most Policy.CodesPerWindow codes are issued per user per
//     Policy.CodeWindow, so repeated sign-ins cannot flood the user's inbox.
//
// The package knows nothing of Lambda, Cognito or the SDK: the triggers
// call a Ledger, and the Store behind it is the only thing that talks to a
// database. It never sees a code, only challenge ids.
package budget

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Policy is the budget's rules. The zero value is not usable; DefaultPolicy
// is what the Lambdas use unless configured otherwise.
type Policy struct {
	// BackoffAfter is how many consecutive failures are free of back-off.
	BackoffAfter int
	// BackoffBase is the first back-off; each further failure doubles it.
	BackoffBase time.Duration
	// BackoffMax caps a single back-off.
	BackoffMax time.Duration
	// MaxFailures is the consecutive failures after which the code step is
	// refused until a reset. NIST SP 800-63B 5.2.2: no more than 100.
	MaxFailures int
	// CodesPerWindow codes may be issued per user in each CodeWindow.
	CodesPerWindow int
	CodeWindow     time.Duration
}

// NISTMaxFailures is the ceiling NIST SP 800-63B (section 5.2.2, rate
// limiting) sets on consecutive failed authentication attempts on one
// account.
const NISTMaxFailures = 100

// DefaultPolicy: ten free failures (three sign-ins' worth of typos), then
// 1, 2, 4 ... minutes between answers, at most an hour, and a hard stop at
// NIST's 100. Ten codes an hour allow three full sign-ins with both
// resends.
var DefaultPolicy = Policy{
	BackoffAfter: 10, BackoffBase: time.Minute, BackoffMax: time.Hour,
	MaxFailures: NISTMaxFailures, CodesPerWindow: 10, CodeWindow: time.Hour,
}

// Validate checks that the policy bounds guessing at all.
func (p Policy) Validate() error {
	switch {
	case p.MaxFailures < 1 || p.MaxFailures > NISTMaxFailures:
		return fmt.Errorf("max failures %d: want 1..%d (NIST SP 800-63B)", p.MaxFailures, NISTMaxFailures)
	case p.BackoffAfter < 1 || p.BackoffAfter > p.MaxFailures:
		return fmt.Errorf("back-off after %d failures: want 1..max failures (%d)", p.BackoffAfter, p.MaxFailures)
	case p.BackoffBase <= 0 || p.BackoffMax < p.BackoffBase:
		return fmt.Errorf("back-off %s..%s: want 0 < base <= max", p.BackoffBase, p.BackoffMax)
	case p.CodesPerWindow < 1 || p.CodeWindow <= 0:
		return fmt.Errorf("%d codes per %s: want at least one code in a positive window", p.CodesPerWindow, p.CodeWindow)
	}
	return nil
}

// backoff is the wait after the n-th consecutive failure, or 0.
func (p Policy) backoff(n int) time.Duration {
	if n < p.BackoffAfter {
		return 0
	}
	d := p.BackoffBase
	for i := p.BackoffAfter; i < n && d < p.BackoffMax; i++ {
		d *= 2
	}
	return min(d, p.BackoffMax)
}

// State is one user's record.
type State struct {
	Failures    int       // consecutive failed code steps since the last success or reset
	LockedUntil time.Time // no answer is compared before this
	Live        string    // challenge id of the user's one live code
	LiveExpires time.Time
	WindowStart time.Time // the current code window
	WindowCodes int       // codes issued in it
}

// Why the code step is refused.
const (
	RefusedLocked     = "locked"     // MaxFailures reached: until an administrator resets it
	RefusedBackoff    = "backoff"    // wait RetryAfter
	RefusedCodeLimit  = "code_limit" // too many codes this window; wait RetryAfter
	RefusedSuperseded = "superseded" // a newer code was issued; this one no longer counts
)

// Lockouts, as logged and counted: a failure that starts a back-off, or
// the one that reaches MaxFailures.
const (
	LockoutBackoff = "backoff"
	LockoutLocked  = "locked"
)

// Standing is what a Ledger call found and did.
type Standing struct {
	Refused    string        // "" when allowed
	RetryAfter time.Duration // for backoff and code_limit
	Failures   int           // consecutive failures after the call
	Lockout    string        // set when this call started a back-off or locked the account
}

// refusal reports why an answer or a new code is refused now, if it is.
func (p Policy) refusal(s State, now time.Time, newCode bool) (string, time.Duration) {
	if s.Failures >= p.MaxFailures {
		return RefusedLocked, 0
	}
	if now.Before(s.LockedUntil) {
		return RefusedBackoff, s.LockedUntil.Sub(now)
	}
	if newCode && now.Before(s.WindowStart.Add(p.CodeWindow)) && s.WindowCodes >= p.CodesPerWindow {
		return RefusedCodeLimit, s.WindowStart.Add(p.CodeWindow).Sub(now)
	}
	return "", 0
}

// fail counts one failed code step.
func (p Policy) fail(s State, now time.Time) (State, Standing) {
	s.Failures++
	st := Standing{Failures: s.Failures}
	switch {
	case s.Failures >= p.MaxFailures:
		st.Lockout = LockoutLocked
	case s.Failures >= p.BackoffAfter:
		wait := p.backoff(s.Failures)
		s.LockedUntil = now.Add(wait)
		if s.Failures == p.BackoffAfter {
			st.Lockout = LockoutBackoff
		}
	}
	return s, st
}

// ttl is when the record holds nothing worth keeping: no failures, no live
// code and no code counted in an open window. Zero: keep it. Failures are
// never expired, since they count until a success or a reset.
func (p Policy) ttl(s State) time.Time {
	if s.Failures > 0 {
		return time.Time{}
	}
	t := s.WindowStart.Add(p.CodeWindow)
	if s.LiveExpires.After(t) {
		t = s.LiveExpires
	}
	return t
}

// Version is a record's optimistic-concurrency version; 0 means no record.
type Version int64

// ErrConflict is what Store.Save returns when the record changed since it
// was loaded.
var ErrConflict = errors.New("budget: the record changed concurrently")

// Store keeps one record per user. Save must write only if the stored
// version is still prev (no record when prev is 0), atomically.
type Store interface {
	Load(ctx context.Context, user string) (State, Version, error)
	Save(ctx context.Context, user string, s State, ttl time.Time, prev Version) error
}

// ErrUnavailable wraps every store failure, so a trigger can tell "the
// budget refuses" from "the budget could not be consulted" and fail closed.
var ErrUnavailable = errors.New("failure budget unavailable")

// Ledger applies the policy to a store.
type Ledger struct {
	Policy Policy
	Store  Store
	Now    func() time.Time
}

// maxAttempts bounds optimistic retries. Conflicts happen only when one
// user's sign-ins race; twenty concurrent ones settle within this.
const maxAttempts = 25

// update loads, applies change, and saves with a version check, retrying on
// conflict. change returns the new state and whether to save it.
func (l *Ledger) update(ctx context.Context, user string, change func(State, time.Time) (State, Standing, bool)) (Standing, error) {
	if user == "" {
		return Standing{}, fmt.Errorf("%w: no user id", ErrUnavailable)
	}
	for attempt := 1; ; attempt++ {
		s, v, err := l.Store.Load(ctx, user)
		if err != nil {
			return Standing{}, fmt.Errorf("%w: load: %w", ErrUnavailable, err)
		}
		next, st, save := change(s, l.now())
		if !save {
			return st, nil
		}
		err = l.Store.Save(ctx, user, next, l.Policy.ttl(next), v)
		if err == nil {
			return st, nil
		}
		if !errors.Is(err, ErrConflict) {
			return Standing{}, fmt.Errorf("%w: save: %w", ErrUnavailable, err)
		}
		if attempt == maxAttempts {
			return Standing{}, fmt.Errorf("%w: %d concurrent updates in a row", ErrUnavailable, attempt)
		}
		// Jitter spreads the racers out, so each retry round lets one win.
		wait := time.Duration(rand.Int64N(int64(time.Millisecond) * int64(min(attempt, 10))))
		select {
		case <-ctx.Done():
			return Standing{}, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// Check reports whether the user may go on to the code step now, without
// changing anything; newCode also applies the code-window limit.
func (l *Ledger) Check(ctx context.Context, user string, newCode bool) (Standing, error) {
	return l.update(ctx, user, func(s State, now time.Time) (State, Standing, bool) {
		refused, after := l.Policy.refusal(s, now, newCode)
		return s, Standing{Refused: refused, RetryAfter: after, Failures: s.Failures}, false
	})
}

// Issue makes challenge the user's one live code, superseding any other,
// unless the user may not get a code now.
func (l *Ledger) Issue(ctx context.Context, user, challenge string, expires time.Time) (Standing, error) {
	return l.update(ctx, user, func(s State, now time.Time) (State, Standing, bool) {
		if refused, after := l.Policy.refusal(s, now, true); refused != "" {
			return s, Standing{Refused: refused, RetryAfter: after, Failures: s.Failures}, false
		}
		if !now.Before(s.WindowStart.Add(l.Policy.CodeWindow)) {
			s.WindowStart, s.WindowCodes = now, 0
		}
		s.WindowCodes++
		s.Live, s.LiveExpires = challenge, expires
		return s, Standing{Failures: s.Failures}, true
	})
}

// Reserve spends one unit of the budget for an answer to challenge, before
// the answer is compared. A refused reservation spends nothing, and the
// answer must not be compared.
func (l *Ledger) Reserve(ctx context.Context, user, challenge string) (Standing, error) {
	return l.update(ctx, user, func(s State, now time.Time) (State, Standing, bool) {
		if refused, after := l.Policy.refusal(s, now, false); refused != "" {
			return s, Standing{Refused: refused, RetryAfter: after, Failures: s.Failures}, false
		}
		if s.Live != challenge {
			return s, Standing{Refused: RefusedSuperseded, Failures: s.Failures}, false
		}
		next, st := l.Policy.fail(s, now)
		return next, st, true
	})
}

// Succeed resets the budget after a correct answer to challenge and retires
// that code, so it cannot be answered again from another session.
func (l *Ledger) Succeed(ctx context.Context, user, challenge string) error {
	_, err := l.update(ctx, user, func(s State, _ time.Time) (State, Standing, bool) {
		s.Failures, s.LockedUntil = 0, time.Time{}
		if s.Live == challenge {
			s.Live, s.LiveExpires = "", time.Time{}
		}
		return s, Standing{}, true
	})
	return err
}

// Penalize counts a failed code step that was not an answer: a sign-in
// ended for asking for new codes too early, too often.
func (l *Ledger) Penalize(ctx context.Context, user string) (Standing, error) {
	return l.update(ctx, user, func(s State, now time.Time) (State, Standing, bool) {
		if s.Failures >= l.Policy.MaxFailures {
			return s, Standing{Refused: RefusedLocked, Failures: s.Failures}, false
		}
		next, st := l.Policy.fail(s, now)
		return next, st, true
	})
}

// Reset clears a user's failures and back-off (an administrator's unlock).
// The live code and the code window stay as they are.
func (l *Ledger) Reset(ctx context.Context, user string) (before State, err error) {
	_, err = l.update(ctx, user, func(s State, _ time.Time) (State, Standing, bool) {
		before = s
		s.Failures, s.LockedUntil = 0, time.Time{}
		return s, Standing{}, true
	})
	return before, err
}

// Inspect returns a user's record as stored.
func (l *Ledger) Inspect(ctx context.Context, user string) (State, error) {
	s, _, err := l.Store.Load(ctx, user)
	if err != nil {
		return State{}, fmt.Errorf("%w: load: %w", ErrUnavailable, err)
	}
	return s, nil
}

func (l *Ledger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}
