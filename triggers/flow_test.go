package triggers

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// TestSignInFlows drives whole sign-ins through the three triggers as
// Cognito would, and checks what the user would notice: whether they get
// tokens, how many emails went out, and what the challenge tells them.
func TestSignInFlows(t *testing.T) {
	tests := []struct {
		name       string
		attrs      map[string]string
		run        func(t *testing.T, s *signIn)
		wantState  string
		wantEmails int
	}{
		{
			name: "password then right code signs in",
			run: func(t *testing.T, s *signIn) {
				s.start(true).password(true).answer(s.code())
			},
			wantState: stateTokens, wantEmails: 1,
		},
		{
			name: "wrong, wrong, right signs in with one email",
			run: func(t *testing.T, s *signIn) {
				s.start(true).password(true)
				s.answer(s.wrongCode())
				if s.public[ParamAttemptsLeft] != "2" || s.public[ParamNewCode] != "false" {
					t.Errorf("after one wrong answer: public %v, want attemptsLeft 2, newCode false", s.public)
				}
				s.answer(s.wrongCode()).answer(s.code())
			},
			wantState: stateTokens, wantEmails: 1,
		},
		{
			name: "three wrong answers fail the sign-in",
			run: func(t *testing.T, s *signIn) {
				s.start(true).password(true)
				s.answer(s.wrongCode()).answer(s.wrongCode()).answer(s.wrongCode())
			},
			wantState: stateFailed, wantEmails: 1,
		},
		{
			name: "custom auth without SRP_A fails and sends nothing",
			run: func(t *testing.T, s *signIn) {
				s.start(false)
			},
			wantState: stateFailed, wantEmails: 0,
		},
		{
			name: "wrong password fails and sends nothing",
			run: func(t *testing.T, s *signIn) {
				s.start(true).password(false)
			},
			wantState: stateFailed, wantEmails: 0,
		},
		{
			name: "unknown user is asked for a password, then fails like a wrong password",
			run: func(t *testing.T, s *signIn) {
				s.userNotFound = true
				s.start(true)
				s.expect(stateWantPassword)
				s.password(false)
			},
			wantState: stateFailed, wantEmails: 0,
		},
		{
			name: "unknown user fails even if the password step were marked passed",
			run: func(t *testing.T, s *signIn) {
				s.userNotFound = true
				s.start(true).password(true)
			},
			wantState: stateFailed, wantEmails: 0,
		},
		{
			name: "resend inside the cooldown keeps the same code and sends nothing",
			run: func(t *testing.T, s *signIn) {
				s.start(true).password(true)
				first := s.code()
				s.r.clock.Advance(10 * time.Second)
				s.resend()
				if s.public[ParamNewCode] != "false" || s.public[ParamResendInSeconds] != "20" {
					t.Errorf("early resend: public %v, want newCode false, resendInSeconds 20", s.public)
				}
				s.answer(first)
			},
			wantState: stateTokens, wantEmails: 1,
		},
		{
			name: "resend after the cooldown sends a new code and retires the old one",
			run: func(t *testing.T, s *signIn) {
				s.start(true).password(true)
				first := s.code()
				s.r.clock.Advance(31 * time.Second)
				s.resend()
				if s.public[ParamNewCode] != "true" || s.public[ParamResendsLeft] != "1" || s.public[ParamAttemptsLeft] != "3" {
					t.Errorf("resend: public %v, want newCode true, resendsLeft 1, attemptsLeft 3", s.public)
				}
				if s.code() == first {
					t.Fatal("the seeded generator issued the same code twice; pick another seed")
				}
				s.answer(first) // the old code no longer works
				if s.state != stateWantCode {
					t.Fatalf("old code: state %s, want another try", s.state)
				}
				s.answer(s.code())
			},
			wantState: stateTokens, wantEmails: 2,
		},
		{
			name: "a resend resets the wrong-answer count for the new code",
			run: func(t *testing.T, s *signIn) {
				s.start(true).password(true)
				s.answer(s.wrongCode()).answer(s.wrongCode())
				s.r.clock.Advance(time.Minute)
				s.resend()
				s.answer(s.wrongCode()).answer(s.wrongCode()).answer(s.code())
			},
			wantState: stateTokens, wantEmails: 2,
		},
		{
			name: "the resend limit fails the sign-in",
			run: func(t *testing.T, s *signIn) {
				s.start(true).password(true)
				for range 2 {
					s.r.clock.Advance(31 * time.Second)
					s.resend()
				}
				if s.public[ParamResendsLeft] != "0" {
					t.Errorf("after two resends: resendsLeft %q, want 0", s.public[ParamResendsLeft])
				}
				s.r.clock.Advance(31 * time.Second)
				s.resend()
			},
			wantState: stateFailed, wantEmails: 3,
		},
		{
			name: "resend requests inside the cooldown are bounded",
			run: func(t *testing.T, s *signIn) {
				s.start(true).password(true)
				for range 4 {
					s.resend()
				}
			},
			wantState: stateFailed, wantEmails: 1,
		},
		{
			name: "the right code after expiry fails the sign-in",
			run: func(t *testing.T, s *signIn) {
				s.start(true).password(true)
				s.r.clock.Advance(3*time.Minute + time.Second)
				s.answer(s.code())
			},
			wantState: stateFailed, wantEmails: 1,
		},
		{
			name: "a resend after expiry gets a fresh code",
			run: func(t *testing.T, s *signIn) {
				s.start(true).password(true)
				s.r.clock.Advance(4 * time.Minute)
				s.resend().answer(s.code())
			},
			wantState: stateTokens, wantEmails: 2,
		},
		{
			name:  "unverified email fails before any email is sent",
			attrs: copyAttrs(map[string]string{"email_verified": "false"}),
			run: func(t *testing.T, s *signIn) {
				s.start(true).password(true)
			},
			wantState: stateFailed, wantEmails: 0,
		},
		{
			name:  "no email attribute fails",
			attrs: copyAttrs(map[string]string{"email": "<delete>"}),
			run: func(t *testing.T, s *signIn) {
				s.start(true).password(true)
			},
			wantState: stateFailed, wantEmails: 0,
		},
		{
			name: "spaces and full-width digits are accepted",
			run: func(t *testing.T, s *signIn) {
				s.start(true).password(true)
				code := s.code()
				var b strings.Builder
				for i, r := range code {
					if i == 3 {
						b.WriteString(" ")
					}
					b.WriteRune('\uff10' + (r - '0'))
				}
				s.answer("  " + b.String() + " ")
			},
			wantState: stateTokens, wantEmails: 1,
		},
		{
			name: "tampered challenge metadata fails the sign-in",
			run: func(t *testing.T, s *signIn) {
				s.start(true).password(true)
				s.meta = strings.Replace(s.meta, "otp2.1.n.", "otp2.1.w.", 1)
				s.answer(s.wrongCode())
			},
			wantState: stateFailed, wantEmails: 1,
		},
		{
			name: "a code answer after a correct one cannot happen: correct mid-session fails",
			run: func(t *testing.T, s *signIn) {
				s.start(true).password(true)
				s.session = append(s.session, &events.CognitoEventUserPoolsChallengeResult{ChallengeName: challengeCustom, ChallengeResult: true, ChallengeMetadata: s.meta})
				s.answer(s.wrongCode())
			},
			wantState: stateFailed, wantEmails: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			s := r.signIn(t, tc.attrs)
			tc.run(t, s)
			if s.state != tc.wantState {
				t.Errorf("state %q, want %q\nlogs:\n%s", s.state, tc.wantState, s.logs())
			}
			if got := r.queue.count(); got != tc.wantEmails {
				t.Errorf("%d emails enqueued, want %d", got, tc.wantEmails)
			}
		})
	}
}

// TestDefineResponses pins the JSON Define returns to Cognito for each
// session shape.
func TestDefineResponses(t *testing.T) {
	srp := &events.CognitoEventUserPoolsChallengeResult{ChallengeName: challengeSRPA, ChallengeResult: true}
	pv := func(ok bool) *events.CognitoEventUserPoolsChallengeResult {
		return &events.CognitoEventUserPoolsChallengeResult{ChallengeName: challengePasswordVerifier, ChallengeResult: ok}
	}
	tests := []struct {
		name    string
		session []*events.CognitoEventUserPoolsChallengeResult
		notUser bool
		want    string
	}{
		{"SRP_A asks for the password", []*events.CognitoEventUserPoolsChallengeResult{srp}, false,
			`{"challengeName":"PASSWORD_VERIFIER","issueTokens":false,"failAuthentication":false}`},
		{"unknown user also asked for the password", []*events.CognitoEventUserPoolsChallengeResult{srp}, true,
			`{"challengeName":"PASSWORD_VERIFIER","issueTokens":false,"failAuthentication":false}`},
		{"password passed asks for the code", []*events.CognitoEventUserPoolsChallengeResult{srp, pv(true)}, false,
			`{"challengeName":"CUSTOM_CHALLENGE","issueTokens":false,"failAuthentication":false}`},
		{"password failed fails", []*events.CognitoEventUserPoolsChallengeResult{srp, pv(false)}, false,
			`{"challengeName":"","issueTokens":false,"failAuthentication":true}`},
		{"empty session fails", nil, false,
			`{"challengeName":"","issueTokens":false,"failAuthentication":true}`},
		{"custom challenge first fails", []*events.CognitoEventUserPoolsChallengeResult{{ChallengeName: challengeCustom, ChallengeResult: true}}, false,
			`{"challengeName":"","issueTokens":false,"failAuthentication":true}`},
		{"custom challenge without metadata fails", []*events.CognitoEventUserPoolsChallengeResult{srp, pv(true), {ChallengeName: challengeCustom, ChallengeResult: true}}, false,
			`{"challengeName":"","issueTokens":false,"failAuthentication":true}`},
		{"nil entry fails", []*events.CognitoEventUserPoolsChallengeResult{srp, nil}, false,
			`{"challengeName":"","issueTokens":false,"failAuthentication":true}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			var ev events.CognitoEventUserPoolsDefineAuthChallenge
			loadEvent(t, "define-auth-challenge.json", &ev)
			ev.Request.Session = tc.session
			ev.Request.UserNotFound = tc.notUser
			payload, _ := json.Marshal(ev)
			out, err := r.define.Invoke(t.Context(), payload)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Response json.RawMessage `json:"response"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if string(got.Response) != tc.want {
				t.Errorf("response %s\nwant     %s", got.Response, tc.want)
			}
		})
	}
}

// TestMalformedEvents: raw JSON Cognito would never send still gets a
// clear outcome, never a panic or a sign-in.
func TestMalformedEvents(t *testing.T) {
	r := newRig(t)
	for _, tc := range []struct {
		name    string
		h       func() (out []byte, err error)
		wantErr bool
		want    string
	}{
		{"define: not JSON", func() ([]byte, error) { return r.define.Invoke(t.Context(), []byte(`{"request":`)) }, true, ""},
		{"define: session is a string", func() ([]byte, error) {
			return r.define.Invoke(t.Context(), []byte(`{"request":{"session":"SRP_A"}}`))
		}, true, ""},
		{"verify: no private parameters", func() ([]byte, error) {
			return r.verify.Invoke(t.Context(), []byte(`{"request":{"challengeAnswer":"123456"}}`))
		}, false, `"answerCorrect":false`},
		{"verify: answer is a number", func() ([]byte, error) {
			return r.verify.Invoke(t.Context(), []byte(`{"request":{"challengeAnswer":123456,"privateChallengeParameters":{"v":"1"}}}`))
		}, false, `"answerCorrect":false`},
		{"create: asked for another challenge", func() ([]byte, error) {
			return r.create.Invoke(t.Context(), []byte(`{"request":{"challengeName":"PASSWORD_VERIFIER","userAttributes":{"email":"a@b.example","email_verified":"true"}}}`))
		}, true, ""},
		{"create: session without password step", func() ([]byte, error) {
			return r.create.Invoke(t.Context(), []byte(`{"request":{"challengeName":"CUSTOM_CHALLENGE","userAttributes":{"email":"a@b.example","email_verified":"true"},"session":[]}}`))
		}, true, ""},
		{"create: hostile email attribute", func() ([]byte, error) {
			return r.create.Invoke(t.Context(), []byte(`{"request":{"challengeName":"CUSTOM_CHALLENGE","userAttributes":{"email":"a@b.example\r\nBcc: x@evil.example","email_verified":"true"},"session":[{"challengeName":"SRP_A","challengeResult":true},{"challengeName":"PASSWORD_VERIFIER","challengeResult":true}]}}`))
		}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.h()
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v (out %s)", err, tc.wantErr, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("out %s, want it to contain %s", out, tc.want)
			}
		})
	}
	if r.queue.count() != 0 {
		t.Errorf("malformed events enqueued %d emails", r.queue.count())
	}
}
