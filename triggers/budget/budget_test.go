package budget

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newLedger(p Policy) (*Ledger, *clock, *MemoryStore) {
	c := &clock{now: t0}
	s := &MemoryStore{}
	return &Ledger{Policy: p, Store: s, Now: c.Now}, c, s
}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	p := DefaultPolicy
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{1, 0}, {9, 0}, {10, time.Minute}, {11, 2 * time.Minute}, {12, 4 * time.Minute},
		{15, 32 * time.Minute}, {16, time.Hour}, {99, time.Hour},
	}
	for _, tc := range tests {
		if got := p.backoff(tc.failures); got != tc.want {
			t.Errorf("backoff after %d failures = %s, want %s", tc.failures, got, tc.want)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Policy)
		ok     bool
	}{
		{"default", func(*Policy) {}, true},
		{"NIST's ceiling", func(p *Policy) { p.MaxFailures = 100 }, true},
		{"past NIST's ceiling", func(p *Policy) { p.MaxFailures = 101 }, false},
		{"no failures at all", func(p *Policy) { p.MaxFailures = 0 }, false},
		{"back-off after the lock", func(p *Policy) { p.BackoffAfter = 101 }, false},
		{"no back-off", func(p *Policy) { p.BackoffBase = 0 }, false},
		{"cap below base", func(p *Policy) { p.BackoffMax = time.Second }, false},
		{"no codes", func(p *Policy) { p.CodesPerWindow = 0 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPolicy
			tc.mutate(&p)
			if err := p.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// TestLedgerStory walks one user through what an attacker with the password
// and the user themselves would do, checking what each step allows.
func TestLedgerStory(t *testing.T) {
	ctx := context.Background()
	p := Policy{BackoffAfter: 3, BackoffBase: time.Minute, BackoffMax: 4 * time.Minute, MaxFailures: 6, CodesPerWindow: 4, CodeWindow: time.Hour}
	l, c, _ := newLedger(p)
	const user = "sub-1"
	mustIssue := func(id string) {
		t.Helper()
		st, err := l.Issue(ctx, user, id, c.Now().Add(3*time.Minute))
		if err != nil || st.Refused != "" {
			t.Fatalf("issue %s: %+v, %v", id, st, err)
		}
	}
	reserve := func(id string) Standing {
		t.Helper()
		st, err := l.Reserve(ctx, user, id)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}

	mustIssue("c1")
	for i := 1; i <= 2; i++ {
		if st := reserve("c1"); st.Refused != "" || st.Failures != i || st.Lockout != "" {
			t.Fatalf("guess %d: %+v, want allowed, %d failures", i, st, i)
		}
	}
	// A new sign-in supersedes the first code: answers to it are refused
	// and cost nothing.
	mustIssue("c2")
	if st := reserve("c1"); st.Refused != RefusedSuperseded || st.Failures != 2 {
		t.Fatalf("answer to a superseded code: %+v", st)
	}
	// The third failure starts the back-off.
	if st := reserve("c2"); st.Refused != "" || st.Failures != 3 || st.Lockout != LockoutBackoff {
		t.Fatalf("third guess: %+v, want the back-off to start", st)
	}
	if st := reserve("c2"); st.Refused != RefusedBackoff || st.RetryAfter != time.Minute || st.Failures != 3 {
		t.Fatalf("guess inside the back-off: %+v, want refused for a minute, nothing spent", st)
	}
	if st, _ := l.Check(ctx, user, true); st.Refused != RefusedBackoff {
		t.Fatalf("Define's check inside the back-off: %+v", st)
	}
	if st, _ := l.Issue(ctx, user, "c3", c.Now().Add(3*time.Minute)); st.Refused != RefusedBackoff {
		t.Fatalf("a new code inside the back-off: %+v, want refused (no email)", st)
	}
	c.Advance(time.Minute)
	if st := reserve("c2"); st.Refused != "" || st.Failures != 4 || st.Lockout != "" {
		t.Fatalf("guess after the back-off: %+v", st)
	}
	if st := reserve("c2"); st.Refused != RefusedBackoff || st.RetryAfter != 2*time.Minute {
		t.Fatalf("second back-off: %+v, want two minutes", st)
	}
	c.Advance(2 * time.Minute)
	reserve("c2")
	c.Advance(4 * time.Minute)
	if st := reserve("c2"); st.Failures != 6 || st.Lockout != LockoutLocked {
		t.Fatalf("sixth failure: %+v, want the account locked", st)
	}
	c.Advance(24 * time.Hour)
	for _, check := range []func() (Standing, error){
		func() (Standing, error) { return l.Reserve(ctx, user, "c2") },
		func() (Standing, error) { return l.Check(ctx, user, true) },
		func() (Standing, error) { return l.Issue(ctx, user, "c4", c.Now().Add(time.Minute)) },
		func() (Standing, error) { return l.Penalize(ctx, user) },
	} {
		if st, err := check(); err != nil || st.Refused != RefusedLocked || st.Failures != 6 {
			t.Fatalf("a day later, locked: %+v, %v", st, err)
		}
	}
	// The administrator's unlock; then the user signs in.
	if before, err := l.Reset(ctx, user); err != nil || before.Failures != 6 {
		t.Fatalf("reset: %+v, %v", before, err)
	}
	mustIssue("c5")
	if st := reserve("c5"); st.Refused != "" || st.Failures != 1 {
		t.Fatalf("first guess after the unlock: %+v", st)
	}
	if err := l.Succeed(ctx, user, "c5"); err != nil {
		t.Fatal(err)
	}
	if st := reserve("c5"); st.Refused != RefusedSuperseded {
		t.Fatalf("a code answered correctly must be retired: %+v", st)
	}
	s, _ := l.Inspect(ctx, user)
	if s.Failures != 0 || !s.LockedUntil.IsZero() || s.Live != "" {
		t.Errorf("after the success: %+v", s)
	}
}

func TestCodeWindow(t *testing.T) {
	ctx := context.Background()
	p := DefaultPolicy
	p.CodesPerWindow = 3
	l, c, _ := newLedger(p)
	for i := range 3 {
		if st, err := l.Issue(ctx, "u", string(rune('a'+i)), c.Now().Add(time.Minute)); err != nil || st.Refused != "" {
			t.Fatalf("code %d: %+v %v", i+1, st, err)
		}
		c.Advance(10 * time.Minute)
	}
	st, _ := l.Issue(ctx, "u", "d", c.Now().Add(time.Minute))
	if st.Refused != RefusedCodeLimit || st.RetryAfter != 30*time.Minute {
		t.Fatalf("fourth code in an hour: %+v, want refused for the 30 minutes left", st)
	}
	if st, _ := l.Check(ctx, "u", false); st.Refused != "" {
		t.Errorf("the window limits new codes only, not answers: %+v", st)
	}
	if s, _ := l.Inspect(ctx, "u"); s.Live != "c" {
		t.Errorf("a refused code must not supersede the live one: live %q", s.Live)
	}
	c.Advance(30 * time.Minute)
	if st, _ := l.Issue(ctx, "u", "e", c.Now().Add(time.Minute)); st.Refused != "" {
		t.Errorf("in the next window: %+v", st)
	}
}

func TestTTLKeepsFailures(t *testing.T) {
	p := DefaultPolicy
	live := State{Live: "x", LiveExpires: t0.Add(3 * time.Minute), WindowStart: t0, WindowCodes: 1}
	if got := p.ttl(live); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("ttl of a live code in an open window = %s, want the window's end", got)
	}
	live.Failures = 1
	if got := p.ttl(live); !got.IsZero() {
		t.Errorf("ttl with a failure counted = %s, want none: failures count until a success or a reset", got)
	}
}

// TestRacingReservations: twenty sign-ins of one user answer at once, again
// and again; the number of answers allowed to be compared never passes the
// budget, by even one.
func TestRacingReservations(t *testing.T) {
	p := Policy{BackoffAfter: 30, BackoffBase: time.Hour, BackoffMax: time.Hour, MaxFailures: 30, CodesPerWindow: 10, CodeWindow: time.Hour}
	l, c, _ := newLedger(p)
	ctx := context.Background()
	if _, err := l.Issue(ctx, "u", "c", c.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var allowed, refused atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for range 5 {
				st, err := l.Reserve(ctx, "u", "c")
				switch {
				case err != nil:
					t.Error(err)
				case st.Refused == "":
					allowed.Add(1)
				default:
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 30 || refused.Load() != 70 {
		t.Errorf("%d answers allowed, %d refused; want exactly 30 and 70", allowed.Load(), refused.Load())
	}
}

func TestStoreFailure(t *testing.T) {
	l, _, s := newLedger(DefaultPolicy)
	s.SetError(errors.New("connection refused"))
	_, err := l.Reserve(context.Background(), "u", "c")
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("err %v, want ErrUnavailable", err)
	}
	if _, err := l.Check(context.Background(), "", false); !errors.Is(err, ErrUnavailable) {
		t.Errorf("no user id: %v, want ErrUnavailable", err)
	}
}
