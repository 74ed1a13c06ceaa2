package triggers

import (
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
)

// logFields decodes every log line of the rig.
func logFields(t *testing.T, r *rig) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(r.logs.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		out = append(out, m)
	}
	return out
}

// metricCount sums an EMF metric over the rig's log lines.
func metricCount(t *testing.T, r *rig, metric string) int {
	t.Helper()
	n := 0
	for _, l := range logFields(t, r) {
		if _, emf := l["_aws"]; !emf {
			continue
		}
		if v, ok := l[metric].(float64); ok {
			n += int(v)
		}
	}
	return n
}

func lastDefineReason(t *testing.T, r *rig) string {
	t.Helper()
	reason := ""
	for _, l := range logFields(t, r) {
		if l["trigger"] == "define" && l["outcome"] == outcomeFail {
			reason, _ = l["reason"].(string)
		}
	}
	return reason
}

// TestBudgetAcrossSignIns: what the per-user failure budget changes for a
// user, and for an attacker who has their password.
func TestBudgetAcrossSignIns(t *testing.T) {
	small := func(d *DefineConfig, c *CreateConfig) {
		for _, b := range []*BudgetConfig{&d.BudgetConfig, &c.BudgetConfig} {
			b.BackoffAfter, b.MaxFailures = 4, 6
		}
	}
	tests := []struct {
		name       string
		mutate     func(*DefineConfig, *CreateConfig)
		run        func(t *testing.T, r *rig)
		wantEmails int
	}{
		{
			name:   "wrong answers across sign-ins start a back-off that ends the next sign-in without an email",
			mutate: small,
			run: func(t *testing.T, r *rig) {
				a := r.signIn(t, nil).start(true).password(true)
				a.answer(a.wrongCode()).answer(a.wrongCode()).answer(a.wrongCode())
				b := r.signIn(t, nil).start(true).password(true)
				b.answer(b.wrongCode()) // the fourth failure starts the back-off
				if b.state != stateFailed || lastDefineReason(t, r) != "budget_backoff" {
					t.Fatalf("after the fourth failure: state %s, reason %q; want the sign-in ended for the back-off", b.state, lastDefineReason(t, r))
				}
				c := r.signIn(t, nil).start(true).password(true)
				if c.state != stateFailed || lastDefineReason(t, r) != "budget_backoff" {
					t.Fatalf("a sign-in inside the back-off: state %s, reason %q", c.state, lastDefineReason(t, r))
				}
				if got := metricCount(t, r, MetricLockouts); got != 1 {
					t.Errorf("Lockouts metric %d, want 1", got)
				}
				r.clock.Advance(time.Minute)
				d := r.signIn(t, nil).start(true).password(true)
				d.answer(d.code())
				if d.state != stateTokens {
					t.Fatalf("after the back-off, the right code: state %s", d.state)
				}
				if s, _ := r.ledger.Inspect(t.Context(), testSub); s.Failures != 0 {
					t.Errorf("a correct answer leaves %d failures counted, want 0", s.Failures)
				}
			},
			wantEmails: 3, // a, b and d; none for c
		},
		{
			name:   "at the budget's end the account is locked until an administrator resets it",
			mutate: small,
			run: func(t *testing.T, r *rig) {
				for failures := 0; failures < 6; {
					s := r.signIn(t, nil).start(true).password(true)
					for s.state == stateWantCode && failures < 6 {
						s.answer(s.wrongCode())
						failures++
					}
					r.clock.Advance(2 * time.Hour) // past any back-off
				}
				s := r.signIn(t, nil).start(true).password(true)
				if s.state != stateFailed || lastDefineReason(t, r) != "budget_locked" {
					t.Fatalf("after 6 failures: state %s, reason %q, want locked", s.state, lastDefineReason(t, r))
				}
				r.clock.Advance(30 * 24 * time.Hour)
				if s := r.signIn(t, nil).start(true).password(true); s.state != stateFailed {
					t.Fatal("a month later the account unlocked itself")
				}
				if _, err := r.ledger.Reset(t.Context(), testSub); err != nil {
					t.Fatal(err)
				}
				s = r.signIn(t, nil).start(true).password(true)
				s.answer(s.code())
				if s.state != stateTokens {
					t.Fatalf("after the reset: state %s", s.state)
				}
			},
			// Three wrong answers in the first sign-in; from the fourth
			// failure on, each sign-in gets one guess before the back-off
			// ends it: three more sign-ins reach six. Then the reset's.
			wantEmails: 5,
		},
		{
			name: "a newer sign-in's code supersedes the older one's",
			run: func(t *testing.T, r *rig) {
				older := r.signIn(t, nil).start(true).password(true)
				olderCode := older.code()
				newer := r.signIn(t, nil).start(true).password(true)
				older.answer(olderCode)
				if older.state == stateTokens {
					t.Fatal("the superseded code signed in")
				}
				refused := false
				for _, l := range logFields(t, r) {
					if l["trigger"] == "verify" && l["outcome"] == outcomeRefused && l["reason"] == budget.RefusedSuperseded {
						refused = true
					}
				}
				if !refused {
					t.Errorf("the answer to a superseded code was not refused uncompared:\n%s", r.logs)
				}
				newer.answer(newer.code())
				if newer.state != stateTokens {
					t.Errorf("the newer sign-in: state %s", newer.state)
				}
			},
			wantEmails: 2,
		},
		{
			name: "ten codes an hour, then no more emails until the hour is over",
			run: func(t *testing.T, r *rig) {
				for range 10 {
					if s := r.signIn(t, nil).start(true).password(true); s.state != stateWantCode {
						t.Fatalf("a code within the hourly limit was refused: %s", lastDefineReason(t, r))
					}
					r.clock.Advance(time.Minute)
				}
				if s := r.signIn(t, nil).start(true).password(true); s.state != stateFailed || lastDefineReason(t, r) != "budget_code_limit" {
					t.Fatalf("the eleventh code in an hour: state %s, reason %q", s.state, lastDefineReason(t, r))
				}
				r.clock.Advance(51 * time.Minute)
				if s := r.signIn(t, nil).start(true).password(true); s.state != stateWantCode {
					t.Fatalf("in the next hour: state %s, reason %q", s.state, lastDefineReason(t, r))
				}
			},
			wantEmails: 11,
		},
		{
			name: "an unreachable budget refuses the code step, sends nothing and says so",
			run: func(t *testing.T, r *rig) {
				r.store.SetError(errors.New("dial tcp: connection refused"))
				s := r.signIn(t, nil).start(true).password(true)
				if s.state != stateFailed || lastDefineReason(t, r) != ReasonBudgetUnavailable {
					t.Fatalf("state %s, reason %q; want the sign-in refused for budget_unavailable", s.state, lastDefineReason(t, r))
				}
				if metricCount(t, r, MetricBudgetUnavailable) != 1 || !strings.Contains(r.logs.String(), `"level":"ERROR"`) ||
					!strings.Contains(r.logs.String(), "connection refused") {
					t.Errorf("the outage is not logged as an error with its cause and counted:\n%s", r.logs)
				}
			},
			wantEmails: 0,
		},
		{
			name: "an outage during the code step refuses the answer uncompared",
			run: func(t *testing.T, r *rig) {
				s := r.signIn(t, nil).start(true).password(true)
				r.store.SetError(errors.New("throttled"))
				s.answer(s.code())
				if s.state == stateTokens {
					t.Fatal("the right code was accepted without the budget")
				}
				for _, l := range logFields(t, r) {
					if l["trigger"] == "verify" && l["outcome"] != outcomeBudgetDown {
						t.Errorf("verify outcome %v, want %s", l["outcome"], outcomeBudgetDown)
					}
				}
			},
			wantEmails: 1,
		},
		{
			name: "OTP_BUDGET_FAIL_OPEN trades the bound for availability",
			mutate: func(d *DefineConfig, c *CreateConfig) {
				d.BudgetFailOpen, c.BudgetFailOpen = true, true
			},
			run: func(t *testing.T, r *rig) {
				r.store.SetError(errors.New("connection refused"))
				s := r.signIn(t, nil).start(true).password(true)
				s.answer(s.code())
				if s.state != stateTokens {
					t.Fatalf("fail-open: state %s, reason %q", s.state, lastDefineReason(t, r))
				}
				if metricCount(t, r, MetricBudgetUnavailable) == 0 {
					t.Error("a fail-open outage is not counted")
				}
			},
			wantEmails: 1,
		},
		{
			name: "a fourth resend request inside the cooldown ends the sign-in and costs a failure",
			run: func(t *testing.T, r *rig) {
				s := r.signIn(t, nil).start(true).password(true)
				s.resend().resend().resend()
				if s.state != stateWantCode {
					t.Fatalf("three early requests: state %s", s.state)
				}
				s.resend()
				if s.state != stateFailed || lastDefineReason(t, r) != ReasonTooManyEarlyResends {
					t.Fatalf("fourth early request: state %s, reason %q", s.state, lastDefineReason(t, r))
				}
				if st, _ := r.ledger.Inspect(t.Context(), testSub); st.Failures != 1 {
					t.Errorf("early-resend abuse counted %d failures, want 1", st.Failures)
				}
			},
			wantEmails: 1,
		},
		{
			name: "after three early requests, a request once the cooldown has passed is honoured",
			run: func(t *testing.T, r *rig) {
				s := r.signIn(t, nil).start(true).password(true)
				s.resend().resend().resend()
				r.clock.Advance(31 * time.Second)
				s.resend()
				if s.state != stateWantCode || s.public[ParamNewCode] != "true" {
					t.Fatalf("state %s, newCode %q, reason %q; the README promises a new code after the cooldown", s.state, s.public[ParamNewCode], lastDefineReason(t, r))
				}
				s.answer(s.code())
				if s.state != stateTokens {
					t.Errorf("state %s", s.state)
				}
			},
			wantEmails: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mutate []func(*DefineConfig, *CreateConfig)
			if tc.mutate != nil {
				mutate = append(mutate, tc.mutate)
			}
			r := newRig(t, mutate...)
			tc.run(t, r)
			if got := r.queue.count(); got != tc.wantEmails {
				t.Errorf("%d emails enqueued, want %d", got, tc.wantEmails)
			}
		})
	}
}

// TestCreateErrorsAreOpaque: Cognito hands a trigger's error text to the
// client, so Create returns one fixed message and logs the detail.
func TestCreateErrorsAreOpaque(t *testing.T) {
	r := newRig(t)
	r.queue.err = errors.New("operation error SQS: SendMessage, https://sqs.us-east-1.amazonaws.com/123456789012/otp-send: AWS.SimpleQueueService.NonExistentQueue")
	s := r.signIn(t, nil).start(true).password(true)
	if s.state != stateError {
		t.Fatalf("state %s, want Create to fail", s.state)
	}
	if s.err == nil || !strings.Contains(s.err.Error(), ErrCodeStepFailed.Error()) || strings.Contains(s.err.Error(), "sqs") || strings.Contains(s.err.Error(), "123456789012") {
		t.Errorf("the client sees %q, want only %q", s.err, ErrCodeStepFailed)
	}
	if !strings.Contains(r.logs.String(), "NonExistentQueue") {
		t.Errorf("the cause is not logged:\n%s", r.logs)
	}
}

// TestRotationMidSignIn: the key rotates after the code is emailed, and
// every container picks the new key up; the answer still verifies against
// the previous key, a resend is signed with the new one, and both chain in
// one session.
func TestRotationMidSignIn(t *testing.T) {
	oldKey, newKey := strings.Repeat("o", 40), strings.Repeat("n", 40)
	src := &fakeKeys{current: oldKey}
	r := newRig(t)
	ring := &Keyring{src: src, refresh: KeyRefresh, now: r.clock.Now}
	if err := ring.reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	rewire(t, r, ring)

	s := r.signIn(t, nil).start(true).password(true)
	if s.private[privKeyID] != keyID([]byte(oldKey)) {
		t.Fatalf("first code signed with key %s", s.private[privKeyID])
	}
	first := s.code()
	src.current, src.previous = newKey, oldKey       // Secrets Manager rotates
	if err := ring.reload(t.Context()); err != nil { // as a fresh container would
		t.Fatal(err)
	}
	s.answer(s.wrongCode())
	s.answer(first)
	if s.state != stateTokens {
		t.Fatalf("a code signed before the rotation failed after it: %s\n%s", s.state, r.logs)
	}

	// A sign-in that straddles the rotation with a resend.
	src.current, src.previous = oldKey, ""
	if err := ring.reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	u := r.signIn(t, nil).start(true).password(true)
	src.current, src.previous = newKey, oldKey
	if err := ring.reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	u.answer(u.wrongCode())
	r.clock.Advance(31 * time.Second)
	u.resend()
	if u.private[privKeyID] != keyID([]byte(newKey)) || u.public[ParamNewCode] != "true" {
		t.Fatalf("the resent code: key %s, public %v; want the new key", u.private[privKeyID], u.public)
	}
	u.answer(u.code())
	if u.state != stateTokens {
		t.Errorf("after a resend across the rotation: %s\n%s", u.state, r.logs)
	}
}

// rewire swaps the rig's key ring.
func rewire(t *testing.T, r *rig, ring *Keyring) {
	t.Helper()
	nr := newRigWithKeys(t, r, ring)
	*r = *nr
}

// TestTokensAfterANewPasswordAreRefused: the tokens Cognito issues right
// after a temporary password is replaced never went through the code.
func TestTokensAfterANewPasswordAreRefused(t *testing.T) {
	var logs strings.Builder
	h := lambda.NewHandler(NewTokens(TokensConfig{}, NewLogger(&logs, slog.LevelDebug)).Handle)
	var ev events.CognitoEventUserPoolsPreTokenGen
	for _, tc := range []struct {
		source string
		refuse bool
	}{{TokenSourceNewPasswordChallenge, true}, {TokenSourceAuthentication, false}, {TokenSourceRefreshTokens, false}} {
		ev.TriggerSource = tc.source
		_, err := invoke(t, h, ev)
		if (err != nil) != tc.refuse || tc.refuse && !strings.Contains(err.Error(), ErrSignInAgain.Error()) {
			t.Errorf("%s: %v, want refused %v", tc.source, err, tc.refuse)
		}
	}
	if !strings.Contains(logs.String(), `"reason":"new_password_without_code"`) {
		t.Errorf("the refusal is not logged:\n%s", logs.String())
	}
}
