// Package bench drives the end-to-end load scenario of `otp-local bench`:
// many people signing in at once through otp-local's Cognito API, each with
// their password and then the code from their email, timing the path from
// the password step to the email in the outbox.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/cognitoidp"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/signin"
)

// Target is the running system: in practice an *otplocal.System, whose
// pool, outbox and API this package needs and nothing more.
type Target struct {
	Pool   *cognitoidp.Server
	Outbox *seslocal.Outbox
	Client signin.Client
}

// Options shape one run.
type Options struct {
	// Concurrency is how many people sign in at the same time; each has
	// their own account, so every email has exactly one sign-in to go to.
	Concurrency int
	// SignIns is how many sign-ins to complete in all (default 10 per
	// person).
	SignIns int
	// EmailTimeout is how long a sign-in waits for its email before it
	// counts as lost (default 30s).
	EmailTimeout time.Duration
	// Progress, when set, receives a progress bar redrawn in place.
	Progress io.Writer
	// Think is how long each person takes to read the email and type the
	// code. Zero is a closed loop that saturates the machine; a person
	// takes seconds.
	Think time.Duration
}

// Result is what one run measured.
type Result struct {
	Concurrency int
	Think       time.Duration // see Options
	SignIns     int           // completed with tokens
	Failed      int           // a Cognito call failed or the code was refused
	Lost        int           // the email never arrived
	Unexpected  int           // an email for nobody waiting, or a second one
	Wall        time.Duration
	// Errors are the first few failures' messages, to say why.
	Errors []string `json:",omitempty"`
	// PasswordToEmail runs from sending the password step to SES
	// accepting the email (the outbox's receive time).
	PasswordToEmail Percentiles
	// SignIn is a whole sign-in: SRP, password, email, code, tokens.
	SignIn Percentiles
}

// Throughput is completed sign-ins per second.
func (r Result) Throughput() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return float64(r.SignIns) / r.Wall.Seconds()
}

// Percentiles summarise a set of durations.
type Percentiles struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

// Summarize computes nearest-rank percentiles.
func Summarize(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p/100*float64(len(s)))) - 1
		return s[max(i, 0)]
	}
	return Percentiles{N: len(s), P50: rank(50), P90: rank(90), P99: rank(99), Max: s[len(s)-1]}
}

// Password is every bench account's password.
const Password = "otp-local-bench-password"

// Account is the address of bench person i; the domain keeps bench mail
// apart from the demo users' in the outbox.
func Account(i int) string { return fmt.Sprintf("bench-%03d@bench.otp-local.example", i) }

// Run signs people in until opts.SignIns have finished, and reports.
func Run(ctx context.Context, t Target, opts Options) (Result, error) {
	if opts.Concurrency < 1 {
		return Result{}, errors.New("bench: concurrency must be at least 1")
	}
	if opts.SignIns <= 0 {
		opts.SignIns = 10 * opts.Concurrency
	}
	if opts.EmailTimeout <= 0 {
		opts.EmailTimeout = 30 * time.Second
	}
	if err := ensureAccounts(t.Pool, opts.Concurrency); err != nil {
		return Result{}, err
	}

	followCtx, stopFollowing := context.WithCancel(ctx)
	defer stopFollowing()
	mail := newMailroom(t.Outbox)
	go mail.follow(followCtx)

	var (
		mu        sync.Mutex
		res       = Result{Concurrency: opts.Concurrency, Think: opts.Think}
		toEmail   []time.Duration
		whole     []time.Duration
		remaining atomic.Int64
		finished  atomic.Int64
	)
	remaining.Store(int64(opts.SignIns))
	record := func(o outcome) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case o.lost:
			res.Lost++
		case o.err != nil:
			res.Failed++
			if len(res.Errors) < 5 {
				res.Errors = append(res.Errors, o.err.Error())
			}
		default:
			res.SignIns++
			toEmail = append(toEmail, o.toEmail)
			whole = append(whole, o.whole)
		}
		finished.Add(1)
	}

	bar := newProgress(opts.Progress, opts.SignIns)
	stopBar := bar.run(&finished)
	start := time.Now()
	var wg sync.WaitGroup
	for person := range opts.Concurrency {
		wg.Go(func() {
			for remaining.Add(-1) >= 0 && ctx.Err() == nil {
				// People do not arrive in step: with a think time, each one
				// starts a sign-in at a random point within it.
				if opts.Think > 0 {
					select {
					case <-time.After(rand.N(opts.Think)):
					case <-ctx.Done():
					}
				}
				record(signInOnce(ctx, t.Client, mail, Account(person), opts.EmailTimeout, opts.Think))
			}
		})
	}
	wg.Wait()
	res.Wall = time.Since(start)
	stopBar()
	stopFollowing()
	res.Unexpected = mail.unexpected()
	res.PasswordToEmail, res.SignIn = Summarize(toEmail), Summarize(whole)
	return res, ctx.Err()
}

type outcome struct {
	toEmail, whole time.Duration
	lost           bool
	err            error
}

func signInOnce(ctx context.Context, c signin.Client, mail *mailroom, to string, timeout, think time.Duration) outcome {
	began := time.Now()
	inbox := mail.expect(to)
	defer mail.forget(to)
	a, err := c.Start(ctx, to, Password)
	if err != nil {
		return outcome{err: fmt.Errorf("password step: %w", err)}
	}
	var email seslocal.Email
	select {
	case email = <-inbox:
	case <-time.After(timeout):
		return outcome{lost: true}
	case <-ctx.Done():
		return outcome{err: ctx.Err()}
	}
	code := signin.CodeIn(email)
	if think > 0 {
		select {
		case <-time.After(think):
		case <-ctx.Done():
			return outcome{err: ctx.Err()}
		}
	}
	if err := a.Answer(ctx, code, nil); err != nil {
		return outcome{err: fmt.Errorf("code step: %w", err)}
	}
	if a.Result == nil {
		return outcome{err: errors.New("code step: the emailed code was not accepted")}
	}
	return outcome{toEmail: email.ReceivedAt.Sub(a.PasswordAt), whole: time.Since(began)}
}

// ensureAccounts creates the bench people that do not exist yet.
func ensureAccounts(pool *cognitoidp.Server, n int) error {
	for i := range n {
		_, err := pool.CreateUser(cognitoidp.NewUser{Email: Account(i), Password: Password,
			Attributes: map[string]string{"name": fmt.Sprintf("Bench Person %d", i), "locale": "en"}})
		if err != nil && !strings.Contains(err.Error(), "UsernameExistsException") {
			return fmt.Errorf("bench: create %s: %w", Account(i), err)
		}
	}
	return nil
}

// mailroom follows the outbox and hands each email to the sign-in waiting
// for it. An email nobody waits for (a duplicate delivery, or one sent to
// the wrong person) is counted, never silently dropped.
type mailroom struct {
	outbox *seslocal.Outbox
	mu     sync.Mutex
	slots  map[string]chan seslocal.Email
	stray  int
	seen   int
}

func newMailroom(o *seslocal.Outbox) *mailroom {
	return &mailroom{outbox: o, slots: map[string]chan seslocal.Email{}, seen: o.Count()}
}

func (m *mailroom) expect(to string) <-chan seslocal.Email {
	ch := make(chan seslocal.Email, 1)
	m.mu.Lock()
	m.slots[to] = ch
	m.mu.Unlock()
	return ch
}

func (m *mailroom) forget(to string) {
	m.mu.Lock()
	delete(m.slots, to)
	m.mu.Unlock()
}

func (m *mailroom) follow(ctx context.Context) {
	for {
		list, err := m.outbox.Since(ctx, m.seen)
		if err != nil {
			return
		}
		m.seen += len(list)
		m.mu.Lock()
		for _, e := range list {
			if len(e.To) != 1 {
				m.stray++
				continue
			}
			ch, ok := m.slots[addressOf(e.To[0])]
			if !ok {
				m.stray++
				continue
			}
			select {
			case ch <- e:
			default: // a second email for the same sign-in
				m.stray++
			}
		}
		m.mu.Unlock()
	}
}

// addressOf drops a display name, as SES's To may carry one.
func addressOf(to string) string {
	if a, err := mail.ParseAddress(to); err == nil {
		return strings.ToLower(a.Address)
	}
	return strings.ToLower(to)
}

func (m *mailroom) unexpected() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stray
}
